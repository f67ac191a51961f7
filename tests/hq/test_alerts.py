"""Alerts at head office (hq/alerts.py) on SQLite and PostgreSQL: each condition raised
once and cleared once, with an injected clock, from real ingest and rollup."""

from __future__ import annotations

from datetime import datetime, timedelta

from hq.alert_rules import AlertRules
from hq.alert_step import AlertStep
from hq.alerts import alert_history, evaluate, open_alerts
from hq.db import Db
from hq.rollup import Rollup
from sync import wire
from tests.hq.storelog import StoreLog, deliver
from tests.hq.test_status import T0, at, register, state

# Amsterdam is UTC+2 in June: the registry's 09:00-18:00 is 07:00Z-16:00Z.
DAY = "2026-06-01"
WEEK = 7 * 86400.0  # "heard from recently" for tests about other things than offline


def utc(hhmm: str, day: str = DAY) -> datetime:
    """A UTC moment on `day`."""
    return datetime.fromisoformat(f"{day}T{hhmm}:00.000Z")


def ts(hhmm: str, day: str = DAY) -> str:
    """An event stamp on `day`."""
    return f"{day}T{hhmm}:00.000Z"


def opened(db: Db) -> list[tuple[str, str, str]]:
    """(store, kind, subject) of every open alert."""
    return [(a.store, a.kind, a.subject) for a in open_alerts(db)]


def test_offline_after_15_minutes_and_back_online(hq_store):
    db = Db(hq_store)
    assert hq_store.record_state("s1", state(True), at(0))
    assert evaluate(db, T0 + timedelta(minutes=14), expected=["s9"]).raised == 1
    assert opened(db) == [("s9", "offline", "")]  # expected, never reported: at once
    assert open_alerts(db)[0].detail == "never reported"
    # Silent since T0: offline after 2 minutes, an alert after 15.
    assert evaluate(db, T0 + timedelta(minutes=15), expected=["s9"]).raised == 0
    done = evaluate(db, T0 + timedelta(minutes=16), expected=["s9"])
    assert (done.raised, done.cleared, done.stores) == (1, 0, ["s1"])
    assert ("s1", "offline", "") in opened(db)
    again = evaluate(db, T0 + timedelta(minutes=17), expected=["s9"])
    assert (again.raised, again.cleared, again.updated) == (0, 0, 0)  # raised once
    assert hq_store.record_state("s1", state(True), at(18 * 60))
    done = evaluate(db, T0 + timedelta(minutes=18, seconds=30), expected=["s9"])
    assert (done.raised, done.cleared, done.stores) == (0, 1, ["s1"])
    assert opened(db) == [("s9", "offline", "")]
    # The will says offline at once; the alert waits out the 15 minutes.
    assert hq_store.record_state("s1", state(False), at(20 * 60))
    assert evaluate(db, T0 + timedelta(minutes=34)).raised == 0
    assert evaluate(db, T0 + timedelta(minutes=36)).raised == 1
    (first, second) = sorted(
        (a for a in alert_history(db, "s1") if a.kind == "offline"), key=lambda a: a.id
    )
    assert (first.raised_at, first.cleared_at) == (at(16 * 60), at(18 * 60 + 30))
    assert (second.raised_at, second.cleared_at) == (at(36 * 60), None)
    assert second.detail == f"last seen {at(20 * 60)}"


