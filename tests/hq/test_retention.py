"""Retention at head office (hq/retention.py), on SQLite and PostgreSQL: raw events, their
visits, ended orders, cleared alerts and dead letters go after the retention period;
the feeds keep their figures; a store that sends its old events again counts nothing twice."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

from hq.db import Db
from hq.feed_worker import FeedSettings, FeedWorker
from hq.feeds import store_feed
from hq.imports.stores import parse_store
from hq.orders import OrderRules, accept
from hq.retention import floors, prune
from hq.rollup import Rollup
from tests.hq.storelog import StoreLog, deliver
from tests.hq.test_fixture_week import PS, card

OLD_DAY = date(2026, 1, 10)
OLD_RECEIVED = "2026-01-10T20:00:00.000Z"
NEW_RECEIVED = "2026-06-01T20:00:00.000Z"
NOW = datetime(2026, 6, 2, 12, tzinfo=UTC).timestamp()
DAYS = 100  # cutoff 2026-02-22: January's events are past it, June's are not


def epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def old_and_new(hq) -> tuple[StoreLog, int]:
    """Store s1: a January day (4 in, 1 identified visit) and a June day, received apart."""
    log = StoreLog("s1")
    for minute in range(4):
        log.door(f"2026-01-10T10:0{minute}:00.000Z")
    log.visit("2026-01-10T10:05:00.000Z", card("alice"))
    last_old = len(log.events)
    deliver(hq, "s1", log.payloads(), received_at=OLD_RECEIVED)
    log.door("2026-06-01T10:00:00.000Z", count=2)
    log.door("2026-06-01T11:00:00.000Z", direction="out", count=2)
    deliver(hq, "s1", log.payloads(log.events[last_old:]), received_at=NEW_RECEIVED)
    return log, last_old


def day_bucket(db: Db, day: date) -> dict:
    (row,) = store_feed(db, "s1", "day", day, day)
    return row


def test_events_past_the_retention_go_and_the_feed_keeps_its_figures(hq_store) -> None:
    db = Db(hq_store)
    log, last_old = old_and_new(hq_store)
    Rollup(db, now=lambda: NOW).run_once()
    before = day_bucket(db, OLD_DAY)
    assert before["entries"] == 4

    done = prune(db, DAYS, NOW)

    assert done.events == last_old and done.visits == 1
    assert floors(db) == {"s1": last_old}
    seqs = [s for (s,) in db.q("SELECT seq FROM hq_events WHERE store = 's1' ORDER BY seq")]
    assert seqs == list(range(last_old + 1, len(log.events) + 1))
    assert db.q("SELECT count(*) FROM hq_visits") == [(0,)]
    # A second pass has nothing left to do.
    assert prune(db, DAYS, NOW).events == 0

    # The old day is final: a rollup that keeps the retention leaves it as it was...
    kept = Rollup(db, now=lambda: NOW, final_after_days=DAYS)
    assert kept.recompute("s1", OLD_DAY) == 0
    assert day_bucket(db, OLD_DAY) == before
    # ...where one that ignored it would rebuild it from the events left: none.
    assert Rollup(db, now=lambda: NOW).recompute("s1", OLD_DAY) > 0
    assert day_bucket(db, OLD_DAY)["entries"] == 0


def test_old_events_sent_again_are_duplicates_not_stored_twice(hq_store) -> None:
    db = Db(hq_store)
    log, last_old = old_and_new(hq_store)
    prune(db, DAYS, NOW)
    # The store was restored from a backup and sends its whole log again.
    outcome = deliver(hq_store, "s1", log.payloads(), received_at=NEW_RECEIVED)
    assert outcome.inserted == 0
    assert outcome.duplicates == len(log.events)
    assert db.q("SELECT min(seq) FROM hq_events WHERE store = 's1'") == [(last_old + 1,)]
    assert db.q("SELECT count(*) FROM hq_visits") == [(0,)]
    assert outcome.acked["s1"] == len(log.events)


def test_the_floor_stays_below_the_watermark_and_young_events(hq_store) -> None:
    db = Db(hq_store)
    log = StoreLog("s2")
    for minute in range(5):
        log.door(f"2026-01-10T10:0{minute}:00.000Z")
    deliver(hq_store, "s2", log.payloads(log.events[:3]), received_at=OLD_RECEIVED)
    deliver(hq_store, "s2", log.payloads(log.events[3:]), received_at=NEW_RECEIVED)
    # Seqs 4-5 arrived in June: only 1-3 are past the retention.
    prune(db, DAYS, NOW)
    assert floors(db) == {"s2": 3}
    # Everything received long ago: the watermark's own event (seq 5) stays.
    prune(db, 1, epoch("2027-01-01T00:00:00+00:00"))
    assert floors(db) == {"s2": 4}
    assert db.q("SELECT seq FROM hq_events WHERE store = 's2'") == [(5,)]


def test_orders_alerts_and_dead_letters_past_the_retention_go(hq_store) -> None:
    db = Db(hq_store)
    store = {"store": "s1", "name": "s1", "timezone": "UTC", "hours": "mon-sun 09:00-18:00"}
    hq_store.import_stores([parse_store(store, 1)], OLD_RECEIVED)
    order = {
        "order_id": "W-1",
        "store": "s1",
        "lines": "SKU-1:1",
        "first_name": "Ann",
        "promised_at": "2026-01-10T12:00:00Z",
        "code": "TPO-W1",
    }
    rules = OrderRules(PS)
    assert accept(db, [order], rules, now=lambda: "2026-01-09T10:00:00.000Z")[0].version == 1
    cancel = {"order_id": "W-1", "status": "cancelled"}
    assert accept(db, [cancel], rules, now=lambda: "2026-01-09T11:00:00.000Z")[0].version == 2
    young = dict(order, order_id="W-2", code="TPO-W2", promised_at="2026-06-03T12:00:00Z")
    accept(db, [young], rules, now=lambda: "2026-06-01T10:00:00.000Z")
    hq_store.dead_letter("touchpoint/v1/s1/up/events", "s1", "bad", b"x", OLD_RECEIVED)
    hq_store.dead_letter("touchpoint/v1/s1/up/events", "s1", "bad", b"y", NEW_RECEIVED)
    with db.tx() as tx:
        for raised, cleared in ((OLD_RECEIVED, OLD_RECEIVED), (OLD_RECEIVED, None)):
            tx.execute(
                "INSERT INTO hq_alerts (store, kind, subject, raised_at, cleared_at, detail)"
                " VALUES ('s1', 'offline', ?, ?, ?, '')",
                (raised, raised, cleared),
            )

    done = prune(db, DAYS, NOW)

    assert (done.orders, done.alerts, done.dead_letters) == (1, 1, 1)
    assert db.q("SELECT order_id FROM hq_orders") == [("W-2",)]
    assert db.q("SELECT DISTINCT order_id FROM hq_order_lines") == [("W-2",)]
    # An alert still open stays, however old.
    assert db.q("SELECT cleared_at FROM hq_alerts") == [(None,)]
    assert db.q("SELECT payload FROM hq_dead_letters") in ([("y",)], [(b"y",)])


def test_the_feed_worker_prunes_in_its_housekeeping(hq_target) -> None:
    hq = hq_target.open()
    db = Db(hq)
    _, last_old = old_and_new(hq)
    settings = FeedSettings(interval_s=0.05, housekeeping_s=0.0, event_retention_days=DAYS)
    worker = FeedWorker(hq_target.open, lambda *a: True, settings, now=lambda: NOW)
    worker.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and floors(db) != {"s1": last_old}:
            time.sleep(0.1)
    finally:
        worker.stop()
    assert floors(db) == {"s1": last_old}
    # The January day was past the retention before the worker first saw it: no buckets.
    assert store_feed(db, "s1", "day", OLD_DAY, OLD_DAY) == []
    assert day_bucket(db, date(2026, 6, 1))["entries"] == 2
