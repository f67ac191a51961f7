"""The store database: one SQLite file in WAL mode shared by the agent and the kiosk.

`synchronous=FULL` because a Pi loses power without warning: a committed event
must survive a pulled plug. The cost of that fsync is paid once per group commit
(edge/eventlog.py), not once per event.

Several processes open the same file (the agent, `edge status`, the kiosk), and the
first start of a store may find them all starting at once: migrations therefore run
inside one `BEGIN IMMEDIATE` transaction, which takes SQLite's write lock before
reading which migrations are pending. Whoever comes second waits (busy timeout), then
finds nothing left to do. Readers that must not write (`edge status`) open the file
read-only and get `StoreDbMissing` when there is nothing to read yet.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from edge.migrations import store_migrations


def connect(path: Path | str, *, busy_timeout_ms: int = 5000) -> sqlite3.Connection:
    """A connection with the store's pragmas (WAL, synchronous=FULL, busy timeout)."""
    conn = sqlite3.connect(
        str(path), timeout=busy_timeout_ms / 1000, check_same_thread=False, isolation_level=None
    )
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    use_wal(conn, busy_timeout_ms / 1000)
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def use_wal(conn: sqlite3.Connection, timeout_s: float) -> None:
    """Switch a (new) file to WAL; the mode is stored in the file, so later opens only read it."""
    if conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
        return
    # Switching needs an exclusive lock, and SQLite answers "database is locked" at once
    # instead of waiting when another process holds one (two first starts): retry.
    deadline = time.monotonic() + timeout_s
    delay = 0.005
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.1)


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One `BEGIN IMMEDIATE` transaction on an autocommit connection: committed, or rolled back.

    IMMEDIATE takes the write lock before the first read, so a compare-and-set inside
    it sees what no other process can change until it commits (the busy timeout makes
    the others wait).
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        # SQLite rolls back by itself on some errors (SQLITE_FULL): only roll back
        # what is still open, or the ROLLBACK's own error hides the real one.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


class StoreDbMissing(RuntimeError):
    """The store database does not exist yet, or its schema is not set up yet."""


def open_store_db(path: Path | str, *, busy_timeout_ms: int = 5000) -> sqlite_utils.Database:
    """Open (creating and migrating as needed) the store database."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = sqlite_utils.Database(connect(path, busy_timeout_ms=busy_timeout_ms))
    try:
        migrate(db)
    except BaseException:
        db.close()
        raise
    return db


def migrate(db: sqlite_utils.Database) -> None:
    """Apply pending migrations under SQLite's write lock; safe from many processes at once."""
    if not store_migrations.pending(db):  # the usual case: a read, no lock taken
        return
    conn = db.conn
    # IMMEDIATE: take the write lock *before* reading what is pending, so two first
    # starts cannot both decide to create the tables (a deferred transaction would
    # also fail at once with "database is locked" when upgrading to a write).
    conn.execute("BEGIN IMMEDIATE")
    try:
        store_migrations.apply(db)  # nested steps become savepoints of this transaction
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def open_store_db_readonly(
    path: Path | str, *, busy_timeout_ms: int = 5000
) -> sqlite_utils.Database:
    """Open an existing, set-up store database for reading only; never creates or migrates."""
    path = Path(path)
    if not path.exists():
        raise StoreDbMissing(
            f"no store database at {path} yet: the agent creates it when it first starts"
            " (touchpoint edge run)"
        )
    conn = sqlite3.connect(
        f"{path.absolute().as_uri()}?mode=ro",
        uri=True,
        timeout=busy_timeout_ms / 1000,
        check_same_thread=False,
        isolation_level=None,
    )
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    db = sqlite_utils.Database(conn)
    try:
        pending = store_migrations.pending(db)
    except BaseException:
        db.close()
        raise
    if pending:
        db.close()
        raise StoreDbMissing(
            f"the store database at {path} is not set up yet: the agent is creating it"
            " (or was stopped while doing so); try again in a moment"
        )
    return db
