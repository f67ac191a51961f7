"""Store → mosquitto → HQ → ack, in-process with real parts: nothing lost, nothing doubled."""

from __future__ import annotations

import json
import queue
import sqlite3
import time

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from edge.eventlog import EventLog
from edge.events import DoorCount, ScanEvent
from hq.ingest import Ingester, IngestSettings
from sync import wire
from sync.uplink import Uplink, UplinkSettings
from tests.edge.agent_support import wait_for
from tests.sync.payloads import DOOR, raw_batch


def make_uplink(broker, db, store="s1", **kw):
    settings = UplinkSettings(
        store=store, db_path=db, host=broker.host, port=broker.port, boot_id="boot-1", **kw
    )
    return Uplink(settings)


def make_ingester(broker, target, **kw):
    settings = IngestSettings(
        client_id=kw.pop("client_id", "hq-1"), host=broker.host, port=broker.port, **kw
    )
    return Ingester(settings, target.open)


def acked(reader, store="s1"):
    mark = reader.marks().get(store)
    return mark.acked_through if mark else 0


def store_acked(db):
    row = (
        sqlite3.connect(db).execute("SELECT value FROM state WHERE key = 'hq_acked_seq'").fetchone()
    )
    return int(row[0]) if row else 0


def uplink_progress(db):
    row = sqlite3.connect(db).execute("SELECT value FROM state WHERE key = 'uplink'").fetchone()
    return json.loads(row[0]) if row else {}


@pytest.fixture
def reader(hq_target):
    """A second connection to the HQ database, for the test's own reads."""
    return hq_target.open()


@pytest.fixture
def hq(mosquitto, hq_target):
    ingester = make_ingester(mosquitto, hq_target, gap_timeout_s=0.5)
    ingester.start()
    assert ingester.subscribed.wait(10)
    yield ingester
    ingester.stop()


def test_events_reach_hq_and_the_ack_comes_back(mosquitto, hq, reader, tmp_path):
    db = tmp_path / "store.db"
    with EventLog(db, boot_id="boot-1") as log:
        for i in range(5000):
            log.append(
                DoorCount(door="main", direction="in" if i % 3 else "out", count=1, sensor="t"),
                "door",
            )
        log.append(ScanEvent(symbology="qr", cls="gtin", code="4006381333931"), "scan")
    up = make_uplink(mosquitto, db)
    up.start()
    try:
        wait_for(lambda: acked(reader) == 5001, what="HQ watermark 5001")
        wait_for(lambda: store_acked(db) == 5001, what="store learns the ack")
        wait_for(
            lambda: uplink_progress(db).get("acked") == 5001, what="drain progress for edge status"
        )
        progress = uplink_progress(db)
        assert progress["connected"] is True and progress["outbox"] == 0
    finally:
        up.stop()
    hq_rows = reader.events("s1")
    store_rows = (
        sqlite3.connect(db)
        .execute("SELECT seq, id, type, data FROM events ORDER BY seq")
        .fetchall()
    )
    assert [(r[0], r[1], r[2], json.loads(r[3])) for r in hq_rows] == [
        (r[0], r[1], r[2], json.loads(r[3])) for r in store_rows
    ]
    assert hq.stats.duplicates == 0 and hq.stats.dead_letters == 0


def test_live_events_keep_flowing_and_restart_resumes_from_watermark(
    mosquitto, hq, reader, tmp_path
):
    db = tmp_path / "store.db"
    log = EventLog(db, boot_id="boot-1").start()
    up = make_uplink(mosquitto, db)
    up.start()
    try:
        for burst in range(3):
            for _ in range(200):
                log.append(DoorCount(door="main", direction="in", count=1, sensor="t"), "door")
            log.flush()
            wait_for(lambda b=burst: acked(reader) == 200 * (b + 1), what="burst acked")
        up.stop()
        for _ in range(300):  # recorded while the uplink is down
            log.append(DoorCount(door="main", direction="out", count=1, sensor="t"), "door")
        log.flush()
        up = make_uplink(mosquitto, db)
        up.start()
        wait_for(lambda: acked(reader) == 900, what="backlog after restart")
    finally:
        up.stop()
        log.stop()
    assert reader.marks()["s1"].events == 900


