"""Store uplink: drains the event log to head office over MQTT; nothing leaves until HQ acks.

- The outbox is every event with seq > HQ's acknowledged watermark (`down/ack`,
  persisted in the store DB as `hq_acked_seq`). A PUBACK only proves the broker has
  a batch; the batch is "sent" only when a `down/ack` covers it.
- Batches are contiguous seq ranges of at most `batch_max_kib`, QoS 1, with at most
  `max_inflight` awaiting PUBACK and at most `max_ahead` events beyond the watermark
  (so a long outage does not pour days of events into the broker's queue at once).
- On (re)connect the cursor restarts at the watermark; on `resend_from` it rewinds;
  if HQ's watermark stops moving while events are out, it rewinds after
  `ack_timeout_s` (doubling up to 10 min): the broker may have dropped them.
- Live events are not stuck behind a backlog: while more than `max_ahead` events
  wait, the newest ones are sent first on a second cursor (HQ stores by seq, so
  order does not matter to it), and the backlog fills in behind.
- Birth/will on `up/state` (retained): online, boot_id, outbox depth, oldest unsent age.

paho-mqtt runs its network loop in its own thread; callbacks only record facts and
wake the drain thread, which owns the database connection.
"""

from __future__ import annotations

import json
import logging
import queue
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
import paho.mqtt.client as mqtt

from edge.clock import Clock
from edge.db import connect
from edge.eventlog import EventStamper
from edge.events import Event
from sync import wire
from sync.downlink import DownlinkApplier
from sync.link import LinkState, lost_reason
from sync.mqtt import connect_persistent, make_client

log = logging.getLogger(__name__)

_SELECT = (
    "SELECT seq, id, type, ts, device, data, clock_ok, boot_id FROM events"
    " WHERE seq >= ? AND seq <= ? ORDER BY seq LIMIT ?"
)
_ENVELOPE_OVERHEAD = 200


@dataclass
class UplinkSettings:
    """Everything the uplink needs, from the store config plus its secrets."""

    store: str
    db_path: Path
    host: str
    port: int
    boot_id: str
    password: str | None = None
    tls: bool = False
    ca_file: str | None = None
    keepalive_s: int = 30
    session_expiry_s: int = 86400
    max_inflight: int = 8
    batch_max_bytes: int = 256 * 1024
    max_ahead: int = 50_000
    ack_timeout_s: float = 15.0
    state_interval_s: float = 30.0
    version: str = ""


@dataclass
class UplinkStats:
    """Counters shown by `edge status` and the benchmarks."""

    batches: int = 0
    events_sent: int = 0
    rewinds: int = 0
    resend_requests: int = 0
    connects: int = 0
    bad_downlink: int = 0
    last_error: str = ""
    connected: bool = False
    acked: int = 0
    ack_events: list[tuple[float, int]] = field(default_factory=list)


