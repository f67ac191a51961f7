"""Dashboard login and logout: a CSRF-protected form, rate-limited, session cookies.

The form carries Litestar's CSRF token (double submit: a cookie and a hidden field
that must agree), so another site cannot log a browser in or out. A successful login
always starts a new session (no fixation) and redirects only to a local path.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any
from urllib.parse import quote

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from hq.web.auth import SESSION_COOKIE, client_address
from hq.web.i18n import LANG_COOKIE

log = logging.getLogger("hq.web")

TEXT = {
    "en": {
        "title": "Head office: log in",
        "user": "User name",
        "password": "Password",
        "submit": "Log in",
        "wrong": "Wrong user name or password.",
        "limited": "Too many failed attempts. Try again in {s} seconds.",
        "out": "You are logged out.",
    },
    "nl": {
        "title": "Hoofdkantoor: inloggen",
        "user": "Gebruikersnaam",
        "password": "Wachtwoord",
        "submit": "Inloggen",
        "wrong": "Onjuiste gebruikersnaam of wachtwoord.",
        "limited": "Te veel mislukte pogingen. Probeer het over {s} seconden opnieuw.",
        "out": "U bent uitgelogd.",
    },
}


class LoginForm(msgspec.Struct, kw_only=True):
    """The login form's fields."""

    username: str = ""
    password: str = ""
    next: str = "/"


def language(request: Request) -> str:
    """'nl' when the browser prefers Dutch (or asks ?lang=nl, or the dashboard's language
    switch chose it), else 'en'."""
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if asked in TEXT:
        return asked
    accept = request.headers.get("accept-language", "").lower()
    return "nl" if accept.startswith("nl") else "en"


def safe_next(target: str | None) -> str:
    """A local path to go to after login; anything else (another site) becomes '/'."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


def login_url(target: str) -> str:
    """The login page, coming back to `target` afterwards."""
    return "/login" if safe_next(target) == "/" else f"/login?next={quote(target, safe='/')}"


def _page(request: Request, status: int = 200, message: str = "", **extra: Any) -> Template:
    lang = language(request)
    return Template(
        "login.html",
        context={
            "t": TEXT[lang],
            "lang": lang,
            "message": message,
            "next": safe_next(request.query_params.get("next")),
        }
        | extra,
        status_code=status,
    )


@get("/login", include_in_schema=False)
async def login_page(request: Request) -> Template:
    """The login form."""
    message = TEXT[language(request)]["out"] if "out" in request.query_params else ""
    return _page(request, message=message)


@post("/login", include_in_schema=False, sync_to_thread=True, status_code=303)
def login(
    request: Request,
    data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response:
    """Check the password (scrypt, rate-limited) and start a session."""
    web = request.app.state.web
    t = TEXT[language(request)]
    address = client_address(request)
    wait = web.limiter.retry_after(data.username, address)
    if wait:
        log.warning(
            "login of %r from %s refused: rate limited for %d s", data.username, address, wait
        )
        page = _page(request, 429, t["limited"].format(s=wait), next=safe_next(data.next))
        page.headers["Retry-After"] = str(wait)
        return page
    principal = web.accounts.check_password(data.username, data.password)
    if principal is None:
        log.warning("failed login of %r from %s", data.username, address)
        web.limiter.failed(data.username, address)
        return _page(request, 401, t["wrong"], next=safe_next(data.next))
    web.limiter.succeeded(data.username, address)
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        web.sessions.end(old)
    cookie = Cookie(
        key=SESSION_COOKIE,
        value=web.sessions.create(principal.name),
        path="/",
        httponly=True,
        secure=web.cfg.web.cookie_secure,
        samesite="lax",
        max_age=int(web.sessions.lifetime_s),
    )
    return Redirect(safe_next(data.next), status_code=303, cookies=[cookie])


@post("/logout", include_in_schema=False, sync_to_thread=True, status_code=303)
def logout(request: Request) -> Redirect:
    """End the session for good and go back to the login page."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        request.app.state.web.sessions.end(cookie)
    out = Redirect("/login?out=1", status_code=303)
    out.delete_cookie(SESSION_COOKIE, path="/")
    return out


def route_handlers() -> list:
    """The login and logout handlers."""
    return [login_page, login, logout]
