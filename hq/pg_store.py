"""HqStore on PostgreSQL (psycopg 3): for chains whose ingest outgrows one machine.

Several ingesters (processes) may write one database at once. Each `ingest` is one
READ COMMITTED transaction:

1. one bulk INSERT … SELECT FROM json_to_recordset ON CONFLICT DO NOTHING, rows sorted by
   (store, seq) so concurrent writers wait on each other's keys in one order;
2. the touched `hq_stores` rows are locked in store order (SELECT … FOR UPDATE);
3. the watermark is computed after the lock. A statement reads a fresh snapshot, so
   whichever of two overlapping transactions locks last sees the other's committed
   rows as well as its own: two writers that each insert half of a range still end
   with the full watermark.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import msgspec
import psycopg
from psycopg import errors

from hq import schema
from hq.imports.bulk import PgBulk
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

# One feed worker per database ("tpfw"); held by its connection, freed if it drops.
_FEED_LOCK = 0x7470_6677
# Any constant: serialises schema creation between ingesters starting together.
_SCHEMA_LOCK = 0x7470_6871  # "tphq"

# One statement for the whole batch, its rows sent as one JSON array: psycopg dumps a
# Python list into an array literal in pure Python (~25k rows/s), while msgspec
# encodes JSON in C and the server unpacks it in C (~65k rows/s here, like COPY).
# RETURNING feeds the per-store inserted counts, exact because ON CONFLICT DO NOTHING
# returns only the rows it inserted.
_INSERT = """
WITH inserted AS (
    INSERT INTO hq_events (store, seq, id, type, ts, device, data, clock_ok, boot_id, error,
        received_at)
    SELECT store, seq, id, type, ts, device, data, clock_ok, boot_id, error, %s::text
    FROM ROWS FROM (json_to_recordset(%s::json) AS (store text, seq bigint, id text,
        type text, ts text, device text, data text, clock_ok boolean, boot_id text,
        error text)) WITH ORDINALITY AS r(store, seq, id, type, ts, device, data, clock_ok,
        boot_id, error, k)
    ORDER BY k
    ON CONFLICT (store, seq) DO NOTHING
    RETURNING store
)
SELECT store, count(*) FROM inserted GROUP BY store
"""
_rows_json = msgspec.json.Encoder()
_SQL = shared_sql("%s")

_DOOR_COUNTS = """
SELECT store, data::jsonb ->> 'door' AS door, left(ts, 13) || ':00' AS hour,
    sum(CASE WHEN data::jsonb ->> 'direction' = 'in'
        THEN (data::jsonb ->> 'count')::bigint ELSE 0 END)::bigint,
    sum(CASE WHEN data::jsonb ->> 'direction' = 'out'
        THEN (data::jsonb ->> 'count')::bigint ELSE 0 END)::bigint
