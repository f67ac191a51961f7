"""`POST /api/v1/orders`: the web shop sends one click & collect order (or its change).

The one handler of the web app that writes. It does so through a writable connection
of its own (`OrderIntake`), opened by `hq serve` when `web.orders` is on; every other
handler keeps reading through the read-only view. The order is checked and stored by
`hq.orders.accept`, exactly as `hq import orders` does a JSONL row, so the fields,
checks and reasons are the file import's (docs/imports.md).

Who may send: a bearer token with the `orders` right (`hq token add NAME --orders`),
for stores in its scope. A browser session never may (403): the API has no CSRF
protection, and needs none while cookies cannot write.

The body is personal data (a first name, maybe a loyalty number): it is never logged,
and an answer never repeats it (the reasons name fields, not their values, for the
personal ones).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import anyio.to_thread
import msgspec
from litestar import Controller, Request, Response, post
from litestar.exceptions import PermissionDeniedException
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody, Schema
from litestar.openapi.spec.enums import OpenAPIType

from hq.db import Db
from hq.orders import OrderRules, accept
from hq.orders.records import FIELDS, MAX_LINES, MAX_ORDER_ID
from hq.storage import HqStore

log = logging.getLogger("hq.web")

# One order of MAX_LINES lines fits many times over; the app's own limit is the same.
MAX_BODY = 64 * 1024


@dataclass
class OrderIntake:
    """The writable connection `POST /api/v1/orders` stores orders with, and its rules."""

    store: HqStore
    rules: OrderRules

    @property
    def db(self) -> Db:
        """The store seen through '?' SQL."""
        return Db(self.store)

    def close(self) -> None:
        """Release the connection."""
        self.store.close()


def open_order_intake(cfg, secrets) -> OrderIntake:
    """The intake of an HQ config: its own connection (`web.orders_dsn_file` on
    PostgreSQL, a role that may write the order tables), never migrating the schema;
    SQLite waits for `hq run`'s writers (busy timeout) rather than failing."""
    from hq.backends import open_hq_store
    from hq.orders import rules_from_config

    keys = {k.id: secrets.read(k.file) for k in cfg.identity.keys}
    store = open_hq_store(cfg.database, secrets, dsn_file=cfg.web.orders_dsn_file, migrate=False)
    return OrderIntake(store, rules_from_config(cfg, keys))


def _text(description: str, max_length: int | None = None) -> Schema:
    return Schema(type=OpenAPIType.STRING, description=description, max_length=max_length)


_LINE = Schema(
    type=OpenAPIType.OBJECT,
    required=["product_id", "quantity"],
    properties={
        "product_id": _text("the product (catalog sku)", 64),
        "quantity": Schema(type=OpenAPIType.INTEGER, minimum=1, maximum=1000),
    },
)
ORDER_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    description="One order in the fields of `hq import orders` (JSONL); a cancellation"
    " needs only order_id and status.",
    required=["order_id"],
    properties={
        "order_id": _text("the web shop's order id (idempotency key)", MAX_ORDER_ID),
        "store": _text("the pick-up store"),
        "lines": Schema(
            one_of=[
                Schema(type=OpenAPIType.ARRAY, items=_LINE, max_items=MAX_LINES),
                _text("compact form: SKU:QTY|SKU:QTY"),
            ]
        ),
        "promised_at": _text("promised ready time, ISO 8601 with offset"),
        "first_name": _text("the shopper's first name (shown to staff only)", 100),
        "loyalty_number": _text("optional; pseudonymised at once, never stored raw"),
        "code": _text("the pick-up code (orders.code_prefix)", 64),
        "status": Schema(type=OpenAPIType.STRING, enum=["placed", "cancelled"]),
    },
)


@dataclass
class _OrderOperation(Operation):
    """The POST's OpenAPI operation, with the order as its request body."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            content={"application/json": OpenAPIMediaType(schema=ORDER_SCHEMA)}, required=True
        )


class OrderAnswer(msgspec.Struct):
    """What became of the order: `created` (201), `changed` or `unchanged` (200)."""

    order_id: str
    result: str
    version: int
    status_url: str


class OrderRefused(msgspec.Struct):
    """Why the order was not stored (422 a bad order, 409 a conflict with what is held)."""

    status_code: int
    detail: str
    order_id: str
    field: str | None


def _refused(status: int, detail: str, order_id: str = "") -> Response[OrderRefused]:
    name = detail.split(":", 1)[0]
    field = name if name in FIELDS else None
    return Response(OrderRefused(status, detail, order_id, field), status_code=status)


def _stores_touched(db: Db, obj: dict[str, Any]) -> set[str]:
    """The stores an order names or already belongs to (a change may not cross the scope)."""
    stores = {obj["store"]} if isinstance(obj.get("store"), str) else set()
    order_id = obj.get("order_id")
    if isinstance(order_id, str):
        stores |= {
            s for (s,) in db.q("SELECT store FROM hq_orders WHERE order_id = ?", (order_id,))
        }
    return stores


class OrdersV1(Controller):
    """The web shop's orders, version 1."""

    path = "/api/v1/orders"
    tags = ("orders",)

    @post(
        "/",
        operation_class=_OrderOperation,
        request_max_body_size=MAX_BODY,
        responses={
            200: ResponseSpec(OrderAnswer, description="unchanged, or changed (version raised)"),
            401: ResponseSpec(None, description="no valid bearer token"),
            403: ResponseSpec(
                None, description="no `orders` right, a session, or a store outside the scope"
            ),
            409: ResponseSpec(OrderRefused, description="refused by what head office holds"),
            413: ResponseSpec(None, description="the body is larger than 64 KiB"),
            422: ResponseSpec(OrderRefused, description="a bad order: the field and the reason"),
            503: ResponseSpec(None, description="this server takes no orders, or no database"),
        },
    )
    async def post_order(self, request: Request) -> Response:
        """Store one click & collect order for its pick-up store (idempotent by order id;
        a change, such as a cancellation, raises its version). 201 with the version and
        `Location` of its status; never echoes the shopper's data."""
        web = request.app.state.web
        who = request.user
        if who.kind != "token" or "orders" not in who.rights:
            raise PermissionDeniedException("sending orders needs a token with the orders right")
        intake: OrderIntake | None = web.orders
        if intake is None:
            return Response(
                {"status_code": 503, "detail": "this server takes no orders (web.orders)"},
                status_code=503,
            )
        body = await request.body()
        try:
            obj = msgspec.json.decode(body)
        except msgspec.DecodeError:
            return _refused(422, "the body is not JSON")
        if not isinstance(obj, dict):
            return _refused(422, "send one order as a JSON object")
        outside = sorted(
            s for s in await _to_thread(_stores_touched, intake.db, obj) if not who.may_see(s)
        )
        if outside:
            raise PermissionDeniedException(f"store {outside[0]!r} is outside your scope")
        (out,) = await _to_thread(accept, intake.db, [obj], intake.rules)
        if out.result == "rejected":
            log.info("order %r from %s refused: %s", out.order_id, who.name, out.reason)
            return _refused(409 if out.conflict else 422, out.reason, out.order_id)
        result = "created" if out.new else "unchanged" if out.result == "unchanged" else "changed"
        log.info("order %r from %s: %s, version %d", out.order_id, who.name, result, out.version)
        url = f"/api/v1/orders/{quote(out.order_id, safe='')}/status"
        return Response(
            OrderAnswer(out.order_id, result, out.version, url),
            status_code=201 if out.new else 200,
            headers={"Location": url},
        )


async def _to_thread(fn, *args):
    return await anyio.to_thread.run_sync(lambda: fn(*args))
