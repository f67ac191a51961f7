"""The lookup responder's MQTT shell, on a real mosquitto and each HQ backend."""

from __future__ import annotations

import logging
import queue
import time

import pytest

from edge.configtree import SecretResolver
from hq.backends import open_hq_store
from hq.config import HqDatabaseSection
from hq.lookup import LookupResponder, LookupSettings
from sync import wire
from tests.hq.test_lookup import CARDS, NOW, import_profiles, pseudonym, request
from tests.sync.broker_peer import Peer


def kiosk_peer(mosquitto, store: str) -> Peer:
    peer = Peer(mosquitto.port, None, None, f"{store}-kiosk")
    peer.connect()
    assert peer.subscribe(wire.topic(store, "down", "lookup", "#"))[0].value == 1
    return peer


def ask_anna(kiosk: Peer, times: int) -> None:
    """Ask for Anna `times` times, request ids req-0000, req-0001, …"""
    for i in range(times):
        req = wire.encode(request(CARDS["anna"], req=f"req-{i:04d}"))
        kiosk.publish(wire.topic("ams-001", "up", "lookup"), req)


def wait(predicate, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            return False
        time.sleep(0.01)
    return True


def test_responder_answers_on_the_asking_stores_topic_and_counts_bad_requests(
    mosquitto, hq_target, tmp_path, caplog
):
    import_profiles(hq_target, tmp_path)
    settings = LookupSettings(client_id="hq-1-lookup", host=mosquitto.host, port=mosquitto.port)
    responder = LookupResponder(settings, hq_target.open, now=lambda: NOW)
    responder.start()
    a, b = kiosk_peer(mosquitto, "ams-001"), kiosk_peer(mosquitto, "utr-002")
    try:
        assert responder.subscribed.wait(10)
        caplog.set_level(logging.WARNING, logger="hq.lookup")
        # Bad requests first: counted and logged with a reason, never the payload.
        secret = pseudonym(CARDS["anna"])
        for bad in (b"\xff not json", wire.encode(request(CARDS["anna"]))[:-1] + b',"x":1}'):
            a.publish(wire.topic("ams-001", "up", "lookup"), bad)
        assert wait(lambda: responder.stats.rejected["invalid"] == 2)
        assert "bad request" in caplog.text and secret not in caplog.text
        # The store is the topic's: each kiosk gets its own reply, and only that one.
        a.publish(wire.topic("ams-001", "up", "lookup"), wire.encode(request(CARDS["anna"])))
        b.publish(
            wire.topic("utr-002", "up", "lookup"),
            wire.encode(request(CARDS["bram"], req="req-0002")),
        )
        got_a, got_b = a.next_message(), b.next_message()
        assert got_a.topic == wire.lookup_reply_topic("ams-001", "req-0001")
        reply_a = wire.decode_lookup_reply(got_a.payload)
        assert (reply_a.known, reply_a.first_name, reply_a.wishlist) == (
            True,
            "Anna",
            ["DRILL-2", "JACKET-1"],
        )
        assert got_b.topic == wire.lookup_reply_topic("utr-002", "req-0002")
        assert wire.decode_lookup_reply(got_b.payload).known is False
        for peer in (a, b):
            try:
                extra = peer.next_message(0.3)
            except queue.Empty:
                continue
            raise AssertionError(f"unexpected reply on {extra.topic}")
        assert responder.alive
        assert (responder.stats.answered, responder.stats.recognised) == (2, 1)
        # No log line of the responder ever holds a pseudonym.
        assert secret not in caplog.text and pseudonym(CARDS["bram"]) not in caplog.text
    finally:
        for peer in (a, b):
            peer.close()
        responder.stop()


def test_requests_that_waited_too_long_are_dropped_unanswered(mosquitto, tmp_path):
    db = HqDatabaseSection(path=str(tmp_path / "hq.db"))

    def slow_open():
        # A database that takes its time to open: requests queue up behind the first.
        time.sleep(0.6)
        return open_hq_store(db, SecretResolver(tmp_path))

    settings = LookupSettings(
        client_id="hq-1-lookup", host=mosquitto.host, port=mosquitto.port, max_age_s=0.3
    )
    responder = LookupResponder(settings, slow_open, now=lambda: NOW)
    responder.start()
    kiosk = kiosk_peer(mosquitto, "ams-001")
    try:
        assert responder.subscribed.wait(10)
        ask_anna(kiosk, 3)
        first = kiosk.next_message()
        assert first.topic == wire.lookup_reply_topic("ams-001", "req-0000")
        assert wait(lambda: responder.stats.stale == 2)
        with pytest.raises(queue.Empty):
            kiosk.next_message(0.3)
    finally:
        kiosk.close()
        responder.stop()


def test_a_database_that_cannot_be_opened_leaves_requests_unanswered_not_a_crash(
    mosquitto, tmp_path
):
    (tmp_path / "a-directory").mkdir()
    db = HqDatabaseSection(path=str(tmp_path / "a-directory"))  # not a file SQLite can open
    settings = LookupSettings(client_id="hq-1-lookup", host=mosquitto.host, port=mosquitto.port)
    responder = LookupResponder(settings, lambda: open_hq_store(db, SecretResolver(tmp_path)))
    responder.start()
    kiosk = kiosk_peer(mosquitto, "ams-001")
    try:
        assert responder.subscribed.wait(10)
        ask_anna(kiosk, 2)
        assert wait(lambda: responder.stats.database_errors == 2)
        assert responder.alive and responder.stats.answered == 0
        assert "database unavailable" in responder.stats.last_error
    finally:
        kiosk.close()
        responder.stop()
