"""Feeds end to end: a store's batches → `touchpoint hq run` (real mosquitto, SQLite) →
MQTT feed topics, `touchpoint hq feed` and the GDPR commands."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import queue
import signal
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from hq.config import HqDatabaseSection
from sync import wire
from tests.hq.storelog import StoreLog
from tests.support import touchpoint, touchpoint_process
from tests.sync.hq_config import write_hq_configs


class Subscriber:
    """A feed reader on the broker, collecting (topic, payload, retained)."""

    def __init__(self, broker, name: str) -> None:
        self.got: queue.Queue = queue.Queue()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=name, protocol=mqtt.MQTTv5)
        self.client.on_message = lambda c, u, m: self.got.put(
            (m.topic, json.loads(m.payload), m.retain)
        )
        self.client.connect(broker.host, broker.port)
        self.client.subscribe("touchpoint/v1/+/feed/#", qos=1)
        self.client.loop_start()

    def until(self, done, timeout: float = 30.0) -> list[tuple[str, dict, bool]]:
        """Messages received until `done(messages)` holds (and 1 s more), or the timeout."""
        out: list = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not done(out):
            with contextlib.suppress(queue.Empty):
                out.append(self.got.get(timeout=0.1))
        return out + self.messages(settle=1.0)

    def messages(self, settle: float = 2.0) -> list[tuple[str, dict, bool]]:
        out, deadline = [], time.monotonic() + settle
        while time.monotonic() < deadline:
            try:
                out.append(self.got.get(timeout=0.1))
                deadline = time.monotonic() + settle
            except queue.Empty:
                pass
        return out

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def publish(broker, store: str, payloads: list[bytes]) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=store, protocol=mqtt.MQTTv5)
    client.connect(broker.host, broker.port)
    client.loop_start()
    for payload in payloads:
        info = client.publish(wire.topic(store, "up", "events"), payload, qos=1)
        info.wait_for_publish(5)
        assert info.is_published()
    client.disconnect()
    client.loop_stop()


def test_hq_run_publishes_every_revision_and_retains_the_newest(mosquitto, tmp_path):
    db = HqDatabaseSection(path=str(tmp_path / "hq.db"))
    (config,) = write_hq_configs(tmp_path, db, mosquitto.port)
    config.write_text(config.read_text() + "[feeds]\ninterval_s = 0.2\n")
    reader = Subscriber(mosquitto, "reader")
    hq = touchpoint_process("hq", "run", "-c", str(config), stderr=None)
    try:
        log = StoreLog("s1")
        log.door("2026-06-01T08:10:00.000Z", count=3)
        log.door("2026-06-01T08:20:00.000Z", "out")
        # Like a store, send until head office answers (before `hq run` has subscribed,
        # the broker has no one to give the batch to); storing it twice is harmless.
        first: list = []
        deadline = time.monotonic() + 30
        while not first and time.monotonic() < deadline:
            publish(mosquitto, "s1", log.payloads())
            first = reader.until(
                lambda got: any(t.endswith("_chain/feed/day") for t, _, _ in got), 3
            )
        days = [p for t, p, _ in first if t == "touchpoint/v1/s1/feed/day"]
        assert days and days[-1]["entries"] == 3 and days[-1]["revision"] == 1
        hours = [p for t, p, _ in first if t == "touchpoint/v1/s1/feed/hour"]
        assert len(hours) == 24 and {h["v"] for h in hours} == {1}
        chain = [p for t, p, _ in first if t == "touchpoint/v1/_chain/feed/day"]
        assert chain and chain[-1]["entries"] == 3 and chain[-1]["stores"] == 1
        # A late event: the changed buckets come again with a higher revision.
        log.door("2026-06-01T08:40:00.000Z", count=2)
        publish(mosquitto, "s1", log.payloads(log.events[-1:]))
        second = reader.until(
            lambda got: any(t.endswith("s1/feed/day") and p["revision"] == 2 for t, p, _ in got)
        )
        day = [p for t, p, _ in second if t == "touchpoint/v1/s1/feed/day"][-1]
        assert (day["entries"], day["revision"]) == (5, 2)
        eight = [p for t, p, _ in second if p.get("start") == "2026-06-01T08:00Z"]
        assert eight[-1]["revision"] == 2 and eight[-1]["entries"] == 5
        # A reader joining now gets the newest bucket of each topic, retained.
        late = Subscriber(mosquitto, "late")
        retained = late.messages()
        late.close()
        by_topic = {t: p for t, p, r in retained if r}
        assert by_topic["touchpoint/v1/s1/feed/day"]["revision"] == 2
        assert by_topic["touchpoint/v1/s1/feed/hour"]["start"] == "2026-06-01T23:00Z"
    finally:
        hq.send_signal(signal.SIGTERM)
        hq.wait(20)
        reader.close()
    # The CLI reads the same feed, as JSON and as CSV.
    result = touchpoint("hq", "feed", "-c", str(config), "--store", "s1", "--from", "2026-06-01")
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert (row["entries"], row["exits"], row["visitors"], row["revision"]) == (5, 1, 5, 2)
    as_csv = touchpoint("hq", "feed", "-c", str(config), "--store", "s1", "--from", "2026-06-01",
                        "--period", "hour", "--format", "csv")  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert len(rows) == 24 and rows[8]["entries"] == "5" and rows[8]["conversion"] == "0.0"
    chain = touchpoint("hq", "feed", "-c", str(config), "--chain", "--from", "2026-06-01")
    assert json.loads(chain.stdout)[0]["visitors"] == 5
    bad = touchpoint("hq", "feed", "-c", str(config), "--store", "s1", "--from", "June")
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr
    both = touchpoint("hq", "feed", "-c", str(config), "--store", "s1", "--chain")
    assert both.returncode == 2
    unknown = touchpoint("hq", "forget", "-c", str(config), "--customer", "nobody")
    assert unknown.returncode == 2 and "no data held" in unknown.stderr
