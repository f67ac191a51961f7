"""Kiosk recognition lookups at head office: `up/lookup` in, `down/lookup/{req}` out.

Wire format: docs/wire.md (`LookupRequest`, `LookupReply`). The decision is pure
(`decide`: profile rows and the time in, a reply out); `profile_rows` reads the rows
on either backend; `LookupResponder` is the thin MQTT shell `hq run` starts.

- A reply says `known: true` only for a profile whose in-store recognition consent
  is granted and took effect at or before now. Unknown pseudonym, consent denied,
  withdrawn, never asked, or not yet in effect: `known: false` and nothing else, so
  the kiosk cannot tell (or show) why.
- It holds a first name, wishlist and recently viewed product ids, the pick-up codes
  of the shopper's open orders at this store (placed with the same card): never a
  loyalty number, e-mail, address or customer id.
- The responder has its own MQTT connection (its own broker user, `{hq user}-lookup`)
  and its own thread and database connection: a lookup never queues behind the
  ingester's batches, neither in our process nor in the broker's per-client queue
  and receive-maximum window. It joins the shared subscription
  `$share/hq/touchpoint/v1/+/up/lookup`, so several `hq run` split the lookups.
- The store id comes from the topic (the broker lets a kiosk write only its own
  store's `up/lookup`), never from the payload.
- Bad requests are counted by reason and logged without their payload (it may hold
  a pseudonym). A request that waited longer than `max_age_s` in our queue is
  dropped unanswered: the kiosk has already carried on without it.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import msgspec
import paho.mqtt.client as mqtt

from hq.db import Db
from hq.ingest import iso_now
from hq.orders.status import open_order_codes
from hq.storage import HqStore, StoreUnavailable
from sync import wire
from sync.link import LinkState, lost_reason
from sync.mqtt import connect_clean, expiring, make_client

log = logging.getLogger(__name__)

# (first_name, recognition, recognition_at, wishlist JSON, recently_viewed JSON)
ProfileRow = tuple[str | None, str | None, str | None, str, str]
_ids = msgspec.json.Decoder(list)


def profile_rows(db: Db, key_id: str, pseudonym: str) -> list[ProfileRow]:
    """The profiles a pseudonym under a key belongs to (normally one), on either backend."""
    return db.q(
        "SELECT p.first_name, p.recognition, p.recognition_at, p.wishlist, p.recently_viewed"
        " FROM hq_profile_keys k JOIN hq_profiles p ON p.customer_id = k.customer_id"
        " WHERE k.key_id = ? AND k.pseudonym = ?",
        (key_id, pseudonym),
    )


def consented(status: str | None, since: str | None, now: str) -> bool:
    """In-store recognition granted and in effect at `now` (UTC ISO text, comparable)."""
    return status == "granted" and since is not None and since <= now


def _product_ids(text: str) -> list[str]:
    """Product ids fit for the wire (1..64 characters), at most MAX_REPLY_ITEMS of them."""
    try:
        ids = _ids.decode(text)
    except msgspec.DecodeError:
        return []
    fit = [i for i in ids if isinstance(i, str) and 1 <= len(i) <= 64]
    return fit[: wire.MAX_REPLY_ITEMS]


def decide(req: wire.LookupRequest, rows: Sequence[ProfileRow], now: str) -> wire.LookupReply:
    """The reply to one request, from the profile rows its pseudonym matches (pure)."""
    for first_name, status, since, wishlist, recent in rows:
        if consented(status, since, now):
            return wire.LookupReply(
                v=1,
                req=req.req,
                known=True,
                first_name=(first_name or "")[:100],
                wishlist=_product_ids(wishlist),
                recently_viewed=_product_ids(recent),
                open_orders=[],  # answer() adds the store's open pick-up orders
            )
    return wire.LookupReply(v=1, req=req.req, known=False)


def answer(db: Db, payload: bytes, now: str, store: str | None = None) -> wire.LookupReply:
    """Validate a request and decide its reply from the database; raises WireError.

    A recognised shopper's reply lists the pick-up codes of their open orders at
    `store` (placed with this card; hq/orders/), so the kiosk can offer the check-in.
    """
    req = wire.decode_lookup(payload)
    reply = decide(req, profile_rows(db, req.key_id, req.pseudonym), now)
    if reply.known and store is not None:
        codes = open_order_codes(db, store, req.key_id, req.pseudonym)
        reply = msgspec.structs.replace(reply, open_orders=codes)
    return reply


@dataclass
class LookupSettings:
    """The responder's broker connection and limits."""

    client_id: str
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False
    ca_file: str | None = None
    keepalive_s: int = 30
    max_age_s: float = 2.0
    queue_max: int = 1000
    statement_timeout_ms: int = 800


@dataclass
class LookupStats:
    """What the responder did, for logs, status and tests."""

    answered: int = 0
    recognised: int = 0
    stale: int = 0
    busy: int = 0
    database_errors: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    connected: bool = False
    last_error: str = ""
    slowest_ms: float = 0.0


