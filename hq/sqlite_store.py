"""HqStore on SQLite: the embedded default, one file, one writer at a time.

One connection per instance, guarded by a lock so the ingester thread and a status
reader may share it. Several instances (or processes) on one file are correct but
serialised: every write transaction starts with BEGIN IMMEDIATE, so the second
writer waits (busy_timeout) instead of failing to upgrade a read lock.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from edge.db import use_wal
from hq import schema
from hq.imports.bulk import SqliteBulk
from hq.imports.writer import ImportWrites
from hq.ingest_marks import mark_ingested
from hq.sql import dead_letter_dicts, dead_letter_params, shared_sql, state_params
from hq.storage import (
    EventRow,
    IngestOutcome,
    StoreMark,
    StoreUnavailable,
    above_floor,
    advance_watermark,
    by_store,
    is_stale_will,
    make_mark,
    screen,
)
from sync.wire import StoreState

_INSERT = (
    "INSERT INTO hq_events (store, seq, id, type, ts, device, data, clock_ok, boot_id, error,"
    " received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (store, seq) DO NOTHING"
)
_SQL = shared_sql("?")

_DOOR_COUNTS = """
SELECT store, json_extract(data, '$.door') AS door, substr(ts, 1, 13) || ':00' AS hour,
    sum(CASE WHEN json_extract(data, '$.direction') = 'in'
        THEN json_extract(data, '$.count') ELSE 0 END),
    sum(CASE WHEN json_extract(data, '$.direction') = 'out'
        THEN json_extract(data, '$.count') ELSE 0 END)