def test_door_silent_for_30_minutes_while_open_and_online(hq_store):
    register(hq_store, "s1", doors="main|side")
    db = Db(hq_store)
    assert hq_store.record_state("s1", state(True), ts("07:00"))

    def check(moment: datetime, rules: AlertRules | None = None) -> list[str]:
        evaluate(db, moment, rules, offline_after_s=WEEK)
        return sorted(s for _, kind, s in opened(db) if kind == "door_silent")

    assert check(utc("07:20")) == []  # open for 20 minutes only: not yet judged
    assert check(utc("08:00")) == ["main", "side"]
    log = StoreLog("s1")
    log.door(ts("09:50"), door="main")
    deliver(hq_store, "s1", log.payloads(), ts("09:51"))
    assert check(utc("10:00")) == ["side"]  # main counted 10 minutes ago
    assert check(utc("10:19")) == ["side"]
    assert check(utc("10:21")) == ["main", "side"]  # main silent for 31 minutes
    log.door(ts("10:25"), door="side")
    deliver(hq_store, "s1", log.payloads(log.events[1:]), ts("10:26"))
    assert check(utc("10:27")) == ["main"]
    assert check(utc("10:28"), AlertRules(door_silent_min=60)) == []  # the config's threshold
    assert check(utc("10:40")) == ["main"]
    assert check(utc("16:01")) == []  # closed: cleared
    # An offline store is not judged per door (its offline alert says it all).
    assert hq_store.record_state("s1", state(False), ts("16:30"))
    assert check(utc("10:00", "2026-06-02")) == []
    history = [a for a in alert_history(db, "s1") if a.kind == "door_silent"]
    assert sorted((a.subject, a.raised_at, a.cleared_at) for a in history) == [
        ("main", ts("08:00"), ts("10:00")),
        ("main", ts("10:21"), ts("10:28")),
        ("main", ts("10:40"), ts("16:01")),
        ("side", ts("08:00"), ts("10:27")),
    ]


def test_in_out_imbalance_at_closing(hq_store):
    register(hq_store, "s1")
    assert hq_store.record_state("s1", state(True), ts("07:00"))
    db = Db(hq_store)
    rollup = Rollup(db, now=lambda: 1_900_000_000.0)
    log = StoreLog("s1")
    log.door(ts("08:00"), "in", 50)
    log.door(ts("15:00"), "out", 40)
    log.door(ts("08:00", "2026-06-02"), "in", 30)
    log.door(ts("15:00", "2026-06-02"), "out", 29)
    deliver(hq_store, "s1", log.payloads(log.events[:2]), ts("15:01"))
    rollup.run_once()

    def imbalanced(moment: datetime) -> list[tuple[str, str]]:
        evaluate(db, moment, offline_after_s=WEEK)
        return [(a.subject, a.detail) for a in open_alerts(db) if a.kind == "imbalance"]

    assert imbalanced(utc("16:14")) == []  # 18:14 local: within the grace after closing
    assert imbalanced(utc("16:16")) == [(DAY, "entries 50, exits 40: 20% apart at closing")]
    # Late exits arrive and balance the day: cleared.
    log.door(ts("15:30"), "out", 6)
    deliver(hq_store, "s1", log.payloads(log.events[4:]), ts("16:20"))
    rollup.run_once()
    assert imbalanced(utc("16:21")) == []  # 50 in, 46 out: 8 %
    # Day two is balanced: nothing is raised when it closes.
    deliver(hq_store, "s1", log.payloads(log.events[2:4]), ts("15:01", "2026-06-02"))
    rollup.run_once()
    assert imbalanced(utc("16:30", "2026-06-02")) == []
    # A stricter threshold judges day two imbalanced, unless it asks for more crossings.
    rules = AlertRules(imbalance_pct=1, imbalance_min_crossings=100)
    assert evaluate(db, utc("16:31", "2026-06-02"), rules, offline_after_s=WEEK).raised == 0
    rules = AlertRules(imbalance_pct=1)
    evaluate(db, utc("16:32", "2026-06-02"), rules, offline_after_s=WEEK)
    assert [(a.subject, a.kind) for a in open_alerts(db)] == [("2026-06-02", "imbalance")]
    history = [a for a in alert_history(db, "s1") if a.kind == "imbalance"]
    assert [(a.subject, a.raised_at, a.cleared_at) for a in history] == [
        ("2026-06-02", ts("16:32", "2026-06-02"), None),
        (DAY, ts("16:16"), ts("16:21")),
    ]


