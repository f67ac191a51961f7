"""The feed API, `/api/v1`: stores and their status, a store's feed, the chain roll-up.

Every handler reads through the app's read-only database view and checks the caller's
store scope: a store outside it is 403, and the chain roll-up (which sums every store)
is 403 for anyone limited to some stores. Field names and meanings are those of
`touchpoint hq feed` (docs/metrics.md); docs/api.md shows a curl call for each.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get
from litestar.concurrency import sync_to_thread
from litestar.exceptions import NotFoundException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import PathParameter, QueryParameter

from edge.config import ID_PATTERN
from hq import deflated, feeds
from hq.alerts import Alert, open_alerts
from hq.orders import order_status
from hq.orders.status import OrderStatus
from hq.status import StoreStatus, store_statuses, utc_now
from hq.web.auth import require_chain, require_store
from hq.web.representation import accepts_gzip, feed_response, wants_csv
from hq.web.schemas import FeedBucket

# Far enough for any real feed, near enough that local-day arithmetic never overflows.
EARLIEST, LATEST = date(2000, 1, 1), date(2199, 12, 31)
# A bound on one request's work: the chain's hours add up every store's.
MAX_DAYS = {
    ("store", "hour"): 92,
    ("store", "day"): 1100,
    ("chain", "hour"): 7,
    ("chain", "day"): 366,
}

Period = Annotated[Literal["hour", "day"], QueryParameter(description="hourly or daily buckets")]
From = Annotated[
    date | None,
    QueryParameter(name="from", description="first local day, YYYY-MM-DD (default: today)"),
]
To = Annotated[date | None, QueryParameter(description="last local day (default: `from`)")]
Format = Annotated[
    Literal["json", "csv"] | None,
    QueryParameter(
        description="json or csv; without it, the Accept header decides (json by default)"
    ),
]
StoreId = Annotated[str, PathParameter(description="store id", pattern=ID_PATTERN)]
OrderId = Annotated[str, PathParameter(description="order id", min_length=1, max_length=64)]
Lang = Annotated[Literal["nl", "en"], QueryParameter(description="language of the text")]

_ERRORS = {
    304: ResponseSpec(None, description="Not Modified: the If-None-Match ETag is current"),
    400: ResponseSpec(None, description="a bad parameter, with the reason"),
    401: ResponseSpec(None, description="no valid bearer token or session"),
    403: ResponseSpec(None, description="outside the caller's store scope"),
}


def _days(request: Request, first: date | None, last: date | None, period: str, of: str):
    tz = ZoneInfo(request.app.state.web.cfg.hq.timezone)
    lo = first or datetime.now(tz).date()
    hi = last or lo
    for d in (lo, hi):
        if not EARLIEST <= d <= LATEST:
            raise ValidationException(f"dates must lie between {EARLIEST} and {LATEST}")
    if hi < lo:
        raise ValidationException("`to` is before `from`")
    if (hi - lo).days + 1 > MAX_DAYS[of, period]:
        raise ValidationException(
            f"at most {MAX_DAYS[of, period]} days of {period} buckets at once; ask in parts"
        )
    return lo, hi


def _known(db, store: str) -> bool:
    return bool(
        db.q("SELECT 1 FROM hq_stores WHERE store = ?", (store,))
        or db.q("SELECT 1 FROM hq_store_registry WHERE store = ?", (store,))
    )


class ApiV1(Controller):
    """Feed API, version 1."""

    path = "/api/v1"
    tags = ("feeds",)

    @get("/stores", sync_to_thread=True, responses={401: _ERRORS[401]})
    def stores(self, request: Request) -> list[StoreStatus]:
        """Every store in the caller's scope: online, last seen, backlog, open gaps, devices."""
        web = request.app.state.web
        scope = request.user.stores
        return store_statuses(
            web.db,
            utc_now(),
            set(scope) if scope is not None else None,
            expected=web.cfg.hq.stores,
            offline_after_s=web.cfg.alerts.unseen_s,
        )

    @get("/alerts", sync_to_thread=True, responses={401: _ERRORS[401]})
    def alerts(self, request: Request) -> list[Alert]:
        """Open alerts (hq/alerts.py) of the stores in the caller's scope; the chain's
        own (dead letters of no store) only for callers who see every store."""
        scope = request.user.stores
        return open_alerts(request.app.state.web.db, set(scope) if scope is not None else None)

    @get(
        "/stores/{store:str}/feed",
        responses={
            **_ERRORS,
            404: ResponseSpec(None, description="head office knows no such store"),
        },
    )
    async def store_feed(
        self,
        request: Request,
        store: StoreId,
        period: Period = "day",
        first: From = None,
        to: To = None,
        format: Format = None,
    ) -> Response[list[FeedBucket]]:
        """A store's buckets for local days `from`..`to`: JSON rows or CSV, with an ETag."""
        require_store(request.user, store)
        lo, hi = _days(request, first, to, period, "store")
        web = request.app.state.web
        csv = wants_csv(request, format)
        # One read of the store's pages: the signature, and the JSON itself unless the
        # client is revalidating (then most answers are 304) or wants CSV. It runs on
        # the event loop, over the loop's own connection: a few dozen rows by primary
        # key cost less than handing the request to a thread and back (docs/api.md).
        bodies = not csv and not request.headers.get("if-none-match")
        gzip = not csv and deflated.AVAILABLE and accepts_gzip(request)
        body: bytes | None = None
        if gzip:  # the pages' deflated pieces joined (hq/deflated.py)
            signature, gzip, body = feeds.store_page_gzip(
                web.loop_db, store, period, lo, hi, bodies
            )
        if not gzip:  # also while a page waits for its piece after an upgrade
            signature, body = feeds.store_page(web.loop_db, store, period, lo, hi, bodies)
        if not signature and not _known(web.loop_db, store):
            raise NotFoundException(f"no store {store!r} at head office")
        # Rows to derive (CSV, or a page still waiting for its body) go to a thread.
        derive = csv or (bodies and body is None)
        db = web.db if derive else web.loop_db

        def json_body() -> bytes:
            if body is not None:
                return body
            if gzip:  # revalidating, and the ETag did not match
                joined = feeds.store_page_gzip(db, store, period, lo, hi)[2]
                # Every page was complete a moment ago, and pieces are never taken away.
                assert joined is not None
                return joined
            return feeds.store_feed_json(db, store, period, lo, hi)

        def answer() -> Response:
            return feed_response(
                request,
                ("store", store, period, lo, hi),
                period,
                signature,
                lambda: feeds.store_feed(db, store, period, lo, hi),
                csv,
                json_body,
                "gzip" if gzip else None,
            )

        return await sync_to_thread(answer) if derive else answer()

    @get("/chain/feed", sync_to_thread=True, responses=_ERRORS)
    def chain_feed(
        self,
        request: Request,
        period: Period = "day",
        first: From = None,
        to: To = None,
        format: Format = None,
    ) -> Response[list[FeedBucket]]:
        """The chain roll-up over every store (403 for callers limited to some stores)."""
        require_chain(request.user)
        lo, hi = _days(request, first, to, period, "chain")
        db = request.app.state.web.db
        return feed_response(
            request,
            ("chain", period, lo, hi),
            period,
            feeds.feed_signature(db, None, period, lo, hi),
            lambda: feeds.chain_feed(db, period, lo, hi),
            wants_csv(request, format),
        )

    @get(
        "/orders/{order:str}/status",
        sync_to_thread=True,
        tags=("orders",),
        responses={
            **{k: v for k, v in _ERRORS.items() if k != 304},
            404: ResponseSpec(None, description="head office knows no such order"),
        },
    )
    def order(self, request: Request, order: OrderId, lang: Lang = "nl") -> OrderStatus:
        """A click & collect order's status in the shopper's words (the web shop's track &
        trace): the same text the kiosk shows. 403 when its store is outside the scope."""
        found = order_status(request.app.state.web.db, order, lang)
        if found is None:
            raise NotFoundException(f"no order {order!r} at head office")
        require_store(request.user, found.store)
        return found
