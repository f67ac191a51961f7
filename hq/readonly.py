"""Read-only access to the HQ database, for readers that must never write (the web app).

The same `query` / `dialect` shape as the backends, so `hq.db.Db` and every reader
built on it (feeds, statuses) work unchanged. Three locks on writing, any one enough:

- SQLite: the file is opened through a `file:…?mode=ro` URI (no migration, no WAL
  switch, never created) and `PRAGMA query_only` is set on the connection;
- PostgreSQL: the DSN is meant for a read-only role, and every session is opened with
  `default_transaction_read_only = on` anyway.

Connections live in a small pool: requests run in worker threads, and one shared
connection would serialise them all.
"""

from __future__ import annotations

import queue
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from hq.storage import StoreUnavailable


class ReadOnlyStore:
    """A pool of read-only connections answering `query(sql, params)`."""

    def __init__(self, dialect: str, connect: Callable[[], Any], size: int = 4) -> None:
        self.dialect = dialect
        self.placeholder = "?" if dialect == "sqlite" else "%s"
        self._connect = connect
        self._idle: queue.LifoQueue[Any] = queue.LifoQueue()
        self._all: list[Any] = []
        self._slots = queue.Queue[None]()
        for _ in range(size):
            self._slots.put(None)

    @contextmanager
    def _connection(self, timeout_s: float = 30.0) -> Iterator[Any]:
        try:
            self._slots.get(timeout=timeout_s)
        except queue.Empty:
            raise StoreUnavailable("no database connection free in time") from None
        try:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                conn = self._open()
            try:
                yield conn
            except BaseException:
                # A connection that failed mid-query may be broken: drop it.
                self._drop(conn)
                raise
            self._idle.put(conn)
        finally:
            self._slots.put(None)

    def _open(self) -> Any:
        try:
            conn = self._connect()
        except (sqlite3.Error, OSError) as exc:
            raise StoreUnavailable(f"{self.dialect}: {exc}") from exc
        except Exception as exc:  # psycopg.OperationalError without importing psycopg
            raise StoreUnavailable(f"{self.dialect}: {' '.join(str(exc).split())}") from exc
        self._all.append(conn)
        return conn

    def _drop(self, conn: Any) -> None:
        try:
            conn.close()
        finally:
            if conn in self._all:
                self._all.remove(conn)

    def query(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        """Rows of one read statement (StoreUnavailable when the database cannot answer)."""
        with self._connection() as conn:
            try:
                cur = conn.execute(sql, tuple(params))
                return cur.fetchall() if cur.description is not None else []
            except sqlite3.OperationalError as exc:
                raise StoreUnavailable(f"SQLite: {exc}") from exc

    def sibling(self, size: int = 1, statement_timeout_ms: int | None = None) -> ReadOnlyStore:
        """Another pool on the same database with connections of its own (the web app's
        event loop reads over one); on PostgreSQL, `statement_timeout_ms` bounds each
        statement on them."""
        connect = self._connect
        if statement_timeout_ms is not None and self.dialect == "postgresql":

            def connect() -> Any:
                conn = self._connect()
                conn.execute(f"SET statement_timeout = {int(statement_timeout_ms)}", ())
                return conn

        return ReadOnlyStore(self.dialect, connect, size)

    def close(self) -> None:
        """Close every connection the pool opened."""
        for conn in list(self._all):
            self._drop(conn)


def sqlite_reader(path: Path, size: int = 4, busy_timeout_s: float = 5.0) -> ReadOnlyStore:
    """Read-only pool on an existing SQLite file (`mode=ro`: never created nor migrated)."""
    uri = f"file:{quote(str(Path(path).resolve()))}?mode=ro"

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(uri, uri=True, timeout=busy_timeout_s, check_same_thread=False)
        conn.execute("PRAGMA query_only = ON")
        return conn

    return ReadOnlyStore("sqlite", connect, size)


def pg_reader(dsn: str, size: int = 4, connect_timeout_s: int = 10) -> ReadOnlyStore:
    """Read-only pool on PostgreSQL: every session starts read-only, whatever the role."""
    import psycopg

    def connect() -> psycopg.Connection:
        conn = psycopg.connect(
            dsn,
            autocommit=True,
            connect_timeout=connect_timeout_s,
            options="-c default_transaction_read_only=on -c statement_timeout=30000",
        )
        conn.execute("SET default_transaction_read_only = on")
        return _PgConn(conn)

    return ReadOnlyStore("postgresql", connect, size)


class _PgConn:
    """A psycopg connection with sqlite3's `execute(...).fetchall()` shape and a health check."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def execute(self, sql: str, params: tuple) -> Any:
        import psycopg

        try:
            return self._conn.execute(sql, params)
        except psycopg.OperationalError as exc:
            raise StoreUnavailable("PostgreSQL: " + " ".join(str(exc).split())) from exc

    def close(self) -> None:
        self._conn.close()
