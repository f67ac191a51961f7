"""The dashboard's pages (filled in by the dashboard work): `route_handlers()` is the hook
`create_app` calls. Until then, `/` shows who is logged in and the logout button."""

from __future__ import annotations

from litestar import Request, get
from litestar.response import Template


@get("/", include_in_schema=False)
async def index(request: Request) -> Template:
    """The start page after login."""
    return Template("index.html", context={"user": request.user})


def route_handlers() -> list:
    """The dashboard's route handlers."""
    return [index]
