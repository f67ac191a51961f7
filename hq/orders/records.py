"""Pick-up order rows (`hq import orders`, `POST /api/v1/orders`): checked, pure.

One row is one whole order, so a rejected row never leaves half an order behind. The
lines are a column of their own: in CSV `SKU:QTY` items separated by `|`
(`DRILL-1:1|JACKET-1:2`, the quantity after the last colon); in JSONL an array of
`{"product_id", "quantity"}` objects (or the same compact text). A line's number is its
place in the order, from 1. The loyalty number becomes pseudonyms under every chain key
here, so no raw number travels further than this module.

A cancellation needs only the order id and `status: cancelled`; other fields in that
row are not read.
"""

from __future__ import annotations

import re

import msgspec

from edge.identity import Pseudonymiser
from hq.imports.fields import Bad, external_id, integer, moment, store_id, text
from hq.imports.profiles import loyalty_keys

FIELDS = (
    "order_id",
    "store",
    "lines",
    "promised_at",
    "first_name",
    "loyalty_number",
    "code",
    "status",
)
STATUSES = ("placed", "cancelled")
MAX_LINES = 100  # what a down/orders message carries (sync/wire.py PickupOrder)
MAX_QTY = 1000
MAX_ORDER_ID = 64
_CODE = re.compile(r"[A-Za-z0-9-]{1,64}")
_CONTROL = re.compile(r"[\x00-\x1f|]")


class Line(msgspec.Struct, frozen=True, array_like=True):
    """One order line: its number in the order (from 1), the product and the quantity."""

    line: int
    sku: str
    qty: int


class OrderRecord(msgspec.Struct, frozen=True):
    """An order ready to store; `keys` are (key_id, pseudonym) of its loyalty number."""

    line: int  # the row's line in the file (or its place in an API request)
    order_id: str
    status: str
    store: str = ""
    lines: tuple[Line, ...] = ()
    promised_at: str = ""
    first_name: str = ""
    code: str = ""
    keys: tuple[tuple[str, str], ...] = ()


def parse_order(
    row: dict, line: int, pseudonymiser: Pseudonymiser, code_prefix: str
) -> OrderRecord:
    """One input row as an OrderRecord; raises Bad with the reason."""
    order_id = external_id(row, "order_id")
    if len(order_id) > MAX_ORDER_ID:
        raise Bad(f"order_id: longer than {MAX_ORDER_ID} characters")
    status = text(row, "status", required=False, max_len=20) or "placed"
    if status not in STATUSES:
        raise Bad(f"status: {status!r} is not placed or cancelled")
    if status == "cancelled":
        return OrderRecord(line=line, order_id=order_id, status=status)
    code = text(row, "code", max_len=64)
    if not _CODE.fullmatch(code):
        raise Bad(f"code: {code!r} is not a pick-up code (letters, digits and -)")
    if code_prefix and not code.startswith(code_prefix):
        raise Bad(f"code: {code!r} does not start with {code_prefix!r} (orders.code_prefix)")
    return OrderRecord(
        line=line,
        order_id=order_id,
        status=status,
        store=store_id(row),
        lines=parse_lines(row.get("lines")),
        promised_at=moment(row, "promised_at", date_ok=False),
        first_name=text(row, "first_name", max_len=100),
        code=code,
        keys=tuple(sorted(loyalty_keys(pseudonymiser, row))),
    )


def parse_lines(value: object) -> tuple[Line, ...]:
    """The `lines` field: compact text (CSV) or an array of objects (JSONL); raises Bad."""
    if isinstance(value, str):
        items = [_compact_item(part) for part in value.split("|")] if value.strip() else []
    elif isinstance(value, list):
        items = [_object_item(item) for item in value]
    elif value is None:
        items = []
    else:
        raise Bad("lines: expected SKU:QTY|SKU:QTY or an array of {product_id, quantity}")
    if not items:
        raise Bad("lines: an order needs at least one line")
    if len(items) > MAX_LINES:
        raise Bad(f"lines: more than {MAX_LINES} lines")
    seen: set[str] = set()
    for sku, _ in items:
        if sku in seen:
            raise Bad(f"lines: product {sku!r} twice (one line per product)")
        seen.add(sku)
    return tuple(Line(n, sku, qty) for n, (sku, qty) in enumerate(items, start=1))


def _sku(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Bad("lines: a line without a product id")
    sku = value.strip()
    if len(sku) > 64 or _CONTROL.search(sku):
        raise Bad(f"lines: {sku[:20]!r} is not a product id (at most 64 characters, no |)")
    return sku


def _qty(value: object, sku: str) -> int:
    try:
        return integer({"quantity": value}, "quantity", lo=1, hi=MAX_QTY)
    except Bad as exc:
        raise Bad(f"lines: quantity of {sku!r}: {str(exc).removeprefix('quantity: ')}") from None


def _compact_item(part: str) -> tuple[str, int]:
    sku, sep, qty = part.strip().rpartition(":")
    if not sep:
        raise Bad(f"lines: {part.strip()[:40]!r} is not SKU:QTY")
    sku = _sku(sku)
    return sku, _qty(qty.strip(), sku)


def _object_item(item: object) -> tuple[str, int]:
    if isinstance(item, str):
        return _compact_item(item)
    if not isinstance(item, dict) or set(item) - {"product_id", "quantity"}:
        raise Bad("lines: each line is {product_id, quantity}")
    sku = _sku(item.get("product_id"))
    return sku, _qty(item.get("quantity"), sku)
