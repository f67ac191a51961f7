"""Ingest → dirty marks → rollup → feed, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time
from datetime import date

from hq.db import Db
from hq.feeds import chain_feed, store_feed
from hq.rollup import Rollup
from tests.hq.storelog import StoreLog, deliver

LATER = 1_900_000_000.0  # 2030: every bucket of 2026 is over


def test_door_counts_become_hour_and_day_buckets(hq_store):
    log = StoreLog("s1")
    log.door("2026-06-01T08:10:00.000Z", count=3)
    log.door("2026-06-01T08:20:00.000Z", "out")
    log.door("2026-06-01T09:05:00.000Z", count=2)
    deliver(hq_store, "s1", log.payloads())
    db = Db(hq_store)
    result = Rollup(db, now=lambda: LATER).run_once()
    assert result.days == 1 and result.dirty_rows >= 1
    hours = store_feed(db, "s1", "hour", date(2026, 6, 1), date(2026, 6, 1))
    assert len(hours) == 24  # unregistered: UTC hours
    h8 = next(h for h in hours if h["start"] == "2026-06-01T08:00Z")
    assert (h8["entries"], h8["exits"], h8["visitors"], h8["unregistered"]) == (3, 1, 3, True)
    assert h8["conversion"] == 0.0 and h8["revision"] == 1
    h3 = next(h for h in hours if h["start"] == "2026-06-01T03:00Z")
    assert h3["visitors"] == 0 and h3["conversion"] is None  # zero denominator: null
    (day,) = store_feed(db, "s1", "day", date(2026, 6, 1), date(2026, 6, 1))
    assert day["visitors"] == 5 and day["counting_accuracy"] == 1 - 4 / 6
    # Nothing dirty: a second pass does nothing and revisions stay.
    assert Rollup(db, now=lambda: LATER).run_once().days == 0
    # A late event raises the revision of exactly the buckets it changes.
    log.door("2026-06-01T08:40:00.000Z", count=1)
    deliver(hq_store, "s1", log.payloads(log.events[-1:]))
    again = Rollup(db, now=lambda: LATER).run_once()
    # The 08:00 hour, the day, and the 15 later hours whose closing occupancy moved.
    assert again.changed == 17
    hours = store_feed(db, "s1", "hour", date(2026, 6, 1), date(2026, 6, 1))
    assert [h["revision"] for h in hours] == [1] * 8 + [2] * 16
    assert hours[8]["entries"] == 4 and hours[23]["occupancy_end"] == 5
    chain = chain_feed(db, "day", date(2026, 6, 1), date(2026, 6, 1))
    assert chain[0]["visitors"] == 6 and chain[0]["stores"] == 1
    assert json.loads(json.dumps(chain))  # plain JSON


def test_a_running_day_is_recomputed_at_most_every_today_every_s(hq_store):
    during = 1780308000.0  # 2026-06-01T10:00Z: the day is still running
    db = Db(hq_store)
    rollup = Rollup(db, now=lambda: during, today_every_s=3600)
    log = StoreLog("s1")
    log.door("2026-06-01T08:10:00.000Z", count=3)
    log.door("2026-05-30T08:10:00.000Z", count=1)  # a day that is over
    deliver(hq_store, "s1", log.payloads())
    assert rollup.run_once().days == 2
    log.door("2026-06-01T09:10:00.000Z", count=2)
    log.door("2026-05-30T09:10:00.000Z", count=1)
    deliver(hq_store, "s1", log.payloads(log.events[2:]))
    again = rollup.run_once()
    assert again.days == 1  # the past day at once; today waits
    (past,) = store_feed(db, "s1", "day", date(2026, 5, 30), date(2026, 5, 30))
    (today,) = store_feed(db, "s1", "day", date(2026, 6, 1), date(2026, 6, 1))
    assert (past["entries"], today["entries"]) == (2, 3)
    assert db.q("SELECT count(*) FROM hq_dirty")[0][0] == 1  # kept for a later pass
    later = Rollup(db, now=lambda: during)  # no wait configured: done now
    assert later.run_once().days == 1
    (today,) = store_feed(db, "s1", "day", date(2026, 6, 1), date(2026, 6, 1))
    assert today["entries"] == 5 and today["provisional"] is True


def test_a_day_still_receiving_batches_waits_for_them_to_stop(hq_store):
    db = Db(hq_store)
    rollup = Rollup(db, now=lambda: LATER, settle_max_s=60)
    log = StoreLog("s1")
    for minute in range(3):
        log.door(f"2026-06-01T08:{minute:02d}:00.000Z", count=1)
        deliver(hq_store, "s1", log.payloads(log.events[-1:]))
        assert rollup.run_once().days == 0  # new marks in this pass: wait
    assert rollup.run_once().days == 1  # a pass without new marks: now
    (day,) = store_feed(db, "s1", "day", date(2026, 6, 1), date(2026, 6, 1))
    assert day["entries"] == 3 and day["revision"] == 1
    capped = Rollup(db, now=lambda: LATER, settle_max_s=0.001)
    log.door("2026-06-01T09:00:00.000Z", count=1)
    deliver(hq_store, "s1", log.payloads(log.events[-1:]))
    capped.run_once()  # first seen: waits
    time.sleep(0.01)
    log.door("2026-06-01T09:01:00.000Z", count=1)
    deliver(hq_store, "s1", log.payloads(log.events[-1:]))
    assert capped.run_once().days == 1  # still arriving, but waited long enough


def test_a_receipt_moved_by_a_later_import_leaves_its_old_bucket(hq_store):
    from edge.identity import Pseudonymiser
    from hq.imports.stores import parse_store
    from hq.imports.transactions import parse_transaction

    ps = Pseudonymiser({"k1": b"k" * 32}, "k1")
    now = "2026-06-03T00:00:00.000Z"
    hq_store.import_stores(
        [
            parse_store(
                {"store": "s1", "name": "S", "timezone": "UTC", "hours": "mon-sun 00:00-24:00"}, 1
            )
        ],
        now,
    )
    db = Db(hq_store)
    rollup = Rollup(db, now=lambda: LATER)

    def receipt(ts):
        row = {"id": "r1", "store": "s1", "ts": ts, "type": "sale", "net_amount": "5.00",
               "currency": "EUR", "items": 1}  # fmt: skip
        assert not hq_store.import_transactions(
            [parse_transaction(row, 1, ps, "EUR")], now
        ).rejected
        rollup.run_once()

    receipt("2026-06-01T10:00:00+00:00")
    receipt("2026-06-02T10:00:00+00:00")  # the till's clock was a day off: corrected
    days = store_feed(db, "s1", "day", date(2026, 6, 1), date(2026, 6, 2))
    assert [(d["day"], d["transactions"], d["revision"]) for d in days] == [
        ("2026-06-01", 0, 2),
        ("2026-06-02", 1, 1),
    ]
