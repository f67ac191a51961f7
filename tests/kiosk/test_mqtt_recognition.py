"""The kiosk's MQTT `Recognition` against a real mosquitto: replies, bad replies, offline."""

from __future__ import annotations

import threading
import time

from kiosk.core.mqtt_recognition import MqttRecognition
from kiosk.core.recognition import ProfileSummary
from sync import wire
from sync.mosquitto import free_port
from tests.sync.broker_peer import Peer

STORE = "ams-001"
PSEUDONYM = "ab" * 32


def answering(mosquitto, reply_for) -> Peer:
    """A stand-in head office that answers each request with `reply_for(request)`."""
    hq = Peer(mosquitto.port, None, None, "hq-test")
    hq.connect()
    assert hq.subscribe(wire.topic(STORE, "up", "lookup"))[0].value == 1

    def serve() -> None:
        while True:
            msg = hq.next_message(30)
            if msg.payload == b"stop":
                return
            req = wire.decode_lookup(msg.payload)
            topic, payload = reply_for(req)
            hq.client.publish(topic, payload, qos=1)

    threading.Thread(target=serve, daemon=True).start()
    return hq


def test_a_known_reply_becomes_the_profile_summary(mosquitto):
    def known(req):
        reply = wire.LookupReply(
            v=1, req=req.req, known=True, first_name="Anna", wishlist=["DRILL-2"]
        )
        return wire.lookup_reply_topic(STORE, req.req), wire.encode(reply)

    hq = answering(mosquitto, known)
    rec = MqttRecognition(STORE, host=mosquitto.host, port=mosquitto.port).start()
    try:
        assert rec.ready.wait(10)
        assert rec.lookup(PSEUDONYM, "k1", 1.0) == ProfileSummary("Anna", wishlist=("DRILL-2",))
        assert rec.stats.recognised == 1
    finally:
        hq.publish(wire.topic(STORE, "up", "lookup"), b"stop")
        rec.close()
        hq.close()


def test_bad_or_mismatched_replies_are_counted_and_treated_as_no_answer(mosquitto):
    answers = iter(
        [
            lambda req: (wire.lookup_reply_topic(STORE, req.req), b'{"v":1,"known":true}'),
            lambda req: (
                wire.lookup_reply_topic(STORE, req.req),
                wire.encode(wire.LookupReply(v=1, req="someone-else", known=True, first_name="X")),
            ),
        ]
    )
    hq = answering(mosquitto, lambda req: next(answers)(req))
    rec = MqttRecognition(STORE, host=mosquitto.host, port=mosquitto.port).start()
    try:
        assert rec.ready.wait(10)
        assert rec.lookup(PSEUDONYM, "k1", 0.3) is None
        assert rec.lookup(PSEUDONYM, "k1", 0.3) is None
        assert rec.stats.bad_replies == {"invalid": 1, "req": 1}
        assert rec.stats.timed_out == 2
    finally:
        hq.publish(wire.topic(STORE, "up", "lookup"), b"stop")
        rec.close()
        hq.close()


def test_no_broker_means_no_answer_at_once():
    rec = MqttRecognition(STORE, host="127.0.0.1", port=free_port()).start()
    try:
        t0 = time.monotonic()
        assert rec.lookup(PSEUDONYM, "k1", 1.0) is None
        assert time.monotonic() - t0 < 0.05
        assert rec.stats.offline == 1
    finally:
        rec.close()
