"""SQL that both HQ backends run unchanged but for the driver's placeholder ('?' or '%s').

Each backend builds one `SharedSql` at import (`shared_sql("?")`, `shared_sql("%s")`)
and binds the parameter tuples made here, so the two stay the same statement by
construction. What differs between the dialects (the bulk insert, row locks, the
door-count query's JSON functions) stays in the backend modules.
"""

from __future__ import annotations

from dataclasses import dataclass

from hq.storage import clean_text, dead_letter_text, state_json
from sync.wire import StoreState

MARK_COLUMNS = (
    "store, acked_through, max_seq, duplicates, events, online, boot_id, state, state_at, "
    "last_batch_at"
)
DEAD_LETTER_COLUMNS = ("id", "received_at", "topic", "store", "reason", "payload")

# The contiguous run just above `acked`: numbering the next `limit` stored seqs
# 1, 2, 3, … they equal acked + n exactly until the first gap. Reading at most
# `limit` index entries keeps a long history from being rescanned from 1.
_PREFIX = """
SELECT count(*), max(seq) FROM (
    SELECT seq, row_number() OVER (ORDER BY seq) AS n FROM (
        SELECT seq FROM hq_events WHERE store = {p} AND seq > {p} ORDER BY seq LIMIT {p}
    ) AS next_seqs
) AS numbered WHERE seq = {p} + n
"""

_STATE_UPSERT = (
    "INSERT INTO hq_stores (store, online, boot_id, state, state_at)"
    " VALUES ({p}, {p}, {p}, {p}, {p}) ON CONFLICT (store) DO UPDATE SET"
    " online = excluded.online, boot_id = excluded.boot_id,"
    " state = excluded.state, state_at = coalesce(excluded.state_at, hq_stores.state_at)"
)
_DEAD_LETTER = (
    "INSERT INTO hq_dead_letters (received_at, topic, store, reason, payload)"
    " VALUES ({p}, {p}, {p}, {p}, {p})"
)
_DEAD_LETTERS = (
    f"SELECT {', '.join(DEAD_LETTER_COLUMNS)} FROM hq_dead_letters ORDER BY id DESC LIMIT {{p}}"
)
_EVENTS = (
    "SELECT seq, id, type, data FROM hq_events WHERE store = {p} AND seq > {p}"
    " ORDER BY seq LIMIT {p}"
)


@dataclass(frozen=True)
class SharedSql:
    """The shared statements in one driver's placeholder style."""

    prefix: str  # params: (store, acked, limit, acked), see storage.advance_watermark
    state_upsert: str  # params: state_params(...)
    dead_letter: str  # params: dead_letter_params(...)
    dead_letters: str  # params: (limit,)
    events: str  # params: (store, after_seq, limit)
    marks: str = f"SELECT {MARK_COLUMNS} FROM hq_stores ORDER BY store"


def shared_sql(placeholder: str) -> SharedSql:
    """Every shared statement with `placeholder` ('?' for sqlite3, '%s' for psycopg)."""
    p = placeholder
    return SharedSql(
        prefix=_PREFIX.format(p=p),
        state_upsert=_STATE_UPSERT.format(p=p),
        dead_letter=_DEAD_LETTER.format(p=p),
        dead_letters=_DEAD_LETTERS.format(p=p),
        events=_EVENTS.format(p=p),
    )


def state_params(store: str, state: StoreState, received_at: str | None) -> tuple:
    """Parameters of `state_upsert` for an `up/state` message (None: keep `state_at`)."""
    return (store, state.online, state.boot_id, state_json(state), received_at)


def dead_letter_params(
    topic: str, store: str | None, reason: str, payload: bytes, received_at: str
) -> tuple:
    """Parameters of `dead_letter`: every text made storable (no NULs, payload capped)."""
    return (
        received_at,
        clean_text(topic),
        None if store is None else clean_text(store),
        clean_text(reason),
        dead_letter_text(payload),
    )


def dead_letter_dicts(rows: list[tuple]) -> list[dict]:
    """Rows of `dead_letters` as dicts keyed by column."""
    return [dict(zip(DEAD_LETTER_COLUMNS, row, strict=True)) for row in rows]
