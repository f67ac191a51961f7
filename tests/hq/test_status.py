"""Store status at head office (hq/status.py) on SQLite and PostgreSQL, from real ingest."""

from __future__ import annotations

from datetime import datetime, timedelta

from hq import schema
from hq.db import Db
from hq.imports.stores import parse_store
from hq.status import store_statuses
from sync import wire
from tests.hq.storelog import StoreLog, deliver

T0 = datetime.fromisoformat("2026-06-01T10:00:00.000Z")


def at(seconds: float) -> str:
    """T0 plus `seconds` as the database's UTC ISO text."""
    moment = T0 + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def register(hq, *stores: str, doors: str = "main") -> None:
    """Registry rows for `stores` (Amsterdam, open 09-18 every day, `doors`)."""
    rows = [
        parse_store(
            {
                "store": s,
                "name": f"Store {s}",
                "timezone": "Europe/Amsterdam",
                "hours": "mon-sun 09:00-18:00",
                "doors": doors,
            },
            i,
        )
        for i, s in enumerate(stores, 1)
    ]
    assert not hq.import_stores(rows, at(0)).rejected


def state(online: bool, outbox: int = 0, boot: str = "boot-1") -> wire.StoreState:
    """An up/state payload."""
    return wire.StoreState(
        v=1, online=online, boot_id=boot, outbox=outbox, oldest_unsent_s=4.5, version="0.1.0"
    )


def test_status_of_registered_sending_expected_and_silent_stores(hq_store):
    register(hq_store, "s1", "s3")
    log = StoreLog("s1")
    for i in range(9):
        log.door(f"2026-06-01T09:0{i}:00.000Z")
    log.add("device.status", "2026-06-01T09:10:00.000Z", {"state": "connected"})
    log.add("device.status", "2026-06-01T09:11:00.000Z", {"state": "error", "detail": "gone"})
    ev = log.events
    deliver(hq_store, "s1", log.payloads(ev[:3]), at(1))  # 1..3
    deliver(hq_store, "s1", log.payloads(ev[5:7]), at(5))  # 6..7: gap 4..5 opens
    deliver(hq_store, "s1", log.payloads([ev[8], ev[10]]), at(7))  # 9, 11: 8 and 10 missing too
    deliver(
        hq_store, "s1", log.payloads([ev[9]]), at(8)
    )  # 10: an older status, later; 4, 5, 8 missing
    assert hq_store.record_state("s1", state(True, outbox=12), at(10))
    assert hq_store.record_state("s2", state(False), at(20))
    hq_store.dead_letter("touchpoint/v1/s2/up/events", "s2", "batch: bad", b"{", at(30))
    hq_store.dead_letter("touchpoint/v1/s2/up/events", "s2", "batch: bad", b"[", at(40))
    hq_store.dead_letter("elsewhere", None, "not a touchpoint/v1 topic", b"x", at(40))
    db = Db(hq_store)

    now = T0 + timedelta(seconds=70)
    got = {s.store: s for s in store_statuses(db, now, expected=["s4"])}
    assert sorted(got) == ["s1", "s2", "s3", "s4"]
    s1 = got["s1"]
    assert (s1.name, s1.timezone, s1.registered, s1.expected) == (
        "Store s1", "Europe/Amsterdam", True, False)  # fmt: skip
    assert (s1.online, s1.reported_online, s1.last_seen, s1.seen_ago_s) == (
        True, True, at(10), 60.0)  # fmt: skip
    assert (s1.backlog, s1.oldest_unsent_s, s1.version) == (12, 4.5, "0.1.0")
    assert (s1.acked_through, s1.max_seq) == (3, 11)
    assert (s1.gaps, s1.missing, s1.gap_since, s1.gap_open_s) == (2, 3, at(5), 65.0)
    assert s1.dead_letters == 0
    # The newest status by seq, whatever order it arrived in.
    assert [(d.device, d.state, d.detail, d.since) for d in s1.devices] == [
        ("dev", "error", "gone", "2026-06-01T09:11:00.000Z")
    ]
    s2 = got["s2"]
    assert (s2.registered, s2.online, s2.reported_online, s2.backlog) == (False, False, False, 0)
    assert (s2.dead_letters, s2.dead_letter_last_at) == (2, at(40))
    s4 = got["s4"]
    assert (s4.expected, s4.online, s4.last_seen, s4.reported_online) == (True, False, None, None)
    assert got["s3"].registered and not got["s3"].online

    # A retained state handed over when head office (re)subscribes is not news from the
    # store: what it says is kept, but not as a sign of life.
    assert hq_store.record_state("s2", state(False, boot="boot-1"), None)
    assert hq_store.record_state("s5", state(True), None)
    got = {s.store: s for s in store_statuses(db, now)}
    assert (got["s2"].last_seen, got["s2"].reported_online) == (at(20), False)
    assert (got["s5"].last_seen, got["s5"].online, got["s5"].reported_online) == (None, False, True)

    # Silence past the timeout makes a store offline although its last state said online.
    later = {s.store: s for s in store_statuses(db, T0 + timedelta(seconds=200))}
    assert later["s1"].online is False and later["s1"].reported_online is True
    assert "s4" not in later  # expected only when the config says so

    # The missing events arrive: the gaps close.
    deliver(hq_store, "s1", log.payloads([ev[3], ev[4], ev[7]]), at(80))
    s1 = store_statuses(db, now, {"s1"})[0]
    assert (s1.acked_through, s1.gaps, s1.missing, s1.gap_since) == (11, 0, 0, None)
    assert [s.store for s in store_statuses(db, now, {"s2", "s9"})] == ["s2"]
    assert store_statuses(db, now, set(), expected=["s4"]) == []  # a user without stores


def test_status_reads_device_health_recorded_before_the_migration(hq_store):
    """Databases from before the status table get it filled from their events."""
    log = StoreLog("s1")
    log.add("device.status", "2026-06-01T09:10:00.000Z", {"state": "degraded", "detail": "x"})
    log.add("device.status", "2026-06-01T09:12:00.000Z", {"state": "ok"})
    deliver(hq_store, "s1", log.payloads(), at(1))
    (version,) = [
        v for v, stmts in schema.migrations(hq_store.dialect, 0)
        if any("hq_device_health" in s for s in stmts)
    ]  # fmt: skip
    with hq_store.transaction() as cur:
        cur.execute("DELETE FROM hq_device_health")
        for stmt in dict(schema.migrations(hq_store.dialect, version - 1))[version]:
            cur.execute(stmt)
    (s1,) = store_statuses(Db(hq_store), T0)
    assert [(d.device, d.state, d.detail) for d in s1.devices] == [("dev", "ok", "")]
