"""Security headers on every response of the web app, errors and static files included."""

from __future__ import annotations

from litestar.types import Message, Scope

# Charts and scripts are served by head office itself (intranets often have no internet);
# nothing comes from elsewhere. Chart libraries set inline styles, hence 'unsafe-inline'
# for styles only: scripts stay 'self'.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)
HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
_NAMES = {name for name, _ in HEADERS}


async def security_headers(message: Message, scope: Scope) -> None:
    """A `before_send` hook: HEADERS on every HTTP response, `Cache-Control: no-store` unless set.

    A hook on the app's own send, so it also covers error responses, 404s and the
    static files (route middleware would not see those).
    """
    if message["type"] != "http.response.start":
        return
    headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _NAMES]
    if not any(k.lower() == b"cache-control" for k, _ in headers):
        headers.append((b"cache-control", b"no-store"))
    message["headers"] = headers + HEADERS
