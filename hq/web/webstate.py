"""The web app's own small writable state, shared by every `hq serve` worker process.

`hq serve --workers N` runs N processes; a browser's requests land on any of them, so
what a login leaves behind must be seen by all. It lives in a SQLite file of its own
(`web.state_file`, next to the users file by default), never in the HQ database,
which the app only reads:

- `secrets`: the CSRF secret, made by whichever process starts first, read by the rest
  (a form served by one worker is posted to another);
- `sessions`: sha256 of the cookie value, user, expiry (wall clock, seconds): logout
  deletes the row, so the cookie is worthless in every worker at once;
- `login_failures`: failed login attempts by key and time, for the rate limiter.

WAL lets the workers read while one writes; every statement is its own short
transaction (autocommit), behind a per-process lock since requests run in threads.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import threading
from pathlib import Path

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS sessions (key TEXT PRIMARY KEY, user TEXT NOT NULL,"
    " expires REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS login_failures (key TEXT NOT NULL, at REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures (key, at)",
)


class WebStateError(RuntimeError):
    """The state file cannot be opened or written (a person must fix its place or rights)."""


class WebState:
    """One process's connection to the shared state file."""

    def __init__(self, path: Path, busy_timeout_s: float = 10.0) -> None:
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        with self._lock:
            self._open()

    def _open(self) -> sqlite3.Connection:
        if self._conn is not None:
            return self._conn
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Session hashes and failed logins are nobody else's business: 0600 from birth.
            os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
            conn = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout_s,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            for stmt in SCHEMA:
                conn.execute(stmt)
        except (OSError, sqlite3.Error) as exc:
            raise WebStateError(f"web state file {self.path}: {exc}") from exc
        self._conn = conn
        return conn

    def q(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Rows of one statement, run as its own transaction (reopening after `close`)."""
        with self._lock:
            return self._open().execute(sql, params).fetchall()

    def secret(self, name: str) -> str:
        """A random secret shared by every process: the first to ask makes it."""
        self.q(
            "INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (name, secrets.token_urlsafe(32)),
        )
        return self.q("SELECT value FROM secrets WHERE name = ?", (name,))[0][0]

    def close(self) -> None:
        """Close this process's connection (the next statement opens it again)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