def publish_raw(broker, topic, payload):
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="rogue", protocol=mqtt.MQTTv5)
    client.connect(broker.host, broker.port)
    client.loop_start()
    info = client.publish(topic, payload, qos=1)
    info.wait_for_publish(5)
    assert info.is_published(), f"the broker did not take the message on {topic}"
    client.disconnect()  # while the loop runs, so the DISCONNECT is sent
    client.loop_stop()


def test_bad_payloads_are_dead_lettered_with_a_reason(mosquitto, hq, reader, tmp_path):
    claim_other = raw_batch("s2", 1)
    publish_raw(mosquitto, wire.topic("s1", "up", "events"), json.dumps(claim_other).encode())
    publish_raw(mosquitto, wire.topic("s1", "up", "events"), b"\xff not json")
    bad_range = dict(claim_other, store="s1", last_seq=2)
    publish_raw(mosquitto, wire.topic("s1", "up", "events"), json.dumps(bad_range).encode())
    wait_for(lambda: hq.stats.dead_letters == 3, what="3 dead letters")
    reasons = [d["reason"] for d in reader.dead_letters()]
    assert any("'s2' in the payload" in r for r in reasons)
    assert any("malformed" in r or "JSON" in r for r in reasons)
    assert any("does not match" in r for r in reasons)
    assert acked(reader, "s2") == 0


def test_a_bad_event_is_kept_with_its_reason_and_does_not_stall_the_store(
    mosquitto, hq, reader, tmp_path
):
    batch = raw_batch("s1", 1, [DOOR, {"door": "m"}, DOOR])
    publish_raw(mosquitto, wire.topic("s1", "up", "events"), json.dumps(batch).encode())
    wait_for(lambda: acked(reader) == 3, what="watermark past the bad event")
    assert hq.stats.invalid_events == 1
    assert sum(r[3] for r in reader.door_counts("s1")) == 2


def test_gap_triggers_resend_from(mosquitto, hq, tmp_path):
    got: queue.Queue = queue.Queue()
    listener = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="listener", protocol=mqtt.MQTTv5)
    listener.on_message = lambda c, u, m: got.put((m.topic, m.payload))
    listener.connect(mosquitto.host, mosquitto.port)
    listener.subscribe(wire.topic("s1", "down", "#"), qos=1)
    listener.loop_start()
    try:
        ev = {
            "seq": 5,
            "id": "0195a4c0-0000-7000-8000-000000000005",
            "type": "door.count",
            "ts": "2026-06-01T10:00:00.000Z",
            "device": "d",
            "data": {"door": "m", "direction": "in", "count": 1, "sensor": "s"},
            "clock_ok": True,
            "boot_id": "b",
        }
        batch = {
            "v": 1,
            "store": "s1",
            "boot_id": "b",
            "first_seq": 5,
            "last_seq": 5,
            "events": [ev],
        }
        publish_raw(mosquitto, wire.topic("s1", "up", "events"), json.dumps(batch).encode())
        deadline = time.monotonic() + 10
        commands = []
        while time.monotonic() < deadline and not commands:
            try:
                topic, payload = got.get(timeout=0.5)
            except queue.Empty:
                continue
            if topic.endswith("down/cmd"):
                commands.append(json.loads(payload))
        assert commands == [{"v": 1, "cmd": "resend_from", "seq": 1}]
    finally:
        listener.loop_stop()
        listener.disconnect()


