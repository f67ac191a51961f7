"""HQ ingester: stores' batches → HQ database, acks back, gaps repaired.

- Subscribes `$share/hq/touchpoint/v1/+/up/events` (MQTT v5 shared subscription: N
  ingesters split the load) and `touchpoint/v1/+/up/state` (plain: every ingester
  sees liveness; retained states are not delivered to shared subscriptions).
- paho's `manual_ack`: a batch is PUBACKed only after the transaction that stored it
  has committed, so a crash between the two makes the broker deliver it again.
- Messages are group-committed: the worker takes what has arrived (up to
  `max_group` messages and `max_group_bytes` of payload) and stores it in one
  transaction.
- Every event's payload is validated against the schema; a bad one is stored with
  its reason (it still counts for contiguity, so one bad event cannot stall a
  store) and is left out of the feeds. A bad batch (JSON, size, store ≠ topic,
  seq range) goes to the dead-letter table with the reason.
- After each commit the per-store contiguous watermark is published retained on
  `down/ack`. A store whose events stop at a gap for `gap_timeout_s` is sent
  `resend_from` the first missing seq.
- The database being down or refusing work (`StoreUnavailable`) is an outage, not a
  crash: the worker keeps the group's messages unacknowledged, retries exactly the
  writes still owed with backoff (1 s to 30 s), and reports it in `stats.last_error`.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import paho.mqtt.client as mqtt

from hq.storage import HqStore, StoreUnavailable
from hq.triage import Work, triage
from sync import wire
from sync.link import LinkState, lost_reason
from sync.mqtt import connect_persistent, make_client

log = logging.getLogger(__name__)
T = TypeVar("T")


def iso_now() -> str:
    """Current UTC time, ISO-8601 with milliseconds."""
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"


@dataclass
class IngestSettings:
    """Connection and behaviour of one ingester process."""

    client_id: str
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False
    ca_file: str | None = None
    keepalive_s: int = 30
    session_expiry_s: int = 86400
    gap_timeout_s: float = 10.0
    max_batch_bytes: int = 256 * 1024
    max_group: int = 64
    # A group is also capped by payload bytes: smaller transactions keep PostgreSQL's
    # sort and JSON unpacking in memory, and with several ingesters they interleave
    # instead of each holding half the backlog in one transaction.
    max_group_bytes: int = 2 * 1024 * 1024
    receive_maximum: int = 64


@dataclass
class IngestStats:
    """What the ingester has done, for logs, tests and the dashboard."""

    batches: int = 0
    inserted: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    invalid_events: int = 0
    stale_wills: int = 0
    resend_requests: int = 0
    commits: int = 0
    busy_s: float = 0.0  # time spent validating and storing (the rest is waiting for input)
    connected: bool = False
    database_ok: bool = True
    database_outages: int = 0
    last_error: str = ""
    gaps: dict[str, float] = field(default_factory=dict)


class Ingester:
    """One HQ ingester: an MQTT client plus a worker thread that owns the database."""

    def __init__(self, settings: IngestSettings, store_factory: Callable[[], HqStore]) -> None:
        self.s = settings
        self.store_factory = store_factory
        self.stats = IngestStats()
        self._inbox: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._acked: dict[str, int] = {}
        self._max_seq: dict[str, int] = {}
        self._gap_since: dict[str, float] = {}
        self._last_resend: dict[str, float] = {}
        self.subscribed = threading.Event()
        self.shared_topic = f"$share/{wire.SHARE_GROUP}/{wire.PREFIX}/+/up/events"
        self.link = LinkState("ingest", f"{settings.host}:{settings.port}", log)
        self.client = self._make_client()

    def _make_client(self) -> mqtt.Client:
        s = self.s
        client = make_client(
            s.client_id,
            username=s.username,
            password=s.password,
            tls=s.tls,
            ca_file=s.ca_file,
            manual_ack=True,
        )
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        client.on_connect_fail = lambda *_: self.link.failed("cannot reach the broker")
        return client

    def _on_subscribe(self, client, userdata, mid, reasons, properties) -> None:
        failed = [r for r in reasons if r.is_failure]
        if failed:
            self.stats.last_error = f"subscription refused: {failed}"
            log.error("ingest: %s", self.stats.last_error)
        else:
            self.subscribed.set()

    def _on_connect(self, client, userdata, flags, reason, properties) -> None:
        if reason.is_failure:
            self.stats.last_error = f"broker refused connection: {reason}"
            log.error("ingest: %s", self.stats.last_error)
            self.link.failed(self.stats.last_error)
            return
        self.link.up()
        self.stats.connected = True
        client.subscribe([(self.shared_topic, 1), (f"{wire.PREFIX}/+/up/state", 1)])

    def _on_disconnect(self, client, userdata, flags, reason, properties) -> None:
        self.stats.connected = False
        self.subscribed.clear()
        if self._stop.is_set():
            self.link.stopping()
        else:
            self.link.down(lost_reason(reason))

    def _on_message(self, client, userdata, msg: mqtt.MQTTMessage) -> None:
        self._inbox.put(msg)

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Connect (in the background) and start the worker."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="hq-ingest", daemon=True)
        self._thread.start()
        connect_persistent(
            self.client,
            self.s.host,
            self.s.port,
            keepalive_s=self.s.keepalive_s,
            session_expiry_s=self.s.session_expiry_s,
            receive_maximum=self.s.receive_maximum,
        )

    def stop(self, timeout: float = 5.0) -> None:
        """Leave the shared group, finish the messages in hand, then disconnect."""
        if self.stats.connected:
            # A persistent session stays in the share group after a plain disconnect, and
            # the broker would keep queueing a share of every store's batches for it.
            left = threading.Event()
            self.client.on_unsubscribe = lambda *args: left.set()
            self.client.unsubscribe(self.shared_topic)
            left.wait(timeout / 3)
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.client.disconnect()
        self.client.loop_stop()

    @property
    def alive(self) -> bool:
        """Whether the worker thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def status_line(self) -> str:
        """One line for `systemctl status`: what is wrong, if anything, and the counts."""
        st = self.stats
        if not st.database_ok:
            state = st.last_error
        elif not st.connected:
            state = f"not connected to the broker ({self.link.last_error or self.link.reason})"
        else:
            state = "ingesting"
        line = (
            f"ingester {self.s.client_id}: {state}; events stored {st.inserted:,},"
            f" duplicates {st.duplicates:,}, dead letters {st.dead_letters:,}"
        )
        return " ".join(line.split())  # STATUS= is one line; driver errors may hold several

    # -- worker ------------------------------------------------------------------------

    def _run(self) -> None:
        store = self._retry(self._open_store)
        if store is None:
            return
        try:
            while not self._stop.is_set() or not self._inbox.empty():
                try:
                    first = self._inbox.get(timeout=0.2)
                except queue.Empty:
                    self._check_gaps()
                    if self._stop.is_set():
                        return
                    continue
                group, size = [first], len(first.payload)
                while len(group) < self.s.max_group and size < self.s.max_group_bytes:
                    try:
                        msg = self._inbox.get_nowait()
                    except queue.Empty:
                        break
                    group.append(msg)
                    size += len(msg.payload)
                started = time.perf_counter()
                if not self._handle(store, group):
                    return  # stopped during an outage: the broker delivers these again
                self.stats.busy_s += time.perf_counter() - started
                self._check_gaps()
        finally:
            store.close()

    def _open_store(self) -> HqStore:
        store = self.store_factory()
        try:
            marks = store.marks()
        except BaseException:
            store.close()
            raise
        for mark in marks.values():
            self._acked[mark.store] = mark.acked_through
            self._max_seq[mark.store] = mark.max_seq
        return store

    def _retry(self, write: Callable[[], T]) -> T | None:
        """`write()` until the database takes it; None if stopped while it was down."""
        delay = 1.0
        while True:
            try:
                result = write()
            except StoreUnavailable as exc:
                if self.stats.database_ok:
                    self.stats.database_outages += 1
                self.stats.database_ok = False
                self.stats.last_error = f"database unavailable: {exc}"
                log.warning("ingest: %s; retrying in %.0fs", self.stats.last_error, delay)
                if self._stop.wait(delay):
                    return None
                delay = min(delay * 2, 30.0)
                continue
            if not self.stats.database_ok:
                log.warning("ingest: the database is back")
                self.stats.last_error = ""
            self.stats.database_ok = True
            return result

    def _handle(self, store: HqStore, group: list[mqtt.MQTTMessage]) -> bool:
        """Store what the group needs, then ack it; False if stopped before that."""
        work = triage(group, self.s.max_batch_bytes)
        self.stats.batches += work.batches
        self.stats.invalid_events += work.invalid_events
        for dead in work.dead_letters:
            log.warning("ingest: dead-lettered a message on %s: %s", dead.topic, dead.reason)
        received = iso_now()
        if self._retry(lambda: self._write(store, work, received)) is None:
            return False
        # Only now, with everything committed, tell the broker it may forget these.
        for msg in group:
            if msg.qos > 0:
                self.client.ack(msg.mid, msg.qos)
        return True

    def _write(self, store: HqStore, work: Work, received: str) -> bool:
        """Perform the writes still owed, dropping each from `work` once it is committed."""
        while work.dead_letters:
            d = work.dead_letters[0]
            store.dead_letter(d.topic, d.store, d.reason, d.payload, received)
            work.dead_letters.pop(0)
            self.stats.dead_letters += 1  # counted once stored
        while work.states:
            name, state, retained = work.states[0]
            if not store.record_state(name, state, None if retained else received):
                self.stats.stale_wills += 1
                log.info("ingest: ignored stale will of %s (boot %s)", name, state.boot_id)
            work.states.pop(0)
        if work.rows:
            outcome = store.ingest(work.rows, received)
            work.rows = []
            self.stats.inserted += outcome.inserted
            self.stats.duplicates += outcome.duplicates
            self.stats.commits += 1
            for name, acked in outcome.acked.items():
                self._max_seq[name] = outcome.max_seq.get(name, acked)
                self._publish_ack(name, acked)
        return True

    def _publish_ack(self, name: str, acked: int) -> None:
        # Published after every commit that touched the store, even when unchanged: an
        # ack lost in a crash must not leave the store resending forever.
        self._acked[name] = acked
        payload = wire.encode(wire.Ack(v=1, acked_through_seq=acked))
        self.client.publish(wire.topic(name, "down", "ack"), payload, qos=1, retain=True)

    def _check_gaps(self) -> None:
        """Ask a store to resend what is missing once a gap has lasted `gap_timeout_s`."""
        now = time.monotonic()
        for name, max_seq in self._max_seq.items():
            acked = self._acked.get(name, 0)
            if max_seq <= acked:
                self._gap_since.pop(name, None)
                continue
            since = self._gap_since.setdefault(name, now)
            waited = now - since
            last = self._last_resend.get(name, 0.0)
            if waited >= self.s.gap_timeout_s and now - last >= self.s.gap_timeout_s:
                self._last_resend[name] = now
                self.stats.resend_requests += 1
                cmd = wire.encode(wire.Command(v=1, cmd="resend_from", seq=acked + 1))
                self.client.publish(wire.topic(name, "down", "cmd"), cmd, qos=1)
                log.info("ingest: %s has a gap after seq %d; asked to resend", name, acked)
        self.stats.gaps = {n: now - t for n, t in self._gap_since.items()}
