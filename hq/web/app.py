"""The head-office web app: one Litestar application for the feed API and the dashboard.

`create_app` is the only factory: it is handed the HQ config and a read-only database
view (`hq/readonly.py`) and builds everything from them, so tests drive the real app
in-process or under uvicorn with nothing patched. Route handlers come from
`hq/web/api.py` (feed API, `/api/v1`), `hq/web/orders.py` (`POST /api/v1/orders`, the
one handler that writes, through its own `OrderIntake` connection when one is given),
`hq/web/login.py` (login, logout) and `hq/web/pages.py` (the dashboard's own
`route_handlers()`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from litestar import Litestar, MediaType, Request, Response, get
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import HTTPException, NotAuthorizedException
from litestar.middleware.base import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from hq.config import HqConfig
from hq.db import Db
from hq.storage import StoreUnavailable
from hq.web import api, login, pages
from hq.web.accounts import Accounts
from hq.web.auth import PUBLIC_PATHS, AuthMiddleware, LoginLimiter, Sessions
from hq.web.headers import security_headers
from hq.web.orders import OrderIntake, OrdersV1
from hq.web.representation import BodyCache
from hq.web.webstate import WebState as SharedState

log = logging.getLogger("hq.web")
HERE = Path(__file__).parent


LOOP_STATEMENT_TIMEOUT_MS = 5000


@dataclass
class WebState:
    """What the handlers share, reached as `request.app.state.web`."""

    cfg: HqConfig
    db: Db
    accounts: Accounts
    shared: SharedState
    sessions: Sessions
    limiter: LoginLimiter
    cache: BodyCache
    # Reads made on the event loop itself (a store's feed pages), over a connection of
    # their own: they never wait for one the threads hold.
    loop_db: Db
    orders: OrderIntake | None = None  # the web shop's orders: the only writer


def resolve(path: str, base_dir: Path) -> Path:
    """A config path: absolute as given, relative to the config file's directory."""
    p = Path(path)
    return p if p.is_absolute() else base_dir / p


def is_api(path: str) -> bool:
    """Whether a path belongs to the machine-facing side (JSON errors, no redirects)."""
    return path.startswith(("/api/", "/schema"))


def _unauthorized(request: Request, exc: NotAuthorizedException) -> Response:
    if is_api(request.url.path):
        return Response(
            {"status_code": 401, "detail": exc.detail},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="touchpoint-hq"'},
        )
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Redirect(login.login_url(target), status_code=303)


def _http_error(request: Request, exc: HTTPException) -> Response:
    body = {"status_code": exc.status_code, "detail": exc.detail}
    if getattr(exc, "extra", None):
        body["extra"] = exc.extra
    if is_api(request.url.path) or exc.status_code != 403:
        return Response(body, status_code=exc.status_code, headers=exc.headers or None)
    return Response(
        f"{exc.status_code}: {exc.detail}", status_code=exc.status_code, media_type=MediaType.TEXT
    )


def _unavailable(request: Request, exc: StoreUnavailable) -> Response:
    log.warning("%s %s: database unavailable: %s", request.method, request.url.path, exc)
    return Response(
        {"status_code": 503, "detail": "the head-office database is not answering"},
        status_code=503,
        headers={"Retry-After": "5"},
    )


@get("/health", include_in_schema=True, sync_to_thread=True, tags=["health"])
def health(request: Request) -> Response[dict[str, str]]:
    """Liveness and database reachability; served without authentication."""
    web: WebState = request.app.state.web
    try:
        web.db.q("SELECT 1")
    except StoreUnavailable:
        return Response({"status": "degraded", "database": "unavailable"}, status_code=503)
    return Response({"status": "ok", "database": "ok"})


def create_app(
    cfg: HqConfig,
    reader: Any,
    *,
    base_dir: Path,
    extra_handlers: Sequence[Any] = (),
    on_startup: Sequence[Any] = (),
    on_shutdown: Sequence[Any] = (),
    orders: OrderIntake | None = None,
) -> Litestar:
    """The web app over `reader` (a read-only store), with `cfg.web`'s users and tokens;
    `orders`: the writable intake of `POST /api/v1/orders` (None: it answers 503)."""
    w = cfg.web
    shared = SharedState(resolve(w.state_file, base_dir))
    # A page read that hangs would hold every request of the worker: 5 s at most.
    loop_reader = reader.sibling(1, statement_timeout_ms=LOOP_STATEMENT_TIMEOUT_MS)
    state = WebState(
        cfg=cfg,
        db=Db(reader),
        loop_db=Db(loop_reader),
        accounts=Accounts(resolve(w.users_file, base_dir), resolve(w.tokens_file, base_dir)),
        shared=shared,
        sessions=Sessions(shared, w.session_minutes * 60.0),
        limiter=LoginLimiter(shared, w.login_attempts, w.login_window_s),
        cache=BodyCache(),
        orders=orders,
    )
    static = HERE / "static"
    handlers = [
        health,
        api.ApiV1,
        OrdersV1,
        *login.route_handlers(),
        *pages.route_handlers(),
        create_static_files_router(path="/static", directories=[static], include_in_schema=False),
        *extra_handlers,
    ]
    return Litestar(
        route_handlers=handlers,
        state=_state(state),
        middleware=[DefineMiddleware(AuthMiddleware, exclude=PUBLIC_PATHS)],
        before_send=[security_headers],
        csrf_config=CSRFConfig(
            # One secret for every worker process: a form may be posted to another one.
            secret=shared.secret("csrf"),
            cookie_secure=w.cookie_secure,
            cookie_samesite="strict",
            cookie_httponly=True,
            # Only the forms need it. The API's one write (POST /api/v1/orders) takes
            # bearer tokens only and refuses sessions, so a cookie cannot write.
            exclude=["^/api/", "^/health$", "^/schema", "^/static/"],
        ),
        template_config=TemplateConfig(directory=HERE / "templates", engine=JinjaTemplateEngine),
        openapi_config=OpenAPIConfig(
            title="touchpoint-edge head office",
            version="1",
            description="Per-store visitor and conversion feeds (docs/api.md, docs/metrics.md).",
            render_plugins=[JsonRenderPlugin()],
            use_handler_docstrings=True,
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(type="http", scheme="bearer"),
                    "session": SecurityScheme(
                        type="apiKey", name="tp_session", security_scheme_in="cookie"
                    ),
                }
            ),
            security=[{"bearer": []}, {"session": []}],
        ),
        exception_handlers={
            NotAuthorizedException: _unauthorized,
            HTTPException: _http_error,
            StoreUnavailable: _unavailable,
        },
        # Forms and one order are small: nothing needs a large request body.
        request_max_body_size=64 * 1024,
        on_startup=list(on_startup),
        on_shutdown=[*on_shutdown, shared.close, loop_reader.close],
    )


def _state(web: WebState):
    from litestar.datastructures import State

    return State({"web": web})
