"""Staff PINs: stored as scrypt hashes in the store database, with a persisted lockout.

- A PIN is 4 to 8 digits, one per staff member, unique in the store (a PIN alone
  says who is signing in). Stored as `scrypt$n$r$p$salt$hash` (hashlib.scrypt, 16 MiB).
- 5 wrong PINs in a row lock staff mode for 5 minutes on every screen of the store.
  The count and the lock live in the `state` table, changed in one `BEGIN IMMEDIATE`
  transaction per try, so neither a restart nor another terminal resets them.
- Events name staff by a pseudonym: 16 hex digits of HMAC-SHA256 of the staff name
  under the store's active chain key, never the name.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import sqlite3
from dataclasses import dataclass

from edge.db import immediate

PIN_RE = re.compile(r"^\d{4,8}$")
MAX_TRIES = 5
LOCK_S = 300
_FAILS, _LOCKED = "staff:failed_pins", "staff:locked_until"
_N, _R, _P = 2**14, 8, 1


class StaffError(ValueError):
    """A staff change refused (bad PIN, name taken, PIN in use); the message says why."""


def hash_pin(pin: str) -> str:
    """An scrypt hash of a PIN with a fresh salt, as stored."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def pin_matches(pin: str, stored: str) -> bool:
    """Whether a PIN matches a stored hash (constant-time comparison)."""
    try:
        _, n, r, p, salt, digest = stored.split("$")
        want = base64.b64decode(digest)
        got = hashlib.scrypt(
            pin.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=len(want)
        )
    except ValueError:
        return False
    return hmac.compare_digest(got, want)


def staff_pseudonym(key: bytes, store: str, name: str) -> str:
    """A staff member as events name them: never the name itself."""
    return hmac.new(key, f"staff:{store}:{name}".encode(), hashlib.sha256).hexdigest()[:16]


@dataclass(frozen=True)
class SignedIn:
    """A right PIN: who signed in (`name` stays on the terminal, events get `pseudonym`)."""

    name: str
    pseudonym: str


@dataclass(frozen=True)
class WrongPin:
    """A wrong PIN; `tries_left` before the lock."""

    tries_left: int


@dataclass(frozen=True)
class Locked:
    """Staff mode is locked after too many wrong PINs; `seconds_left` of the lock."""

    seconds_left: int


SignInResult = SignedIn | WrongPin | Locked


class StaffRegistry:
    """The store's staff and their PINs, on a store database connection."""

    def __init__(self, conn: sqlite3.Connection, *, key: bytes, store: str) -> None:
        self.conn, self.key, self.store = conn, key, store

    def names(self) -> list[str]:
        """Staff names, sorted."""
        return [r[0] for r in self.conn.execute("SELECT name FROM staff ORDER BY name")]

    def add(self, name: str, pin: str, now: str) -> None:
        """Add a staff member, or give one a new PIN; raises StaffError."""
        name = name.strip()
        if not 1 <= len(name) <= 60:
            raise StaffError("a staff name has 1 to 60 characters")
        if not PIN_RE.match(pin):
            raise StaffError("a PIN is 4 to 8 digits")
        rows = self.conn.execute("SELECT name, pin_hash FROM staff").fetchall()
        if any(other != name and pin_matches(pin, h) for other, h in rows):
            raise StaffError("another staff member has this PIN: choose another")
        with immediate(self.conn):
            self.conn.execute(
                "INSERT INTO staff (name, pin_hash, added) VALUES (?, ?, ?)"
                " ON CONFLICT(name) DO UPDATE SET pin_hash = excluded.pin_hash",
                (name, hash_pin(pin), now),
            )

    def remove(self, name: str) -> bool:
        """Remove a staff member; False if there was none by that name."""
        with immediate(self.conn):
            return self.conn.execute("DELETE FROM staff WHERE name = ?", (name,)).rowcount > 0

    def _state(self, key: str) -> float:
        row = self.conn.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return float(row[0]) if row else 0.0

    def _set(self, key: str, value: float, stamp: str) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO state (key, value, updated) VALUES (?, ?, ?)",
            (key, str(value), stamp),
        )

    def _match(self, pin: str) -> str | None:
        if not PIN_RE.match(pin):
            return None
        rows = self.conn.execute("SELECT name, pin_hash FROM staff").fetchall()
        return next((name for name, stored in rows if pin_matches(pin, stored)), None)

    def sign_in(self, pin: str, now: float, stamp: str) -> SignInResult:
        """Check a PIN against every staff member's; counts wrong ones, locks after 5."""
        # The hashes are checked before the write lock is taken (scrypt takes tens of
        # ms a staff member); the lock decides what the result counts for.
        match = self._match(pin)
        with immediate(self.conn):
            locked_until = self._state(_LOCKED)
            if now < locked_until:
                return Locked(int(locked_until - now + 0.999))
            if match is not None:
                self._set(_FAILS, 0, stamp)
                return SignedIn(match, staff_pseudonym(self.key, self.store, match))
            fails = int(self._state(_FAILS)) + 1
            if fails >= MAX_TRIES:
                self._set(_FAILS, 0, stamp)
                self._set(_LOCKED, now + LOCK_S, stamp)
                return Locked(LOCK_S)
            self._set(_FAILS, fails, stamp)
            return WrongPin(MAX_TRIES - fails)
