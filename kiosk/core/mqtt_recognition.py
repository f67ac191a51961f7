"""`Recognition` over MQTT: ask head office on `up/lookup`, wait for `down/lookup/{req}`.

Wire format: docs/wire.md (`LookupRequest`, `LookupReply`). The kiosk connects as
its own broker user, `{store}-kiosk`, whose role may publish only its store's
`up/lookup` and read only its `down/lookup/#` (docs/broker.md): the store agent's
identity (client id = store id) stays the agent's alone, so the kiosk can never knock
the agent off the broker, and a kiosk can neither forge events nor read acks.

One connection, opened when the kiosk starts (a clean session: replies meant for a
kiosk that was away are worthless), subscribed once to `down/lookup/#`; each lookup
gets a random request id and waits on its own event. Offline, refused, or no reply in
time: None, at once or after the timeout, and the kiosk carries on generic. Replies
that do not follow the wire format are counted by reason and logged without content.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import paho.mqtt.client as mqtt

from edge.visits import format_ts
from kiosk.core.recognition import ProfileSummary
from sync import wire
from sync.broker_config import kiosk_user
from sync.link import LinkState, lost_reason
from sync.mqtt import connect_clean, expiring, make_client

log = logging.getLogger(__name__)


def summary_of(reply: wire.LookupReply) -> ProfileSummary | None:
    """What the screen may show for a reply: None unless head office knows the shopper."""
    if not reply.known or not reply.first_name:
        return None
    return ProfileSummary(
        first_name=reply.first_name,
        wishlist=tuple(reply.wishlist),
        recently_viewed=tuple(reply.recently_viewed),
        open_orders=tuple(reply.open_orders),
    )


@dataclass
class RecognitionStats:
    """What the lookups did, for logs and tests."""

    asked: int = 0
    recognised: int = 0
    not_known: int = 0
    timed_out: int = 0
    offline: int = 0
    bad_replies: Counter[str] = field(default_factory=Counter)


class _Waiting:
    __slots__ = ("done", "reply")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.reply: wire.LookupReply | None = None


class MqttRecognition:
    """Looks shoppers up at head office over the kiosk's own MQTT connection."""

    def __init__(
        self,
        store: str,
        *,
        host: str,
        port: int,
        password: str | None = None,
        tls: bool = False,
        ca_file: str | None = None,
        keepalive_s: int = 30,
    ) -> None:
        self.store = store
        self.host, self.port, self.keepalive_s = host, port, keepalive_s
        self.stats = RecognitionStats()
        self.ready = threading.Event()  # connected and subscribed to our replies
        self._waiting: dict[str, _Waiting] = {}
        self._lock = threading.Lock()
        self._closing = False
        self._reply_filter = wire.topic(store, "down", "lookup", "#")
        self._reply_prefix = wire.topic(store, "down", "lookup", "")
        self.link = LinkState("kiosk lookups", f"{host}:{port}", log)
        user = kiosk_user(store)
        self.client = make_client(
            user, username=user, password=password, tls=tls, ca_file=ca_file, nodelay=True
        )
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self.client.on_connect_fail = lambda *_: self.link.failed("cannot reach the broker")

    def start(self) -> MqttRecognition:
        """Connect in the background (paho reconnects by itself)."""
        connect_clean(self.client, self.host, self.port, keepalive_s=self.keepalive_s)
        return self

    def close(self) -> None:
        """Disconnect and stop the network thread."""
        self._closing = True
        self.client.disconnect()
        self.client.loop_stop()

    # -- paho's thread ---------------------------------------------------------------------

    def _on_connect(self, client, userdata, flags, reason, properties) -> None:
        if reason.is_failure:
            self.link.failed(f"broker refused connection: {reason}")
            return
        self.link.up()
        client.subscribe(self._reply_filter, qos=1)

    def _on_subscribe(self, client, userdata, mid, reasons, properties) -> None:
        if any(r.is_failure for r in reasons):
            log.error("kiosk lookups: subscription to our replies refused: %s", reasons)
        else:
            self.ready.set()

    def _on_disconnect(self, client, userdata, flags, reason, properties) -> None:
        self.ready.clear()
        if self._closing:
            self.link.stopping()
        else:
            self.link.down(lost_reason(reason))

    def _on_message(self, client, userdata, msg: mqtt.MQTTMessage) -> None:
        req = msg.topic.removeprefix(self._reply_prefix)
        try:
            reply = wire.decode_lookup_reply(msg.payload)
        except wire.WireError as exc:
            self._bad("invalid", str(exc))
            return
        if reply.req != req:
            self._bad("req", "the reply's request id differs from its topic's")
            return
        with self._lock:
            waiting = self._waiting.get(req)
        if waiting is None:
            return  # late: that lookup already gave up (counted there as timed out)
        waiting.reply = reply
        waiting.done.set()

    def _bad(self, reason: str, detail: str) -> None:
        self.stats.bad_replies[reason] += 1
        log.warning("kiosk lookups: bad reply (%s): %s", reason, detail)

    # -- the kiosk's lookup worker ---------------------------------------------------------

    def lookup(self, pseudonym: str, key_id: str, timeout_s: float) -> ProfileSummary | None:
        """Ask head office; the summary, or None (unknown, no consent, offline, too slow)."""
        self.stats.asked += 1
        if not self.ready.is_set():
            self.stats.offline += 1
            return None
        deadline = time.monotonic() + timeout_s
        req = uuid.uuid4().hex
        request = wire.LookupRequest(
            v=1, req=req, key_id=key_id, pseudonym=pseudonym, sent_at=format_ts(datetime.now(UTC))
        )
        waiting = _Waiting()
        with self._lock:
            self._waiting[req] = waiting
        try:
            # The broker drops a request nobody took in time instead of delivering it late.
            self.client.publish(
                wire.topic(self.store, "up", "lookup"),
                wire.encode(request),
                qos=1,
                properties=expiring(wire.LOOKUP_EXPIRY_S),
            )
            if not waiting.done.wait(max(0.0, deadline - time.monotonic())):
                self.stats.timed_out += 1
                return None
        finally:
            with self._lock:
                self._waiting.pop(req, None)
        summary = summary_of(waiting.reply) if waiting.reply else None
        if summary is None:
            self.stats.not_known += 1
        else:
            self.stats.recognised += 1
        return summary
