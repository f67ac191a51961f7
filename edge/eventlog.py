"""Group-committed appends to the store's event log.

Producers (device readers, the kiosk) call `EventLog.append` from any thread; it
only stamps the event and puts a row on a deque. One writer thread takes whatever
is waiting and commits it in a single transaction, so one fsync covers a whole
batch: on an SD card that is the difference between ~50 and ~50,000 events/s.
An event waits at most `commit_interval` (plus the commit itself) before it is
durable; `flush()` waits until everything appended so far is.

Persisted device state (a counter's last totals) rides in the same transaction as
the events derived from it, so a crash can never record one without the other:
that is what makes "never count twice after a restart" hold.

When commits fail (a full disk, a lock held too long) the writer keeps retrying
and the events wait in memory, up to `max_pending` rows. Past that bound a new
row is refused: `append` returns False and the events are counted in `dropped` by
reason (`disk_full`, `commit_failing`). Door counters lose nothing that way: the
router keeps their readings out of the log while it is `blocked` and takes the
crossings from the sensor's cumulative totals once commits work again. After the
first good commit the log records a `device.status` (device `eventlog`) with the
dropped counts, so head office sees the loss and its reason.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections import Counter, deque
from pathlib import Path
from typing import NamedTuple

import uuid_utils

from edge.clock import Clock, read_boot_id
from edge.db import connect, open_store_db
from edge.events import DeviceStatus, Payload, encode_data

log = logging.getLogger(__name__)

_INSERT = "INSERT INTO events (id, type, ts, device, data, clock_ok, boot_id) VALUES (?, ?, ?, ?, ?, ?, ?)"
_STATE = "INSERT OR REPLACE INTO state (key, value, updated) VALUES (?, ?, ?)"


EventRow = tuple[str, str, str, str, str, int, str]
DEVICE = "eventlog"  # the device name of the log's own device.status events


class EventStamper:
    """Turns payloads into event rows (id, type, ts, device, data, clock_ok, boot_id).

    The event log uses it for every append; code that must record an event in the
    same transaction as the state it derives from (a pick-up line's new state, say)
    inserts the row itself with `insert_events`, inside its own transaction.
    """

    def __init__(self, clock: Clock, boot_id: str) -> None:
        self.clock = clock
        self.boot_id = boot_id

    def row(self, payload: Payload, device: str, ts: float | None = None) -> EventRow:
        """The stored form of one event, stamped now (or at `ts`)."""
        now = self.clock.now() if ts is None else ts
        return (
            str(uuid_utils.uuid7()),
            payload.TYPE,
            self.clock.iso(now),
            device,
            encode_data(payload),
            1 if self.clock.synced() else 0,
            self.boot_id,
        )


def insert_events(conn: sqlite3.Connection, rows: list[EventRow]) -> None:
    """Insert event rows on a connection whose caller holds the transaction."""
    conn.executemany(_INSERT, rows)


class _Row(NamedTuple):
    # Events and state in one item are committed together or not at all.
    events: tuple[EventRow, ...]
    state: tuple[str, str] | None


class EventLog:
    """Append-only, group-committed event writer for one store database."""

    def __init__(
        self,
        path: Path | str,
        *,
        clock: Clock | None = None,
        boot_id: str | None = None,
        commit_interval: float = 0.02,
        batch_max: int = 5000,
        busy_timeout_ms: int = 5000,
        max_pending: int = 10_000,
    ) -> None:
        self.path = Path(path)
        self.clock = clock or Clock()
        self.boot_id = boot_id or read_boot_id()
        self.stamper = EventStamper(self.clock, self.boot_id)
        self.commit_interval = commit_interval
        self.batch_max = batch_max
        self.busy_timeout_ms = busy_timeout_ms
        self.max_pending = max_pending
        self._in_hand = 0  # rows taken off the queue for the commit being tried
        self._failing_since: float | None = None
        self.dropped: Counter[str] = Counter()  # events refused past max_pending, by reason
        self._dropped_reported: Counter[str] = Counter()
        self.most_pending = 0  # the deepest the in-memory backlog has been
        self._pending: deque[_Row | threading.Event] = deque()
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.committed = 0
        self.commits = 0
        self.errors = 0
        self.last_error = ""
        open_store_db(self.path, busy_timeout_ms=busy_timeout_ms).close()

    # -- producer side -----------------------------------------------------------------

    def append(
        self,
        payload: Payload,
        device: str,
        *,
        ts: float | None = None,
        state: tuple[str, str] | None = None,
    ) -> bool:
        """Queue one event (and optionally a state key/value written in the same commit).

        False when refused: commits are failing and `max_pending` rows already wait.
        """
        return self._push(_Row((self._row(payload, device, ts),), state))

    def append_many(
        self,
        payloads: list[Payload],
        device: str,
        *,
        ts: float | None = None,
        state: tuple[str, str] | None = None,
    ) -> bool:
        """Queue several events and a state update that must commit all together (or refuse)."""
        return self._push(_Row(tuple(self._row(p, device, ts) for p in payloads), state))

    def set_state(self, key: str, value: str) -> bool:
        """Queue a state update with no event (committed in order with the events)."""
        return self._push(_Row((), (key, value)))

    def _row(self, payload: Payload, device: str, ts: float | None) -> EventRow:
        return self.stamper.row(payload, device, ts)

    def _push(self, row: _Row) -> bool:
        held = len(self._pending) + self._in_hand
        if held >= self.max_pending and self._failing_since is not None:
            reason = "disk_full" if "full" in self.last_error else "commit_failing"
            if not self.dropped:
                log.error(
                    "event log: %d events wait in memory and cannot be committed (%s);"
                    " further events are dropped and counted until commits work again",
                    held,
                    self.last_error,
                )
            self.dropped[reason] += max(1, len(row.events))
            return False
        self._pending.append(row)
        self.most_pending = max(self.most_pending, held + 1)
        if not self._wake.is_set():
            self._wake.set()
        return True

    @property
    def blocked(self) -> bool:
        """Whether commits are failing (disk full, …): what is appended only waits in memory."""
        return self._failing_since is not None

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything appended before this call is committed; False on timeout."""
        if self._thread is None or not self._thread.is_alive():
            self._drain_inline()
            return True
        marker = threading.Event()
        self._pending.append(marker)
        self._wake.set()
        return marker.wait(timeout)

    @property
    def backlog(self) -> int:
        """Rows waiting for their commit."""
        return len(self._pending)

    # -- writer side -------------------------------------------------------------------

    def start(self) -> EventLog:
        """Start the writer thread."""
        if self._thread is None or not self._thread.is_alive():
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="eventlog-writer", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Commit what is queued and stop the writer within `timeout`."""
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                # The writer is stuck retrying a failing commit (disk trouble): say so loudly.
                log.error(
                    "event writer did not stop in %.1fs; %d rows not committed",
                    timeout,
                    len(self._pending),
                )
                return
            self._thread = None
        self._drain_inline()

    def __enter__(self) -> EventLog:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        conn = connect(self.path, busy_timeout_ms=self.busy_timeout_ms)
        try:
            while True:
                self._wake.clear()
                if self._pending:
                    # Let a few more producers join this commit (bounded by commit_interval).
                    if self.commit_interval and len(self._pending) < self.batch_max:
                        time.sleep(min(self.commit_interval, 0.1))
                    self._commit_available(conn)
                    continue
                if self._stopping:
                    return
                self._wake.wait(0.5)
        finally:
            conn.close()

    def _drain_inline(self) -> None:
        if not self._pending:
            return
        conn = connect(self.path, busy_timeout_ms=self.busy_timeout_ms)
        try:
            while self._pending:
                self._commit_available(conn)
        finally:
            conn.close()

    def _commit_available(self, conn: sqlite3.Connection) -> None:
        batch: list[_Row] = []
        markers: list[threading.Event] = []
        pending = self._pending
        while pending and len(batch) < self.batch_max:
            item = pending.popleft()
            if isinstance(item, threading.Event):
                markers.append(item)
                break  # commit what precedes the marker, then release its waiter
            batch.append(item)
            self._in_hand += 1
        if batch:
            try:
                self._write(conn, batch)
            finally:
                self._in_hand = 0
        for marker in markers:
            marker.set()

    def _write(self, conn: sqlite3.Connection, batch: list[_Row]) -> None:
        events = [e for r in batch for e in r.events]
        stamp = self.clock.iso(self.clock.now())
        states = [(*r.state, stamp) for r in batch if r.state is not None]
        delay = 0.05
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    conn.executemany(_INSERT, events)
                    if states:
                        conn.executemany(_STATE, states)
                    conn.execute("COMMIT")
                except BaseException:
                    # SQLite rolls back by itself on some errors (SQLITE_FULL): a ROLLBACK
                    # then fails and would hide the real reason ("disk is full").
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                break
            except sqlite3.OperationalError as exc:
                # Busy or disk trouble: keep the batch and retry; never drop events.
                self.errors += 1
                if self._failing_since is None:
                    self._failing_since = time.monotonic()
                if str(exc) != self.last_error:
                    log.error("event commit failed, retrying: %s", exc)
                    self.last_error = str(exc)
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
        self.committed += len(events)
        self.commits += 1
        if self._failing_since is not None:
            self._recovered()

    def _recovered(self) -> None:
        """Commits work again: say so, and record what was dropped meanwhile."""
        took = time.monotonic() - (self._failing_since or time.monotonic())
        self._failing_since = None
        lost = self.dropped - self._dropped_reported
        self._dropped_reported = Counter(self.dropped)
        log.warning(
            "event log: recording again after %.0fs (%s); %d events had waited in memory, %s",
            took,
            self.last_error,
            self.most_pending,
            f"{sum(lost.values())} dropped past the bound of {self.max_pending} ({dict(lost)})"
            if lost
            else "none dropped",
        )
        self.last_error = ""
        if lost:
            detail = (
                f"{sum(lost.values())} events not recorded: commits failed for {took:.0f}s"
                f" and {self.max_pending} were already waiting in memory"
            )
            status = DeviceStatus(state="degraded", detail=detail, rejected=dict(lost))
            self._pending.append(_Row((self._row(status, DEVICE, None),), None))
