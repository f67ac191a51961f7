"""Authentication for `hq serve`: bearer tokens, session cookies, login rate limits.

- API clients send `Authorization: Bearer <token>`; dashboard users log in once and
  carry a session cookie (HttpOnly, SameSite=Lax, Secure unless configured off),
  which the API accepts too, so the pages' live refresh can call it.
- Sessions live in the web state file every worker process shares (hq/web/webstate.py),
  keyed by the sha256 of the cookie value: logout ends the session for good in every
  worker, and a user removed from the users file (or given another scope) counts at
  their next request.
- Failed logins are counted per (user, address) and per address, across the workers;
  past the limit the login answers 429 with Retry-After until the window has passed.
- Without credentials the API answers 401 (JSON) and a page redirects to /login;
  scopes are checked where the store is known (`require_store`, `require_chain`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from collections.abc import Callable

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.middleware.authentication import (
    AbstractAuthenticationMiddleware,
    AuthenticationResult,
)

from hq.web.accounts import Principal
from hq.web.webstate import WebState

log = logging.getLogger("hq.web")
SESSION_COOKIE = "tp_session"
# Paths served to anyone: the health check, the login page and its static files.
PUBLIC_PATHS = ["^/health$", "^/login$", "^/static/"]


class Sessions:
    """Server-side sessions: random cookie values, stored by their hash, with a lifetime,
    in the state file every worker process shares (hq/web/webstate.py)."""

    def __init__(
        self, state: WebState, lifetime_s: float, clock: Callable[[], float] = time.time
    ) -> None:
        self.lifetime_s = lifetime_s
        self._state = state
        self._clock = clock

    @staticmethod
    def _key(cookie: str) -> str:
        return hashlib.sha256(cookie.encode()).hexdigest()

    def create(self, user: str) -> str:
        """A new session for `user`; returns the cookie value."""
        cookie = secrets.token_urlsafe(32)
        now = self._clock()
        # Expired sessions are swept here, so the table never outgrows the logins.
        self._state.q("DELETE FROM sessions WHERE expires <= ?", (now,))
        self._state.q(
            "INSERT INTO sessions (key, user, expires) VALUES (?, ?, ?)",
            (self._key(cookie), user, now + self.lifetime_s),
        )
        return cookie

    def user(self, cookie: str) -> str | None:
        """The user of a live session, or None."""
        rows = self._state.q(
            "SELECT user FROM sessions WHERE key = ? AND expires > ?",
            (self._key(cookie), self._clock()),
        )
        return rows[0][0] if rows else None

    def end(self, cookie: str) -> None:
        """Log out: the cookie value is worthless from now on, in every worker."""
        self._state.q("DELETE FROM sessions WHERE key = ?", (self._key(cookie),))


class LoginLimiter:
    """Failed login attempts per key in a sliding window, counted across worker processes."""

    def __init__(
        self,
        state: WebState,
        attempts: int,
        window_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.attempts = attempts
        self.window_s = window_s
        self._state = state
        self._clock = clock

    @staticmethod
    def _keys(user: str, address: str) -> tuple[str, str]:
        # Per user and address; per address alone (one address trying many names).
        return json.dumps([user, address]), json.dumps([address])

    def retry_after(self, user: str, address: str) -> int:
        """Seconds until a login of `user` from `address` may be tried again (0 = now)."""
        now = self._clock()
        waits = []
        pair, alone = self._keys(user, address)
        for key, limit in ((pair, self.attempts), (alone, 4 * self.attempts)):
            # The limit-th newest failure in the window: the wait runs from it.
            rows = self._state.q(
                "SELECT at FROM login_failures WHERE key = ? AND at > ?"
                " ORDER BY at DESC LIMIT 1 OFFSET ?",
                (key, now - self.window_s, limit - 1),
            )
            if rows:
                waits.append(rows[0][0] + self.window_s - now)
        return max(1, int(max(waits)) + 1) if waits else 0

    def failed(self, user: str, address: str) -> None:
        """Count a failed attempt (and forget attempts older than the window)."""
        now = self._clock()
        self._state.q("DELETE FROM login_failures WHERE at <= ?", (now - self.window_s,))
        pair, alone = self._keys(user, address)
        self._state.q(
            "INSERT INTO login_failures (key, at) VALUES (?, ?), (?, ?)", (pair, now, alone, now)
        )

    def succeeded(self, user: str, address: str) -> None:
        """A good login clears that user's count from that address."""
        self._state.q("DELETE FROM login_failures WHERE key = ?", (self._keys(user, address)[0],))


def client_address(connection: ASGIConnection) -> str:
    """The peer address (a reverse proxy in front should be the only peer)."""
    return connection.client.host if connection.client else "unknown"


class AuthMiddleware(AbstractAuthenticationMiddleware):
    """Sets `request.user` to the Principal of a bearer token or a session cookie."""

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        """The principal, or NotAuthorizedException (401 for the API, /login for pages)."""
        web = connection.app.state.web
        header = connection.headers.get("authorization", "")
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise NotAuthorizedException("use Authorization: Bearer <token>")
            principal = web.accounts.check_token(token.strip())
            if principal is None:
                log.warning("unknown bearer token from %s", client_address(connection))
                raise NotAuthorizedException("unknown or revoked token")
            return AuthenticationResult(principal, "token")
        cookie = connection.cookies.get(SESSION_COOKIE)
        if cookie:
            name = web.sessions.user(cookie)
            principal = web.accounts.user(name) if name else None
            if principal is not None:
                return AuthenticationResult(principal, "session")
        raise NotAuthorizedException("log in, or send a bearer token")


def require_store(principal: Principal, store: str) -> None:
    """403 unless the principal's scope covers the store."""
    if not principal.may_see(store):
        raise PermissionDeniedException(f"store {store!r} is outside your scope")


def require_chain(principal: Principal) -> None:
    """403 for a scoped principal: the chain roll-up sums stores outside their scope."""
    if not principal.all_stores:
        raise PermissionDeniedException("the chain roll-up needs access to every store")