class Uplink:
    """The store → HQ link as a supervised component (start/stop)."""

    def __init__(self, settings: UplinkSettings) -> None:
        self.s = settings
        self.stats = UplinkStats()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._inflight: dict[int, tuple[int, int, mqtt.MQTTMessageInfo]] = {}
        self._connected = False
        self._reset = False
        self._hq_acked: int | None = None
        self._rewind_to: int | None = None
        self._thread: threading.Thread | None = None
        self._downlink: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.downlink = DownlinkApplier(EventStamper(Clock(), settings.boot_id))
        self._state_error = ""
        self.link = LinkState("uplink", f"{settings.host}:{settings.port}", log)
        self.client = self._make_client()

    # -- MQTT client -------------------------------------------------------------------

    def _make_client(self) -> mqtt.Client:
        s = self.s
        client = make_client(
            s.store, username=s.store, password=s.password, tls=s.tls, ca_file=s.ca_file
        )
        client.will_set(
            wire.topic(s.store, "up", "state"), self._state_payload(False), qos=1, retain=True
        )
        client.max_inflight_messages_set(max(s.max_inflight, 1))
        client.max_queued_messages_set(max(s.max_inflight * 2, 16))
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_connect_fail = self._on_connect_fail
        client.on_message = self._on_message
        client.on_publish = self._on_publish
        return client

    def _on_connect(self, client, userdata, flags, reason, properties) -> None:
        if reason.is_failure:
            self.stats.last_error = f"broker refused connection: {reason}"
            log.error("uplink: %s", self.stats.last_error)
            self.link.failed(self.stats.last_error)
            return
        with self._lock:
            self._connected = True
            self._reset = True
            self._inflight.clear()
        self.link.up()
        self.stats.connects += 1
        self.stats.connected = True
        client.subscribe(wire.topic(self.s.store, "down", "#"), qos=1)
        self._wake.set()

    def _on_disconnect(self, client, userdata, flags, reason, properties) -> None:
        with self._lock:
            self._connected = False
        self.stats.connected = False
        if self._stop.is_set():
            self.link.stopping()
            return
        why = lost_reason(reason)
        self.stats.last_error = why
        self.link.down(why)

    def _on_connect_fail(self, client, userdata) -> None:
        # paho does not say why; a refused TCP connection, no route or a timeout.
        self.stats.last_error = "cannot reach the broker (no answer or connection refused)"
        self.link.failed(self.stats.last_error)

    def _on_publish(self, client, userdata, mid, reason, properties) -> None:
        with self._lock:
            span = self._inflight.pop(mid, None)
        if reason.is_failure and span is not None:
            # The broker refused the batch (ACL, quota): it stays in the outbox.
            self.stats.last_error = f"batch {span[0]}..{span[1]} refused by broker: {reason}"
            log.error("uplink: %s", self.stats.last_error)
            self._request_rewind(span[0])
        self._wake.set()

    def _on_message(self, client, userdata, msg: mqtt.MQTTMessage) -> None:
        parsed = wire.parse_topic(msg.topic)
        if parsed is None or parsed[0] != self.s.store:
            return
        kind = parsed[1]
        try:
            if kind == "down/ack":
                ack = wire.decode_ack(msg.payload)
                with self._lock:
                    self._hq_acked = ack.acked_through_seq
            elif kind == "down/cmd":
                cmd = wire.decode_command(msg.payload)
                self.stats.resend_requests += 1
                self._request_rewind(cmd.seq)
            elif msg.payload and (
                kind.startswith(("down/catalog/", "down/stock/")) or kind == "down/orders"
            ):
                # (an empty retained message only clears a topic: nothing to apply)
                self._downlink.put((kind[len("down/") :], msg.payload))
        except wire.WireError as exc:
            self.stats.bad_downlink += 1
            log.warning("uplink: ignoring bad %s message: %s", kind, exc)
        self._wake.set()

    def _request_rewind(self, seq: int) -> None:
        with self._lock:
            self._rewind_to = seq if self._rewind_to is None else min(self._rewind_to, seq)

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Connect (in the background) and start draining."""
        connect_persistent(
            self.client,
            self.s.host,
            self.s.port,
            keepalive_s=self.s.keepalive_s,
            session_expiry_s=self.s.session_expiry_s,
        )
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="uplink-drain", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Publish offline state, disconnect, stop threads within `timeout`."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout / 2)
        try:
            if self._connected:
                info = self.client.publish(
                    wire.topic(self.s.store, "up", "state"),
                    self._state_payload(False),
                    qos=1,
                    retain=True,
                )
                info.wait_for_publish(timeout / 4)
            self.client.disconnect()
        except (RuntimeError, ValueError):  # not connected: nothing to say goodbye to
            pass
        self.client.loop_stop()

    @property
    def alive(self) -> bool:
        """Whether the drain thread runs (the supervisor restarts the uplink otherwise)."""
        return self._thread is not None and self._thread.is_alive()

    # -- drain thread ------------------------------------------------------------------

    def _run(self) -> None:
        conn = connect(self.s.db_path)
        try:
            self._drain_loop(conn)
        finally:
            conn.close()

    def _drain_loop(self, conn: sqlite3.Connection) -> None:
        acked = self._load_acked(conn)
        self.stats.acked = acked
        cursor = acked + 1  # next backlog seq to send
        live: list[int] | None = None  # [first live seq, next live seq] while a backlog drains
        last_progress = time.monotonic()
        ack_timeout = self.s.ack_timeout_s
        next_state = 0.0
        next_local = 0.0
        while not self._stop.is_set():
            self._wake.wait(0.05)
            self._wake.clear()
            with self._lock:
                connected, reset, hq_acked, rewind = (
                    self._connected,
                    self._reset,
                    self._hq_acked,
                    self._rewind_to,
                )
                self._reset, self._hq_acked, self._rewind_to = False, None, None
                # PUBACKs that raced with our bookkeeping.
                for mid in [m for m, (_, _, info) in self._inflight.items() if info.is_published()]:
                    del self._inflight[mid]
            while not self._downlink.empty():
                self.downlink.handle(conn, *self._downlink.get_nowait())
            now = time.monotonic()
            if hq_acked is not None and hq_acked > acked:
                acked = hq_acked
                self._save_acked(conn, acked)
                self.stats.acked = acked
                self.stats.ack_events.append((time.time(), acked))
                del self.stats.ack_events[:-1000]
                last_progress, ack_timeout = now, self.s.ack_timeout_s
            # A lower ack can be an older one from a second ingester: ignored. HQ says it
            # lacks events only through resend_from, which may go below our watermark.
            if rewind is not None and rewind <= acked:
                log.warning("uplink: HQ asks for seq %d again (watermark was %d)", rewind, acked)
                acked = rewind - 1
                self._save_acked(conn, acked)
                self.stats.acked = acked
            if now >= next_local:
                # Also (above all) while offline: `edge status` must show the outage.
                next_local = now + 2.0
                self._save_progress(conn, acked, self._last_seq(conn), cursor)
            if not connected:
                continue
            if reset or (rewind is not None and rewind < cursor):
                cursor, live = max(acked + 1, rewind or 0), None
                self.stats.rewinds += rewind is not None
            cursor = max(cursor, acked + 1)
            last_seq = self._last_seq(conn)
            if cursor <= acked + 1 and live is None:
                last_progress = now  # nothing out beyond the watermark
            elif not self._inflight and now - last_progress > ack_timeout:
                # Sent and PUBACKed but never acknowledged: the broker may have lost it.
                log.warning("uplink: no ack beyond %d for %.0fs; resending", acked, ack_timeout)
                cursor, live = acked + 1, None
                self.stats.rewinds += 1
                last_progress, ack_timeout = now, min(ack_timeout * 2, 600.0)
            if now >= next_state:
                next_state = now + self.s.state_interval_s
                self._publish_state(conn, acked, last_seq)
            cursor, live = self._send(conn, cursor, live, acked, last_seq)

    def _send(self, conn, cursor: int, live: list[int] | None, acked: int, last_seq: int):
        """Fill the in-flight window; with a big backlog, new events go first."""
        if live is None and last_seq - cursor + 1 > self.s.max_ahead:
            live = [last_seq + 1, last_seq + 1]  # what arrives from now on is "live"
        while len(self._inflight) < self.s.max_inflight:
            if live is not None and live[1] <= last_seq:
                sent = self._publish_batch(conn, live[1], last_seq)
                if sent is None:
                    break
                live[1] = sent + 1
                continue
            limit = min(last_seq, acked + self.s.max_ahead)
            if live is not None:
                if cursor >= live[0]:  # the backlog has caught up with the live events
                    cursor, live = live[1], None
                    continue
                limit = min(limit, live[0] - 1)
            if cursor > limit:
                break
            sent = self._publish_batch(conn, cursor, limit)
            if sent is None:
                break
            cursor = sent + 1
        return cursor, live

    def _batch(self, events: list[Event]) -> wire.Batch:
        return wire.Batch(
            v=1,
            store=self.s.store,
            boot_id=self.s.boot_id,
            first_seq=events[0].seq,
            last_seq=events[-1].seq,
            events=events,
        )

    def _publish_batch(self, conn: sqlite3.Connection, first: int, last: int) -> int | None:
        """Publish events first..(≤ last) as one batch; returns the last seq sent."""
        budget = self.s.batch_max_bytes - _ENVELOPE_OVERHEAD
        events: list[Event] = []
        size = 0
        for row in conn.execute(_SELECT, (first, last, 5000)):
            data = row[5].encode() if isinstance(row[5], str) else row[5]
            ev = Event(
                seq=row[0],
                id=row[1],
                type=row[2],
                ts=row[3],
                device=row[4],
                data=msgspec.Raw(data),
                clock_ok=bool(row[6]),
                boot_id=row[7],
            )
            est = (
                len(data) + len(row[1]) + len(row[2]) + len(row[3]) + len(row[4]) + len(row[7]) + 90
            )
            if events and size + est > budget:
                break
            if events and ev.seq != events[-1].seq + 1:
                break  # a hole (pruned rows cannot be unacked; be safe): stop the batch here
            events.append(ev)
            size += est
        if not events:
            return None
        batch = self._batch(events)
        payload = wire.encode(batch)
        while len(payload) > self.s.batch_max_bytes and len(batch.events) > 1:
            # The estimate was off: send the first half now, the rest next round.
            batch = self._batch(batch.events[: len(batch.events) // 2])
            payload = wire.encode(batch)
        info = self.client.publish(wire.topic(self.s.store, "up", "events"), payload, qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            self.stats.last_error = f"publish failed: {mqtt.error_string(info.rc)}"
            return None
        with self._lock:
            self._inflight[info.mid] = (batch.first_seq, batch.last_seq, info)
        self.stats.batches += 1
        self.stats.events_sent += len(batch.events)
        return batch.last_seq

    # -- state -------------------------------------------------------------------------

    def _state_payload(
        self,
        online: bool,
        outbox: int = 0,
        oldest: float | None = None,
        acked: int = 0,
        last_seq: int = 0,
    ) -> bytes:
        return wire.encode(
            wire.StoreState(
                v=1,
                online=online,
                boot_id=self.s.boot_id,
                outbox=outbox,
                oldest_unsent_s=oldest,
                version=self.s.version,
                acked_seq=acked,
                last_seq=last_seq,
            )
        )

    def _publish_state(self, conn: sqlite3.Connection, acked: int, last_seq: int) -> None:
        row = conn.execute(
            "SELECT ts FROM events WHERE seq > ? ORDER BY seq LIMIT 1", (acked,)
        ).fetchone()
        oldest = None
        if row:
            from edge.visits import parse_ts

            oldest = round(max(0.0, time.time() - parse_ts(row[0]).timestamp()), 1)
        payload = self._state_payload(True, max(0, last_seq - acked), oldest, acked, last_seq)
        self.client.publish(wire.topic(self.s.store, "up", "state"), payload, qos=1, retain=True)

    def _save_progress(
        self, conn: sqlite3.Connection, acked: int, last_seq: int, cursor: int
    ) -> None:
        """Drain progress for `touchpoint edge status` (another process): rate and ETA."""
        recent = [(t, a) for t, a in self.stats.ack_events if t >= time.time() - 30]
        rate = 0.0
        if len(recent) >= 2 and recent[-1][0] > recent[0][0]:
            rate = (recent[-1][1] - recent[0][1]) / (recent[-1][0] - recent[0][0])
        outbox = max(0, last_seq - acked)
        progress = {
            **self.link.snapshot(),
            "acked": acked,
            "sent_through": cursor - 1,
            "outbox": outbox,
            "rate_per_s": round(rate, 1),
            "eta_s": round(outbox / rate, 1) if rate > 0 and outbox else None,
            "last_ack_at": self.stats.ack_events[-1][0] if self.stats.ack_events else None,
            "last_error": self.stats.last_error,
            "rewinds": self.stats.rewinds,
            "updated": time.time(),
        }
        self._write_state(conn, "uplink", json.dumps(progress))

    @staticmethod
    def _last_seq(conn: sqlite3.Connection) -> int:
        row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
        return int(row[0]) if row else 0

    @staticmethod
    def _load_acked(conn: sqlite3.Connection) -> int:
        row = conn.execute("SELECT value FROM state WHERE key = 'hq_acked_seq'").fetchone()
        return int(row[0]) if row else 0

    def _save_acked(self, conn: sqlite3.Connection, acked: int) -> None:
        self._write_state(conn, "hq_acked_seq", str(acked))

    def _write_state(self, conn: sqlite3.Connection, key: str, value: str) -> None:
        """Save a state key; a full disk or a long lock must not kill the drain thread."""
        try:
            conn.execute(
                "INSERT OR REPLACE INTO state (key, value, updated) VALUES (?, ?, ?)",
                (key, value, time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())),
            )
        except sqlite3.OperationalError as exc:
            # Kept in memory and written again next time: a lost hq_acked_seq only
            # means resending what HQ already has (it drops duplicates).
            if str(exc) != self._state_error:
                log.warning("uplink: cannot save %s (will retry): %s", key, exc)
            self._state_error = str(exc)
        else:
            self._state_error = ""


def uplink_factory(cfg, secrets, version: str = ""):
    """A supervisor factory building the uplink from a store config (`Agent` extra component)."""
    m = cfg.mqtt
    password = secrets.read(m.password_file).decode() if m.password_file else None

    def make(eventlog) -> Uplink:
        return Uplink(
            UplinkSettings(
                store=cfg.store.id,
                db_path=Path(cfg.database.path),
                host=m.host,
                port=m.port,
                boot_id=eventlog.boot_id,
                password=password,
                tls=m.tls,
                ca_file=m.ca_file or None,
                keepalive_s=m.keepalive_s,
                session_expiry_s=m.session_expiry_s,
                max_inflight=m.max_inflight,
                batch_max_bytes=m.batch_max_kib * 1024,
                version=version,
            )
        )

    return make
