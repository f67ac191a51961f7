"""Head office's event store: the interface both backends implement, and their shared logic.

The ingester hands `ingest` rows it has already validated; the store makes the write
idempotent (unique store+seq, duplicates counted, not stored) and keeps, per store,
the contiguous watermark `acked_through` (every seq 1..n present) that goes back to
the store on `down/ack`. SQLite (sqlite_store.py) is the embedded default and
PostgreSQL (pg_store.py) serves several ingesters writing one database.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from typing import TYPE_CHECKING, Any, Protocol

import msgspec

from sync.wire import StoreState, encode

if TYPE_CHECKING:
    from hq.imports.profiles import ProfileRecord
    from hq.imports.stores import StoreRecord
    from hq.imports.transactions import TransactionRecord

MAX_DEAD_LETTER_BYTES = 64 * 1024


class StoreUnavailable(RuntimeError):
    """The database cannot be reached or refuses work for now: the same writes may be retried.

    Backends raise it for their operational errors (connection refused or lost, server
    shutting down, lock or busy timeouts, disk trouble), never for bad data, which the
    wire schema keeps out (tests/hq/test_wire_to_storage.py).
    """


class EventRow(msgspec.Struct, frozen=True):
    """One store event, already validated by the ingester.

    A msgspec struct rather than a dataclass: HQ builds one per event on its hot path,
    and a struct is built several times faster and encodes to JSON in C.
    """

    store: str
    seq: int
    id: str
    type: str
    ts: str
    device: str
    data: str  # the payload JSON text
    clock_ok: bool
    boot_id: str
    # Set when the payload failed validation: kept (for contiguity) but excluded from feeds.
    error: str | None = None
    # A visit.identified event's pseudonym, taken out of `data` (hq/identities.py): it is
    # stored only in hq_visits, where erasure and expiry can delete it.
    key_id: str | None = None
    pseudonym: str | None = None


@dataclass
class IngestOutcome:
    """What one `ingest` transaction did."""

    inserted: int
    duplicates: int  # rows already present (same store+seq): counted, not stored
    acked: dict[str, int]  # store -> contiguous watermark after this transaction
    max_seq: dict[str, int]  # store -> highest seq stored


@dataclass
class ImportCounts:
    """What one import batch did: rows written, rows already as given, rows refused."""

    imported: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)


@dataclass
class StoreMark:
    """Head office's view of one store: watermark, counters and last `up/state`."""

    store: str
    acked_through: int
    max_seq: int
    duplicates: int
    events: int
    online: bool | None
    boot_id: str | None
    state: dict | None
    state_at: str | None
    last_batch_at: str | None


