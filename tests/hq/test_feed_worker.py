"""The feed worker: one at a time on PostgreSQL; newest bucket retained, older revisions not."""

from __future__ import annotations

import json
import time

from hq.feed_worker import FeedSettings, FeedWorker
from tests.hq.storelog import StoreLog, deliver

LATER = 1_900_000_000.0


def test_one_worker_runs_the_feeds_and_publishes_newest_retained(hq_target):
    hq = hq_target.open()
    sent: list[tuple[str, dict, bool]] = []

    def publish(topic, payload, retain):
        sent.append((topic, json.loads(payload), retain))
        return True

    workers = [
        FeedWorker(hq_target.open, publish, FeedSettings(interval_s=0.1), now=lambda: LATER)
        for _ in range(2)
    ]
    for w in workers:
        w.start()
    try:
        log = StoreLog("s1")
        log.door("2026-06-01T08:10:00.000Z", count=3)
        log.door("2026-06-02T08:10:00.000Z", count=2)
        deliver(hq, "s1", log.payloads())
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any(
            t.endswith("s1/feed/day") and p["day"] == "2026-06-02" for t, p, _ in sent
        ):
            time.sleep(0.1)
        time.sleep(0.5)
        active = [w.stats.active for w in workers]
        assert sorted(active) == [False, True]  # the feed lock elects one
        days = [(p["day"], r) for t, p, r in sent if t == "touchpoint/v1/s1/feed/day"]
        assert days == [("2026-06-01", False), ("2026-06-02", True)]  # each once: no twin
        hours = [(p["start"], r) for t, p, r in sent if t == "touchpoint/v1/s1/feed/hour"]
        assert [s for s, r in hours if r] == ["2026-06-02T23:00Z"]  # only the newest retained
        assert hq.query("SELECT count(*) FROM hq_feed_outbox", ())[0][0] == 0
    finally:
        for w in workers:
            w.stop()