def test_sequence_gap_open_for_an_hour(hq_store):
    db = Db(hq_store)
    assert hq_store.record_state("s1", state(True), at(0))
    log = StoreLog("s1")
    for minute in range(6):
        log.door(ts(f"09:0{minute}"))
    deliver(hq_store, "s1", log.payloads(log.events[:3]), at(0))
    deliver(hq_store, "s1", log.payloads(log.events[4:]), at(30))  # seq 4 is missing
    assert evaluate(db, T0 + timedelta(minutes=60), offline_after_s=WEEK).raised == 0
    assert evaluate(db, T0 + timedelta(minutes=61), offline_after_s=WEEK).raised == 1
    (alert,) = open_alerts(db)
    assert (alert.kind, alert.detail) == (
        "gap",
        f"1 event missing above seq 3 (1 gap), open since {at(30)}",
    )
    deliver(hq_store, "s1", log.payloads(log.events[3:4]), at(62 * 60))
    assert evaluate(db, T0 + timedelta(minutes=63), offline_after_s=WEEK).cleared == 1
    assert open_alerts(db) == []


def test_dead_letters_in_the_last_hour(hq_store):
    db = Db(hq_store)
    hq_store.dead_letter("touchpoint/v1/s2/up/events", "s2", "batch: bad", b"{", at(0))
    hq_store.dead_letter("touchpoint/v1/s2/up/events", "s2", "batch: bad", b"{", at(60))
    hq_store.dead_letter("elsewhere", None, "not a touchpoint/v1 topic", b"x", at(60))
    assert evaluate(db, T0 + timedelta(minutes=5)).raised == 2
    assert opened(db) == [("_chain", "dead_letters", ""), ("s2", "dead_letters", "")]
    assert open_alerts(db, {"s2"})[0].detail == (
        f"2 dead letters in the last 60 minutes, last {at(60)}"
    )
    hq_store.dead_letter("touchpoint/v1/s2/up/events", "s2", "batch: bad", b"{", at(600))
    done = evaluate(db, T0 + timedelta(minutes=11))
    assert (done.raised, done.updated, done.stores) == (0, 1, ["s2"])  # the detail follows
    assert evaluate(db, T0 + timedelta(minutes=62)).cleared == 1  # _chain's: an hour old
    assert opened(db) == [("s2", "dead_letters", "")]
    assert evaluate(db, T0 + timedelta(minutes=71)).cleared == 1
    assert open_alerts(db) == []
    assert len(alert_history(db)) == 2


def test_the_alert_step_publishes_each_change_once_and_retries_what_the_broker_refused(hq_store):
    db = Db(hq_store)
    sent: list[tuple[str, list, bool]] = []
    broker_up = {"ok": False}

    def publish(topic: str, payload: bytes, retain: bool) -> bool:
        if broker_up["ok"]:
            sent.append((topic, wire.decode_alerts(payload).alerts, retain))
        return broker_up["ok"]

    ticks = iter([0.0, 5.0, 20.0, 40.0])  # the monotonic clock at each run
    step = AlertStep(interval_s=15, clock=lambda: next(ticks))
    hq_store.dead_letter("touchpoint/v1/s2/up/events", "s2", "batch: bad", b"{", at(0))
    now = T0.timestamp() + 60
    assert step.run(db, publish, now) == 0  # raised, but the broker is away: kept queued
    broker_up["ok"] = True
    assert step.run(db, publish, now) == 1  # not due to evaluate again; the queue goes out
    assert [(t, [a.kind for a in alerts], r) for t, alerts, r in sent] == [
        ("touchpoint/v1/s2/alerts", ["dead_letters"], True)
    ]
    assert step.run(db, publish, now) == 0  # evaluated, nothing changed: nothing sent
    assert step.run(db, publish, now + 3600) == 1  # cleared
    assert sent[-1][1] == [] and step.evaluations == 3
