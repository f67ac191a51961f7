"""Authentication for `hq serve`: bearer tokens, session cookies, login rate limits.

- API clients send `Authorization: Bearer <token>`; dashboard users log in once and
  carry a session cookie (HttpOnly, SameSite=Lax, Secure unless configured off),
  which the API accepts too, so the pages' live refresh can call it.
- Sessions live in this process's memory, keyed by the sha256 of the cookie value:
  a restart logs everyone out, logout ends the session for good, and a user removed
  from the users file (or given another scope) counts at their next request.
- Failed logins are counted per (user, address) and per address; past the limit the
  login answers 429 with Retry-After until the window has passed.
- Without credentials the API answers 401 (JSON) and a page redirects to /login;
  scopes are checked where the store is known (`require_store`, `require_chain`).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.middleware.authentication import (
    AbstractAuthenticationMiddleware,
    AuthenticationResult,
)

from hq.web.accounts import Principal

log = logging.getLogger("hq.web")
SESSION_COOKIE = "tp_session"
# Paths served to anyone: the health check, the login page and its static files.
PUBLIC_PATHS = ["^/health$", "^/login$", "^/static/"]


@dataclass
class Session:
    """One logged-in browser."""

    user: str
    expires: float  # time.monotonic()


class Sessions:
    """Server-side sessions: random cookie values, stored by their hash, with a lifetime."""

    def __init__(self, lifetime_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.lifetime_s = lifetime_s
        self._clock = clock
        self._by_hash: dict[str, Session] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(cookie: str) -> str:
        return hashlib.sha256(cookie.encode()).hexdigest()

    def create(self, user: str) -> str:
        """A new session for `user`; returns the cookie value."""
        cookie = secrets.token_urlsafe(32)
        now = self._clock()
        with self._lock:
            # Expired sessions are swept here, so the table never outgrows the logins.
            for key in [k for k, s in self._by_hash.items() if s.expires <= now]:
                del self._by_hash[key]
            self._by_hash[self._key(cookie)] = Session(user, now + self.lifetime_s)
        return cookie

    def user(self, cookie: str) -> str | None:
        """The user of a live session, or None."""
        with self._lock:
            s = self._by_hash.get(self._key(cookie))
            if s is None or s.expires <= self._clock():
                return None
            return s.user

    def end(self, cookie: str) -> None:
        """Log out: the cookie value is worthless from now on."""
        with self._lock:
            self._by_hash.pop(self._key(cookie), None)


class LoginLimiter:
    """Failed login attempts per key in a sliding window."""

    def __init__(
        self, attempts: int, window_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.attempts = attempts
        self.window_s = window_s
        self._clock = clock
        self._failures: dict[tuple, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple, now: float) -> deque[float]:
        q = self._failures.get(key, deque())
        while q and q[0] <= now - self.window_s:
            q.popleft()
        return q

    def retry_after(self, user: str, address: str) -> int:
        """Seconds until a login of `user` from `address` may be tried again (0 = now)."""
        now = self._clock()
        waits = []
        with self._lock:
            # Per user and address; per address alone at 4x (one address trying many names).
            for key, limit in (((user, address), self.attempts), ((address,), 4 * self.attempts)):
                q = self._recent(key, now)
                if len(q) >= limit:
                    waits.append(q[len(q) - limit] + self.window_s - now)
        return max(1, int(max(waits)) + 1) if waits else 0

    def failed(self, user: str, address: str) -> None:
        """Count a failed attempt."""
        now = self._clock()
        with self._lock:
            for key in ((user, address), (address,)):
                q = self._recent(key, now)
                q.append(now)
                self._failures[key] = q

    def succeeded(self, user: str, address: str) -> None:
        """A good login clears that user's count from that address."""
        with self._lock:
            self._failures.pop((user, address), None)


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