class HqStore(Protocol):
    """Storage for the HQ ingester; one instance per ingester process."""

    def ingest(self, rows: list[EventRow], received_at: str) -> IngestOutcome:
        """Store rows idempotently and advance each touched store's watermark, in one transaction."""
        ...

    def dead_letter(
        self, topic: str, store: str | None, reason: str, payload: bytes, received_at: str
    ) -> None:
        """Keep an invalid payload with the reason it was refused."""
        ...

    def record_state(self, store: str, state: StoreState, received_at: str | None) -> bool:
        """Apply an `up/state` birth or will; False (nothing changed) for a stale will.

        `received_at` None: a retained state the broker handed over on subscribe, not
        heard live, so when head office last heard from the store (`state_at`) stays.
        """
        ...

    def marks(self) -> dict[str, StoreMark]:
        """Every known store's watermark, counters and liveness."""
        ...

    def dead_letters(self, limit: int = 100) -> list[dict]:
        """The newest dead letters, newest first."""
        ...

    def door_counts(self, store: str | None = None) -> list[tuple[str, str, str, int, int]]:
        """(store, door, UTC hour 'YYYY-MM-DDTHH:00', in, out) from valid door.count events."""
        ...

    def events(
        self, store: str, after_seq: int = 0, limit: int = 10_000
    ) -> list[tuple[int, str, str, str]]:
        """(seq, id, type, data) of a store's events above `after_seq`, in seq order (export)."""
        ...

    def import_stores(self, records: list[StoreRecord], now: str) -> ImportCounts:
        """Upsert registry rows in one transaction (hq/imports/writer.py)."""
        ...

    def import_profiles(self, records: list[ProfileRecord], now: str) -> ImportCounts:
        """Upsert profiles, their key sets and online activity in one transaction."""
        ...

    def import_transactions(self, records: list[TransactionRecord], now: str) -> ImportCounts:
        """Upsert transactions of registered stores in one transaction; others rejected."""
        ...

    def try_feed_lock(self) -> bool:
        """Take the lock that lets one process run the feed rollup; False if another holds it."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


# --- shared logic -------------------------------------------------------------

_NUL_ESCAPE = "\\u0000"


def screen(rows: Sequence[EventRow]) -> list[EventRow]:
    """Rows sorted by (store, seq) and made storable identically on both backends.

    Sorting makes concurrent writers take row locks in one global order (no deadlocks).
    jsonb refuses the escape \\u0000, so such a payload would break every feed query on
    PostgreSQL: it is marked as an error on both backends so they keep the same totals.
    """
    out = sorted(rows, key=lambda r: (r.store, r.seq))
    if any(_NUL_ESCAPE in r.data for r in out):
        out = [
            msgspec.structs.replace(r, error="payload holds \\u0000, which feeds cannot read")
            if r.error is None and _NUL_ESCAPE in r.data
            else r
            for r in out
        ]
    # A decoded \u0000 in an envelope string is a NUL that PostgreSQL's text refuses.
    if any(
        "\x00" in r.id
        or "\x00" in r.type
        or "\x00" in r.device
        or "\x00" in r.boot_id
        or (r.error is not None and "\x00" in r.error)
        for r in out
    ):
        out = [_without_nul(r) for r in out]
    return out


def _without_nul(r: EventRow) -> EventRow:
    return msgspec.structs.replace(
        r,
        id=clean_text(r.id),
        type=clean_text(r.type),
        device=clean_text(r.device),
        boot_id=clean_text(r.boot_id),
        error=None if r.error is None else clean_text(r.error),
    )


def by_store(rows: list[EventRow]) -> Iterator[tuple[str, list[EventRow]]]:
    """(store, its rows) for rows already sorted by store."""
    for store, group in groupby(rows, key=lambda r: r.store):
        yield store, list(group)


def above_floor(cur: Any, ph: str, store: str, rows: list[EventRow]) -> list[EventRow]:
    """The rows above the store's retention floor (hq/retention.py): the others were
    stored once and deleted after the retention period, so they are duplicates."""
    row = cur.execute(f"SELECT through FROM hq_event_floor WHERE store = {ph}", (store,)).fetchone()
    if row is None:
        return rows
    return [r for r in rows if r.seq > row[0]]


def advance_watermark(
    query_one: Callable[[tuple], Any], store: str, acked: int, expected: int
) -> int:
    """The store's contiguous watermark, scanning up from `acked` and stopping at the first gap.

    `query_one(params)` runs `SharedSql.prefix` (hq/sql.py); `expected` (rows just inserted) sizes the
    first chunk so the usual case is one query.
    """
    chunk = min(max(expected + 1, 64), 65_536)
    while True:
        found, top = query_one((store, acked, chunk, acked))
        if found:
            acked = top
        if found < chunk:  # a gap, or the end of what is stored
            return acked
        chunk = min(chunk * 4, 65_536)


def is_stale_will(current_boot_id: str | None, state: StoreState) -> bool:
    """A will (online=False) from a boot other than the one head office knows as current."""
    return not state.online and current_boot_id is not None and current_boot_id != state.boot_id


def state_json(state: StoreState) -> str:
    """The `up/state` payload as stored (compact JSON)."""
    return encode(state).decode()


def dead_letter_text(payload: bytes) -> str:
    """A refused payload as storable text: first 64 KiB, bad bytes, NULs and pseudonyms replaced."""
    text = clean_text(payload[:MAX_DEAD_LETTER_BYTES].decode("utf-8", errors="replace"))
    return mask_pseudonyms(text)


def clean_text(text: str) -> str:
    """Text without NUL characters, which PostgreSQL's text type cannot hold."""
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


def make_mark(row: Sequence[Any]) -> StoreMark:
    """A StoreMark from a `hq_stores` row in column order."""
    store, acked, max_seq, dups, events, online, boot_id, state, state_at, last_batch = row
    return StoreMark(
        store=store,
        acked_through=int(acked),
        max_seq=int(max_seq),
        duplicates=int(dups),
        events=int(events),
        online=None if online is None else bool(online),
        boot_id=boot_id,
        state=json.loads(state) if state else None,
        state_at=state_at,
        last_batch_at=last_batch,
    )


_PSEUDONYM = re.compile(r"[0-9a-fA-F]{64}")
PSEUDONYM_MASK = "<pseudonym removed>"


def mask_pseudonyms(text: str) -> str:
    """Text with anything shaped like a pseudonym (64 hex digits) replaced.

    Dead letters and invalid events are kept for diagnosis; a pseudonym in them could
    not be found again by erasure or expiry, so it never gets stored.
    """
    return _PSEUDONYM.sub(PSEUDONYM_MASK, text) if len(text) >= 64 else text