FROM hq_events
WHERE type = 'door.count' AND error IS NULL {where}
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
"""

# Sorted lock order rules deadlocks out; the retry covers anything we did not foresee.
_RETRIES = 3


def _unavailable(exc: psycopg.OperationalError) -> StoreUnavailable:
    """The outage as one line (libpq's messages span several)."""
    return StoreUnavailable("PostgreSQL: " + " ".join(str(exc).split()))


def _results(cur: psycopg.Cursor) -> Iterator[tuple[str, int]]:
    """Every row returned by an `executemany(..., returning=True)`."""
    while True:
        row = cur.fetchone()
        if row is not None:
            yield row
        if not cur.nextset():
            return


class PgHqStore(ImportWrites):
    """HQ events, watermarks and store states in a PostgreSQL database."""

    bulk = PgBulk()
    dialect = "postgresql"
    placeholder = "%s"

    def __init__(
        self,
        dsn: str,
        *,
        connect_timeout_s: int = 10,
        lock_timeout_s: int = 30,
        feed_marks: bool = True,
        migrate: bool = True,
    ) -> None:
        # Off only in bench/hq_feed.py, to measure ingest without feed upkeep.
        self.feed_marks = feed_marks
        self._dsn = dsn
        self._connect_timeout_s = connect_timeout_s
        self._lock_timeout_s = lock_timeout_s
        self._lock = threading.Lock()
        self._conn = self._connect()
        try:
            # Off for a connection that only writes orders (`hq serve`, a role with no
            # right to change the schema): `hq run` migrates.
            if migrate:
                self._migrate()
        except BaseException:
            self._conn.close()
            raise

    def _connect(self) -> psycopg.Connection:
        try:
            conn = psycopg.connect(
                self._dsn, autocommit=True, connect_timeout=self._connect_timeout_s
            )
            # Every wait has a timeout: a stuck peer holding a store's row lock surfaces
            # as an error the ingester reports, instead of a silent hang.
            conn.execute(f"SET lock_timeout = '{int(self._lock_timeout_s)}s'")
        except psycopg.OperationalError as exc:
            raise _unavailable(exc) from exc
        return conn

    @contextmanager
    def _tx(self) -> Iterator[psycopg.Cursor]:
        with self._lock:
            try:
                if self._conn.closed or self._conn.broken:
                    self._conn = self._connect()
                with self._conn.transaction(), self._conn.cursor() as cur:
                    yield cur
            except psycopg.OperationalError as exc:
                # Server down or restarting, connection lost, lock_timeout: an outage.
                raise _unavailable(exc) from exc

    def transaction(self):
        """A write transaction yielding a cursor."""
        return self._tx()

    def query(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        """Rows of one read statement."""
        with self._tx() as cur:
            return cur.execute(sql, tuple(params)).fetchall()

    def try_feed_lock(self) -> bool:
        """Take the one feed worker's lock (a session advisory lock) if no one holds it."""
        (got,) = self.query("SELECT pg_try_advisory_lock(%s)", (_FEED_LOCK,))[0]
        return bool(got)

    def checkpoint(self) -> None:
        """Rewrite the tables that held erased pseudonyms, so no dead copy stays on disk."""
        with self._lock:
            try:
                for table in (
                    "hq_visits",
                    "hq_profile_keys",
                    "hq_transaction_keys",
                    "hq_order_keys",
                    "hq_orders",
                ):
                    self._conn.execute(f"VACUUM FULL {table}")
                # CHECKPOINT needs superuser or pg_checkpoint; the rewrite is what counts.
                with contextlib.suppress(errors.InsufficientPrivilege):
                    self._conn.execute("CHECKPOINT")
            except psycopg.OperationalError as exc:
                raise _unavailable(exc) from exc

    def _migrate(self) -> None:
        with self._tx() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            cur.execute(schema.VERSION_TABLE)
            current = cur.execute("SELECT max(version) FROM schema_version").fetchone()[0] or 0
            for version, statements in schema.migrations("postgresql", current):
                for stmt in statements:
                    cur.execute(stmt)
                cur.execute("INSERT INTO schema_version (version) VALUES (%s)", (version,))

    def ingest(self, rows: list[EventRow], received_at: str) -> IngestOutcome:
        """Store rows idempotently and advance each touched store's watermark, in one transaction."""
        if not rows:
            return IngestOutcome(inserted=0, duplicates=0, acked={}, max_seq={})
        rows = screen(rows)
        for attempt in range(_RETRIES):
            try:
                return self._ingest(rows, received_at)
            except errors.DeadlockDetected:
                if attempt == _RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    def _ingest(self, rows: list[EventRow], received_at: str) -> IngestOutcome:
        sent: dict[str, int] = {}
        top: dict[str, int] = {}
        for r in rows:  # sorted by (store, seq): the last row of a store is its highest
            sent[r.store] = sent.get(r.store, 0) + 1
            top[r.store] = r.seq
        stores = sorted(sent)
        outcome = IngestOutcome(inserted=0, duplicates=0, acked={}, max_seq={})
        # 1. The rows alone, in their own transaction: no store row is locked while
        #    this commit waits for its fsync, so ingesters sharing stores run in parallel.
        with self._tx() as cur:
            rows = [
                r for store, sent in by_store(rows) for r in above_floor(cur, "%s", store, sent)
            ]
            batch = _rows_json.encode(rows).decode()
            inserted = dict(cur.execute(_INSERT, (received_at, batch)).fetchall())
            if self.feed_marks:
                mark_ingested(cur, "%s", rows, received_at)
            cur.execute(
                "INSERT INTO hq_stores (store) SELECT s FROM unnest(%s::text[]) AS s ORDER BY s"
                " ON CONFLICT DO NOTHING",
                (stores,),
            )
        # 2. After the commit, the watermark is read from committed rows only and only
        #    ever raised (GREATEST). Whichever ingester commits last reads after every
        #    commit before it, so the final watermark covers everything, without locks
        #    held across an fsync. This transaction need not wait for its own fsync
        #    either: the watermark is derived from rows that are already durable, so
        #    after a crash it is simply derived again from them.
        with self._tx() as cur:
            cur.execute("SET LOCAL synchronous_commit TO OFF")
            marks = {
                store: (acked, max_seq)
                for store, acked, max_seq in cur.execute(
                    "SELECT store, acked_through, max_seq FROM hq_stores WHERE store = ANY(%s)",
                    (stores,),
                ).fetchall()
            }
            updates = []
            for store in stores:
                acked, max_seq = marks[store]
                added = inserted.get(store, 0)
                acked = advance_watermark(
                    lambda p: cur.execute(_SQL.prefix, p).fetchone(), store, acked, max(added, 1)
                )
                max_seq = max(max_seq, top[store])
                dups = sent[store] - added
                updates.append((acked, max_seq, dups, added, received_at, store))
                outcome.inserted += added
                outcome.duplicates += dups
                outcome.max_seq[store] = max_seq
            # Counters are statistics: a crash between the two transactions can lose an
            # increment, never an event (the watermark is derived again on the next batch).
            cur.executemany(
                "UPDATE hq_stores SET acked_through = GREATEST(acked_through, %s),"
                " max_seq = GREATEST(max_seq, %s), duplicates = duplicates + %s,"
                " events = events + %s, last_batch_at = %s WHERE store = %s"
                " RETURNING store, acked_through",
                updates,
                returning=True,
            )
            for store, acked in _results(cur):
                outcome.acked[store] = acked
        return outcome

    def dead_letter(
        self, topic: str, store: str | None, reason: str, payload: bytes, received_at: str
    ) -> None:
        """Keep an invalid payload with the reason it was refused."""
        with self._tx() as cur:
            cur.execute(
                _SQL.dead_letter, dead_letter_params(topic, store, reason, payload, received_at)
            )

    def record_state(self, store: str, state: StoreState, received_at: str | None) -> bool:
        """Apply an `up/state` birth or will; False (nothing changed) for a stale will."""
        with self._tx() as cur:
            # Lock the row so a birth and a will racing in two ingesters apply in turn.
            row = cur.execute(
                "SELECT boot_id FROM hq_stores WHERE store = %s FOR UPDATE", (store,)
            ).fetchone()
            if is_stale_will(row[0] if row else None, state):
                return False
            cur.execute(_SQL.state_upsert, state_params(store, state, received_at))
        return True

    def marks(self) -> dict[str, StoreMark]:
        """Every known store's watermark, counters and liveness."""
        with self._tx() as cur:
            rows = cur.execute(_SQL.marks).fetchall()
        return {row[0]: make_mark(row) for row in rows}

    def dead_letters(self, limit: int = 100) -> list[dict]:
        """The newest dead letters, newest first."""
        with self._tx() as cur:
            rows = cur.execute(_SQL.dead_letters, (limit,)).fetchall()
        return dead_letter_dicts(rows)

    def door_counts(self, store: str | None = None) -> list[tuple[str, str, str, int, int]]:
        """(store, door, UTC hour 'YYYY-MM-DDTHH:00', in, out) from valid door.count events."""
        sql = _DOOR_COUNTS.format(where="AND store = %s" if store is not None else "")
        params = (store,) if store is not None else ()
        with self._tx() as cur:
            rows = cur.execute(sql, params).fetchall()
        return [(s, d, h, int(i), int(o)) for s, d, h, i, o in rows]

    def events(
        self, store: str, after_seq: int = 0, limit: int = 10_000
    ) -> list[tuple[int, str, str, str]]:
        """(seq, id, type, data) of a store's events above `after_seq`, in seq order (export)."""
        with self._tx() as cur:
            rows = cur.execute(_SQL.events, (store, after_seq, limit)).fetchall()
        return [(int(q), i, t, d) for q, i, t, d in rows]

    def close(self) -> None:
        """Release the connection."""
        with self._lock:
            self._conn.close()
