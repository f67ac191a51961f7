"""The dashboard's pages: stores overview, store page, chain page, language switch.

Each page is server-rendered HTML and also JSON (`?format=json`, the same fields and
charts, see `hq/web/views.py`), which the page's own script polls for its live
refresh with the session cookie. Every page reads through the app's read-only
database view and shows only the stores in the user's scope; a store page outside it
is 403. plotly.js is served from the installed plotly package, never from elsewhere.
"""

from __future__ import annotations

import importlib.resources
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Request, Response, get
from litestar.datastructures import Cookie
from litestar.exceptions import NotFoundException
from litestar.params import PathParameter
from litestar.response import File, Redirect, Template

from hq.alerts import open_alerts
from hq.status import store_statuses
from hq.web.auth import require_store
from hq.web.dashboard import chain_page, overview_page, store_days, store_page
from hq.web.i18n import LANG_COOKIE, LANGUAGES, Texts, negotiate
from hq.web.login import safe_next
from hq.web.views import View, alert_fields, chain_view, overview_view, store_view
from sync.wire import CHAIN

PLOTLY = "/vendor/plotly.min.js"
YEAR_S = 365 * 24 * 3600


def texts(request: Request) -> Texts:
    """The request's language: the switch's cookie, else Accept-Language, else Dutch."""
    return Texts(
        negotiate(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))
    )


def _statuses(request: Request, now: datetime, only: set[str] | None = None):
    """The statuses and open alerts of the user's stores (of `only`, when given)."""
    web = request.app.state.web
    scope = request.user.stores
    stores = set(scope) if scope is not None else None
    if only is not None:
        stores = only if stores is None else stores & only
    statuses = store_statuses(
        web.db, now, stores, expected=web.cfg.hq.stores, offline_after_s=web.cfg.alerts.unseen_s
    )
    return statuses, open_alerts(web.db, stores)


def _cards(request: Request, now: datetime, only: set[str] | None = None):
    return store_days(request.app.state.web.db, now, *_statuses(request, now, only))


def _page_number(request: Request) -> int:
    asked = request.query_params.get("page", "1")
    return int(asked) if asked.isdigit() and len(asked) < 7 else 1


def _render(
    request: Request, template: str, view: View, page: str, **context: Any
) -> Template | Response:
    tz = ZoneInfo(request.app.state.web.cfg.hq.timezone)
    view.put("updated", view.t.clock(datetime.now(tz)))
    if request.query_params.get("format") == "json":
        return Response(view.as_json())
    here = request.url.path
    # The live refresh asks for what this page shows (its search and page) as JSON.
    asked = {k: v for k, v in request.query_params.items() if k != "format"}
    refresh = f"{here}?{urlencode(asked | {'format': 'json'})}"
    return Template(
        template,
        context={
            "t": view.t,
            "view": view,
            "view_json": view.as_json(),
            "layout": view.layout,
            "page": page,
            "user": request.user.name,
            "here": here,
            "refresh_url": refresh,
            "refresh_s": request.app.state.web.cfg.web.dashboard_refresh_s,
        }
        | context,
    )


@get("/", include_in_schema=False, sync_to_thread=True)
def overview(request: Request) -> Template | Response:
    """Every store in the user's scope: status, today against last week, NPS, alerts."""
    t = texts(request)
    now = datetime.now(UTC)
    statuses, alerts = _statuses(request, now)
    query = request.query_params.get("q", "")[:64]
    shown = overview_page(statuses, alerts, query, _page_number(request))
    cards = store_days(request.app.state.web.db, now, shown.statuses, alerts)
    # What belongs to no store (dead letters without a store id) is for whoever sees all.
    general = [a for a in open_alerts(request.app.state.web.db, {CHAIN}) if request.user.all_stores]
    view = overview_view(t, cards, shown)
    alert_fields(view, general, now)
    return _render(request, "overview.html", view, "overview", title=t("overview.title"),
                   cards=cards, shown=shown, query=query, general=general)  # fmt: skip


@get("/stores/{store:str}", include_in_schema=False, sync_to_thread=True)
def store(request: Request, store: Annotated[str, PathParameter()]) -> Template | Response:
    """One store: hourly and 30-day charts, click & collect, kiosk, data quality, devices."""
    require_store(request.user, store)
    t = texts(request)
    now = datetime.now(UTC)
    cards = _cards(request, now, {store})
    if not cards:
        raise NotFoundException(f"no store {store!r} at head office")
    page = store_page(request.app.state.web.db, cards[0], now)
    return _render(request, "store.html", store_view(t, page), "store",
                   title=t("store.title", name=cards[0].name), card=cards[0])  # fmt: skip


@get("/chain", include_in_schema=False, sync_to_thread=True)
def chain(request: Request) -> Template | Response:
    """The roll-up of the user's stores, ranked by conversion and by change in visitors."""
    t = texts(request)
    now = datetime.now(UTC)
    cards = _cards(request, now)
    day = now.astimezone(ZoneInfo(request.app.state.web.cfg.hq.timezone)).date()
    everything = request.query_params.get("all") == "1"
    data = chain_page(request.app.state.web.db, day, cards, everything)
    return _render(request, "chain.html", chain_view(t, data), "chain",
                   title=t("chain.title"), cards=cards, chain=data)  # fmt: skip


@get("/lang/{code:str}", include_in_schema=False)
async def switch_language(request: Request, code: Annotated[str, PathParameter()]) -> Redirect:
    """The language switch: remember the choice in a cookie and go back."""
    if code not in LANGUAGES:
        raise NotFoundException(f"no language {code!r}; choose one of {', '.join(LANGUAGES)}")
    back = Redirect(safe_next(request.query_params.get("next")), status_code=303)
    back.cookies.append(
        Cookie(
            key=LANG_COOKIE,
            value=code,
            path="/",
            max_age=YEAR_S,
            samesite="lax",
            httponly=True,
            secure=request.app.state.web.cfg.web.cookie_secure,
        )
    )
    return back


@cache
def plotly_js() -> Path:
    """plotly.min.js inside the installed plotly package (no CDN: intranets are offline)."""
    path = importlib.resources.files("plotly") / "package_data" / "plotly.min.js"
    return Path(str(path))


@get(PLOTLY, include_in_schema=False)
async def plotly(request: Request) -> File:
    """The chart library, cached by the browser for a day."""
    return File(plotly_js(), content_disposition_type="inline", media_type="text/javascript",
                headers={"Cache-Control": "private, max-age=86400"})  # fmt: skip


def route_handlers() -> list:
    """The dashboard's route handlers (`create_app` adds them)."""
    return [overview, store, chain, switch_language, plotly]