FROM hq_events
WHERE type = 'door.count' AND error IS NULL {where}
GROUP BY store, door, hour
ORDER BY store, door, hour
"""


class SqliteHqStore(ImportWrites):
    """HQ events, watermarks and store states in one SQLite file."""

    bulk = SqliteBulk()
    dialect = "sqlite"
    placeholder = "?"

    def __init__(
        self,
        path: Path,
        *,
        busy_timeout_s: float = 30.0,
        feed_marks: bool = True,
        migrate: bool = True,
    ) -> None:
        # Off only in bench/hq_feed.py, to measure ingest without feed upkeep.
        self.feed_marks = feed_marks
        path = Path(path)
        self._path = path
        self._feed_lock: int | None = None
        path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE … COMMIT).
        self._conn = sqlite3.connect(
            path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
        )
        self._lock = threading.Lock()
        try:
            # Several components of one `hq run` (ingest, feeds, lookups) open a new file
            # together: the WAL switch is retried, as on the store (edge/db.py).
            use_wal(self._conn, busy_timeout_s)
            # An ack goes back to the store once we commit: it must survive power loss.
            self._conn.execute("PRAGMA synchronous=FULL")
            # Deleted rows are overwritten, so an erased pseudonym is gone from the file.
            self._conn.execute("PRAGMA secure_delete=ON")
            self._conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
            # Off for a connection that only writes orders (`hq serve`): `hq run` migrates.
            if migrate:
                self._migrate()
        except sqlite3.OperationalError as exc:
            self._conn.close()
            raise StoreUnavailable(f"SQLite: {exc}") from exc
        except BaseException:
            self._conn.close()
            raise

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Cursor]:
        with self._lock:
            try:
                cur = self._conn.cursor()
                cur.execute("BEGIN IMMEDIATE")
                try:
                    yield cur
                except BaseException:
                    self._conn.rollback()
                    raise
                cur.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                # Busy past the timeout, disk full or failing: an outage, not bad data.
                if self._conn.in_transaction:
                    self._conn.rollback()
                raise StoreUnavailable(f"SQLite: {exc}") from exc

    def transaction(self):
        """A write transaction (BEGIN IMMEDIATE … COMMIT) yielding a cursor."""
        return self._write()

    def query(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        """Rows of one read statement."""
        return self._read(sql, tuple(params))

    def try_feed_lock(self) -> bool:
        """Take the one feed worker's lock (a lock file beside the database) if free.

        Held until this store is closed, so a second `hq run` on the same file stands by.
        """
        if self._feed_lock is None:
            fd = os.open(f"{self._path}.feeds.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            self._feed_lock = fd
        return True

    def checkpoint(self) -> None:
        """Move the WAL into the database file and truncate it (after an erasure)."""
        self._read("PRAGMA wal_checkpoint(TRUNCATE)")

    def _read(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.OperationalError as exc:
                raise StoreUnavailable(f"SQLite: {exc}") from exc

    def _migrate(self) -> None:
        with self._write() as cur:
            cur.execute(schema.VERSION_TABLE)
            current = cur.execute("SELECT max(version) FROM schema_version").fetchone()[0] or 0
            for version, statements in schema.migrations("sqlite", current):
                for stmt in statements:
                    cur.execute(stmt)
                cur.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))

    def ingest(self, rows: list[EventRow], received_at: str) -> IngestOutcome:
        """Store rows idempotently and advance each touched store's watermark, in one transaction."""
        outcome = IngestOutcome(inserted=0, duplicates=0, acked={}, max_seq={})
        if not rows:
            return outcome
        with self._write() as cur:
            for store, sent in by_store(screen(rows)):
                group = above_floor(cur, "?", store, sent)
                cur.executemany(
                    _INSERT,
                    [
                        (
                            r.store,
                            r.seq,
                            r.id,
                            r.type,
                            r.ts,
                            r.device,
                            r.data,
                            r.clock_ok,
                            r.boot_id,
                            r.error,
                            received_at,
                        )
                        for r in group
                    ],
                )
                inserted = cur.rowcount if group else 0
                dups = len(sent) - inserted
                if self.feed_marks:
                    mark_ingested(cur, "?", group, received_at)
                cur.execute(
                    "INSERT INTO hq_stores (store) VALUES (?) ON CONFLICT DO NOTHING", (store,)
                )
                acked, max_seq = cur.execute(
                    "SELECT acked_through, max_seq FROM hq_stores WHERE store = ?", (store,)
                ).fetchone()
                if inserted:
                    acked = advance_watermark(
                        lambda p: cur.execute(_SQL.prefix, p).fetchone(), store, acked, inserted
                    )
                max_seq = max(max_seq, sent[-1].seq)
                cur.execute(
                    "UPDATE hq_stores SET acked_through = ?, max_seq = ?,"
                    " duplicates = duplicates + ?, events = events + ?, last_batch_at = ?"
                    " WHERE store = ?",
                    (acked, max_seq, dups, inserted, received_at, store),
                )
                outcome.inserted += inserted
                outcome.duplicates += dups
                outcome.acked[store] = acked
                outcome.max_seq[store] = max_seq
        return outcome

    def dead_letter(
        self, topic: str, store: str | None, reason: str, payload: bytes, received_at: str
    ) -> None:
        """Keep an invalid payload with the reason it was refused."""
        with self._write() as cur:
            cur.execute(
                _SQL.dead_letter, dead_letter_params(topic, store, reason, payload, received_at)
            )

    def record_state(self, store: str, state: StoreState, received_at: str | None) -> bool:
        """Apply an `up/state` birth or will; False (nothing changed) for a stale will."""
        with self._write() as cur:
            row = cur.execute("SELECT boot_id FROM hq_stores WHERE store = ?", (store,)).fetchone()
            if is_stale_will(row[0] if row else None, state):
                return False
            cur.execute(_SQL.state_upsert, state_params(store, state, received_at))
        return True

    def marks(self) -> dict[str, StoreMark]:
        """Every known store's watermark, counters and liveness."""
        rows = self._read(_SQL.marks)
        return {row[0]: make_mark(row) for row in rows}

    def dead_letters(self, limit: int = 100) -> list[dict]:
        """The newest dead letters, newest first."""
        rows = self._read(_SQL.dead_letters, (limit,))
        return dead_letter_dicts(rows)

    def door_counts(self, store: str | None = None) -> list[tuple[str, str, str, int, int]]:
        """(store, door, UTC hour 'YYYY-MM-DDTHH:00', in, out) from valid door.count events."""
        sql = _DOOR_COUNTS.format(where="AND store = ?" if store is not None else "")
        params = (store,) if store is not None else ()
        rows = self._read(sql, params)
        return [(s, d, h, int(i), int(o)) for s, d, h, i, o in rows]

    def events(
        self, store: str, after_seq: int = 0, limit: int = 10_000
    ) -> list[tuple[int, str, str, str]]:
        """(seq, id, type, data) of a store's events above `after_seq`, in seq order (export)."""
        rows = self._read(_SQL.events, (store, after_seq, limit))
        return [(int(q), i, t, d) for q, i, t, d in rows]

    def close(self) -> None:
        """Release the connection (and the feed lock, if held)."""
        with self._lock:
            self._conn.close()
        if self._feed_lock is not None:
            os.close(self._feed_lock)
            self._feed_lock = None
