"""Alerts published retained on `touchpoint/v1/{store}/alerts` by the feed worker, seen by a
subscriber on a private mosquitto: raised, then `[]` once cleared, and again after a restart."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from hq.alert_step import AlertStep
from hq.config import HqDatabaseSection
from hq.db import Db
from hq.feed_worker import FeedSettings, FeedWorker, client_publisher
from hq.sqlite_store import SqliteHqStore
from sync import wire
from tests.edge.agent_support import wait_for
from tests.hq.mqtt_probe import retained
from tests.hq.test_status import T0, at
from tests.support import touchpoint_process
from tests.sync.hq_config import write_hq_configs

TOPIC = "touchpoint/v1/s2/alerts"


def alerts_on(mosquitto, topic: str = TOPIC) -> list[tuple[str, str]] | None:
    """(kind, detail) of the alerts retained on `topic`; None when nothing is retained."""
    held = retained(mosquitto, topic).get(topic)
    if held is None:
        return None
    message = wire.decode_alerts(held)
    return [(a.kind, a.detail) for a in message.alerts]


def test_alerts_are_retained_per_store_and_cleared_to_an_empty_list(mosquitto, tmp_path: Path):
    path = tmp_path / "hq.db"
    hq = SqliteHqStore(path)
    hq.dead_letter("touchpoint/v1/s2/up/events", "s2", "batch: bad", b"{", at(0))
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="hq-1", protocol=mqtt.MQTTv5)
    client.connect(mosquitto.host, mosquitto.port)
    client.loop_start()
    clock = {"now": T0.timestamp() + 60}
    worker = FeedWorker(
        lambda: SqliteHqStore(path),
        client_publisher(client),
        FeedSettings(interval_s=0.05),
        now=lambda: clock["now"],
        steps=[AlertStep(interval_s=0)],
    )
    worker.start()
    try:
        wait_for(lambda: alerts_on(mosquitto) is not None, what="the alert retained")
        assert alerts_on(mosquitto) == [
            ("dead_letters", f"1 dead letter in the last 60 minutes, last {at(0)}")
        ]
        clock["now"] += 3600  # the dead letter is an hour old: cleared
        wait_for(lambda: alerts_on(mosquitto) == [], what="the empty list retained")
        # The outbox row goes once the broker's ack is back, just after it retains it.
        wait_for(
            lambda: Db(hq).q("SELECT count(*) FROM hq_alert_outbox") == [(0,)],
            what="the outbox emptied",
        )
    finally:
        worker.stop()
    # A broker that lost its retained messages gets the open ones again from a new process.
    hq.dead_letter("touchpoint/v1/s2/up/events", "s2", "batch: bad", b"{", at(3600))
    step = AlertStep()
    assert step.run(Db(hq), client_publisher(client), T0.timestamp() + 3660) == 1
    client.publish(TOPIC, b"", qos=1, retain=True).wait_for_publish(5)  # lost
    time.sleep(0.2)
    assert alerts_on(mosquitto) is None
    assert AlertStep().run(Db(hq), client_publisher(client), T0.timestamp() + 3670) == 1
    assert [kind for kind, _ in alerts_on(mosquitto) or []] == ["dead_letters"]
    client.loop_stop()
    client.disconnect()
    hq.close()


def test_hq_run_raises_and_retains_an_alert_for_dead_letters(mosquitto, tmp_path: Path):
    db = HqDatabaseSection(path=str(tmp_path / "hq.db"))
    (config,) = write_hq_configs(tmp_path, db, mosquitto.port)
    config.write_text(config.read_text() + "[feeds]\ninterval_s = 0.1\n[alerts]\ninterval_s = 1\n")
    hq = touchpoint_process("hq", "run", "-c", str(config), stderr=None)
    sender = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="s1", protocol=mqtt.MQTTv5)
    sender.connect(mosquitto.host, mosquitto.port)
    sender.loop_start()
    topic = "touchpoint/v1/s1/alerts"
    try:
        # Until head office has subscribed, the broker has no one to give the batch to.
        deadline = time.monotonic() + 30
        while alerts_on(mosquitto, topic) is None and time.monotonic() < deadline:
            sender.publish(wire.topic("s1", "up", "events"), b"not json", qos=1)
            time.sleep(0.5)
        [(kind, detail)] = alerts_on(mosquitto, topic) or [("none", "")]
        assert kind == "dead_letters" and "in the last 60 minutes" in detail
    finally:
        sender.loop_stop()
        sender.disconnect()
        hq.send_signal(signal.SIGTERM)
        assert hq.wait(20) == 0
