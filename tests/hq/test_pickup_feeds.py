"""Click & collect feed figures when a store's events arrive out of order (both backends)."""

from __future__ import annotations

from datetime import date

from hq.db import Db
from hq.feeds import store_feed
from hq.rollup import Rollup
from tests.hq.storelog import StoreLog, deliver

LATER = 1_900_000_000.0  # 2030: every bucket's hour is over


def test_an_orders_first_ready_mark_arriving_late_moves_the_judgement(hq_store):
    db = Db(hq_store)
    rollup = Rollup(db, now=lambda: LATER)
    log = StoreLog("s1")
    promised = {"order": "R-1", "promised_at": "2026-06-01T12:00:00Z"}
    first = log.add("pickup.ready", "2026-06-01T11:00:00.000Z", promised | {"lines_ready": 1})
    second = log.add("pickup.ready", "2026-06-02T09:00:00.000Z", promised | {"lines_ready": 2})
    # The live event comes first (the store's backlog drains behind it): judged late.
    deliver(hq_store, "s1", log.payloads([second]))
    rollup.run_once()
    (day2,) = store_feed(db, "s1", "day", date(2026, 6, 2), date(2026, 6, 2))
    assert (day2["ready_on_time"], day2["ready_late"]) == (0, 1)
    # The first mark arrives: it was on time, and the second is no longer judged.
    deliver(hq_store, "s1", log.payloads([first]))
    rollup.run_once()
    days = store_feed(db, "s1", "day", date(2026, 6, 1), date(2026, 6, 2))
    assert [(d["day"], d["ready_on_time"], d["ready_late"], d["pickups_ready"]) for d in days] == [
        ("2026-06-01", 1, 0, 1),
        ("2026-06-02", 0, 0, 1),
    ]