class LookupResponder:
    """Answers `up/lookup` from the HQ database on its own connection and thread."""

    def __init__(
        self,
        settings: LookupSettings,
        store_factory: Callable[[], HqStore],
        now: Callable[[], str] = iso_now,
    ) -> None:
        self.s = settings
        self.store_factory = store_factory
        self.now = now
        self.stats = LookupStats()
        self.topic = f"$share/{wire.SHARE_GROUP}/{wire.PREFIX}/+/up/lookup"
        self.subscribed = threading.Event()
        self._inbox: queue.Queue[tuple[float, str, bytes]] = queue.Queue(settings.queue_max)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.link = LinkState("lookup", f"{settings.host}:{settings.port}", log)
        self.client = make_client(
            settings.client_id,
            username=settings.username,
            password=settings.password,
            tls=settings.tls,
            ca_file=settings.ca_file,
            nodelay=True,
        )
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self.client.on_connect_fail = lambda *_: self.link.failed("cannot reach the broker")

    # -- MQTT callbacks (paho's thread: never touch the database here) ---------------------

    def _on_connect(self, client, userdata, flags, reason, properties) -> None:
        if reason.is_failure:
            self.stats.last_error = f"broker refused connection: {reason}"
            log.error("lookup: %s", self.stats.last_error)
            self.link.failed(self.stats.last_error)
            return
        self.link.up()
        self.stats.connected = True
        client.subscribe(self.topic, qos=1)

    def _on_disconnect(self, client, userdata, flags, reason, properties) -> None:
        self.stats.connected = False
        self.subscribed.clear()
        if self._stop.is_set():
            self.link.stopping()
        else:
            self.link.down(lost_reason(reason))

    def _on_subscribe(self, client, userdata, mid, reasons, properties) -> None:
        if any(r.is_failure for r in reasons):
            self.stats.last_error = f"subscription refused: {reasons}"
            log.error("lookup: %s", self.stats.last_error)
        else:
            self.subscribed.set()

    def _on_message(self, client, userdata, msg: mqtt.MQTTMessage) -> None:
        try:
            self._inbox.put_nowait((time.monotonic(), msg.topic, msg.payload))
        except queue.Full:
            self.stats.busy += 1
            log.warning("lookup: %d requests waiting; dropped one unanswered", self.s.queue_max)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Connect (in the background, clean session) and start the worker."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="hq-lookup", daemon=True)
        self._thread.start()
        # While head office is away no lookups queue for it: they would be stale.
        connect_clean(self.client, self.s.host, self.s.port, keepalive_s=self.s.keepalive_s)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop answering, then disconnect."""
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
        """One line for `systemctl status`."""
        st = self.stats
        state = "answering" if st.connected else "not connected"
        bad = sum(st.rejected.values())
        return f"lookups {state}: answered {st.answered}, stale {st.stale}, bad {bad}"

    # -- worker ----------------------------------------------------------------------------

    def _run(self) -> None:
        db: Db | None = None
        try:
            while not self._stop.is_set():
                try:
                    received, name, payload = self._inbox.get(timeout=0.2)
                except queue.Empty:
                    continue
                if time.monotonic() - received > self.s.max_age_s:
                    self.stats.stale += 1
                    continue
                if db is None:
                    db = self._open()
                    if db is None:
                        continue
                if not self._handle(db, received, name, payload):
                    db.store.close()
                    db = None  # reopened for the next request
        finally:
            if db is not None:
                db.store.close()

    def _open(self) -> Db | None:
        try:
            store = self.store_factory()
        except Exception as exc:
            # Lookups are best effort: the kiosk carries on generic. The next request
            # tries again; `hq run` must not stop ingesting over it.
            self._db_error(exc)
            return None
        db = Db(store)
        if db.dialect == "postgresql":
            # Bounded: a lookup the kiosk has given up on is not worth a long query.
            try:
                with store.transaction() as cur:
                    cur.execute(f"SET statement_timeout = {int(self.s.statement_timeout_ms)}")
            except StoreUnavailable as exc:
                store.close()
                self._db_error(exc)
                return None
        return db

    def _db_error(self, exc: Exception) -> None:
        self.stats.database_errors += 1
        self.stats.last_error = f"database unavailable: {exc}"
        log.warning("lookup: %s; unanswered (the kiosk carries on generic)", self.stats.last_error)

    def _handle(self, db: Db, received: float, name: str, payload: bytes) -> bool:
        """Answer one request; False if the database failed (the caller reopens it)."""
        parsed = wire.parse_topic(name)
        if parsed is None or parsed[1] != "up/lookup":
            self._reject("topic", f"not a lookup topic: {name}")
            return True
        store = parsed[0]
        try:
            reply = answer(db, payload, self.now(), store)
        except wire.WireError as exc:
            self._reject("invalid", f"{store}: {exc}")
            return True
        except StoreUnavailable as exc:
            self._db_error(exc)
            return False
        self.client.publish(
            wire.lookup_reply_topic(store, reply.req),
            wire.encode(reply),
            qos=1,
            properties=expiring(wire.LOOKUP_EXPIRY_S),
        )
        self.stats.answered += 1
        self.stats.recognised += reply.known
        took = (time.monotonic() - received) * 1000
        self.stats.slowest_ms = max(self.stats.slowest_ms, took)
        return True

    def _reject(self, reason: str, detail: str) -> None:
        # `detail` is a msgspec reason or the topic: never the payload, which may hold
        # a pseudonym.
        self.stats.rejected[reason] += 1
        log.warning("lookup: bad request (%s): %s", reason, detail)