def test_stale_will_is_ignored(mosquitto, hq, reader, tmp_path):
    def state(online, boot):
        return wire.encode(wire.StoreState(v=1, online=online, boot_id=boot))

    publish_raw(mosquitto, wire.topic("s9", "up", "state"), state(True, "new-boot"))
    publish_raw(mosquitto, wire.topic("s9", "up", "state"), state(False, "old-boot"))
    wait_for(lambda: hq.stats.stale_wills == 1, what="stale will counted")
    mark = reader.marks()["s9"]
    assert mark.online is True and mark.boot_id == "new-boot"


def test_a_cleanly_stopped_ingester_takes_no_share_of_the_batches(
    mosquitto, hq_target, reader, tmp_path
):
    first = make_ingester(mosquitto, hq_target, client_id="hq-a", gap_timeout_s=60)
    second = make_ingester(mosquitto, hq_target, client_id="hq-b", gap_timeout_s=60)
    for ing in (first, second):
        ing.start()
        assert ing.subscribed.wait(10)
    second.stop()  # scaled down: its persistent session must leave the share group
    db = tmp_path / "store.db"
    with EventLog(db, boot_id="boot-1") as log:
        for _ in range(3000):
            log.append(DoorCount(door="main", direction="in", count=1, sensor="t"), "door")
    up = make_uplink(mosquitto, db, batch_max_bytes=16 * 1024)  # many small batches
    up.start()
    try:
        # Without leaving the group, every other batch would sit in hq-b's queue and the
        # watermark would stall until the store's 15 s ack timeout.
        wait_for(lambda: acked(reader) == 3000, timeout=10, what="all batches via hq-a")
        assert up.stats.rewinds == 0
    finally:
        up.stop()
        first.stop()


def test_what_no_database_can_hold_is_dead_lettered_and_ingest_goes_on(
    mosquitto, hq, reader, tmp_path
):
    # A seq past 2**63 - 1 fits neither SQLite's INTEGER nor PostgreSQL's bigint: as a
    # database error it would kill the ingester on every redelivery (a poison batch).
    def batch(seq: int) -> bytes:
        return json.dumps(raw_batch("s1", seq)).encode()

    publish_raw(mosquitto, wire.topic("s1", "up", "events"), batch(2**63))
    # Likewise a NUL in a state's boot id, which PostgreSQL's text cannot hold.
    nul_state = {"v": 1, "online": True, "boot_id": "boot\u0000"}
    publish_raw(mosquitto, wire.topic("s1", "up", "state"), json.dumps(nul_state).encode())
    publish_raw(mosquitto, wire.topic("s1", "up", "events"), batch(1))
    wait_for(lambda: acked(reader) == 1, what="the good batch after the bad ones")
    wait_for(lambda: hq.stats.dead_letters == 2, what="2 dead letters")
    assert hq.alive
    reasons = sorted(d["reason"] for d in reader.dead_letters())
    assert "seq" in reasons[0] and "NUL" in reasons[1]


def test_a_retained_state_handed_over_on_subscribe_is_not_a_sign_of_life(
    mosquitto, hq_target, reader
):
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="s7", protocol=mqtt.MQTTv5)
    client.connect(mosquitto.host, mosquitto.port)
    client.loop_start()

    def send_state(outbox: int) -> None:
        payload = wire.encode(wire.StoreState(v=1, online=True, boot_id="b", outbox=outbox))
        client.publish(
            wire.topic("s7", "up", "state"), payload, qos=1, retain=True
        ).wait_for_publish(5)

    send_state(3)  # before head office subscribes: the broker keeps it
    ingester = make_ingester(mosquitto, hq_target)
    ingester.start()
    try:
        wait_for(lambda: "s7" in reader.marks(), what="the retained state recorded")
        mark = reader.marks()["s7"]
        assert (mark.state["outbox"], mark.state_at) == (3, None)  # kept, not heard live
        send_state(4)  # the store itself, now
        wait_for(lambda: reader.marks()["s7"].state["outbox"] == 4, what="the live state")
        assert reader.marks()["s7"].state_at is not None
    finally:
        ingester.stop()
        client.loop_stop()
        client.disconnect()
