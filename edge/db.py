"""The store database: one SQLite file in WAL mode shared by the agent and the kiosk.

`synchronous=FULL` because a Pi loses power without warning: a committed event
must survive a pulled plug. The cost of that fsync is paid once per group commit
(edge/eventlog.py), not once per event.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from edge.migrations import store_migrations


def connect(path: Path | str, *, busy_timeout_ms: int = 5000) -> sqlite3.Connection:
    """A connection with the store's pragmas (WAL, synchronous=FULL, busy timeout)."""
    conn = sqlite3.connect(
        str(path), timeout=busy_timeout_ms / 1000, check_same_thread=False, isolation_level=None
    )
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def open_store_db(path: Path | str, *, busy_timeout_ms: int = 5000) -> sqlite_utils.Database:
    """Open (creating and migrating as needed) the store database."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = sqlite_utils.Database(connect(path, busy_timeout_ms=busy_timeout_ms))
    store_migrations.apply(db)
    return db
