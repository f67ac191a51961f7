"""A fixture week reproduced exactly, on SQLite and PostgreSQL.

Three stores, 19-25 October 2026 (the week Europe ends summer time: Sunday has 25
hours in Amsterdam and London). Door counts, staff badges, identified visits under
two chain keys, receipts and returns, online orders, profiles with and without
consent, a consent withdrawn mid-week, a consent given mid-week, a store (rtm-1)
offline from Wednesday lunchtime that catches up after Sunday, and a store (lon-1)
whose Pi booted on Thursday with its clock at 1 January until NTP stepped it.

The expected figures are worked out by hand from the events below (the comments
show the arithmetic), never by running the code. Events are delivered day by day
through the real triage and ingest, with a rollup after each delivery, so the final
figures are the incremental ones; the end checks they equal a recompute from scratch.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from edge.identity import Pseudonymiser
from hq.db import Db
from hq.feeds import store_feed
from hq.imports.profiles import parse_profile
from hq.imports.stores import parse_store
from hq.imports.transactions import parse_transaction
from hq.rollup import Rollup
from sync.wire import StoreState
from tests.hq.storelog import StoreLog, deliver

AMS, LON = ZoneInfo("Europe/Amsterdam"), ZoneInfo("Europe/London")
KEYS = {"k1": b"k" * 32, "k2": b"K" * 32}
PS = Pseudonymiser(KEYS, "k1")
LATER = 1_900_000_000.0  # 2030: every hour of the week is over
DAYS = [date(2026, 10, 19) + timedelta(days=i) for i in range(7)]  # Mon .. Sun
CARDS = {"alice": "2600000000011", "bob": "2600000000028", "carol": "2600000000035",
         "dave": "2600000000042"}  # fmt: skip


def utc(local: str, tz: ZoneInfo, fold: int = 0) -> str:
    """A local wall time as the events' UTC stamp."""
    moment = datetime.fromisoformat(local).replace(tzinfo=tz, fold=fold)
    return moment.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def card(name: str, key_id: str = "k1") -> str:
    return PS.pseudonym("loyalty", CARDS[name], key_id)[0]


def click_and_collect(a: StoreLog, iso: str) -> None:
    """ams-1's Tuesday at the pick-up desk (figures worked out under EXPECTED)."""
    at = {hhmm: utc(f"{iso} {hhmm}", AMS) for hhmm in
          ("09:30", "10:00", "12:00", "14:00", "14:02", "14:10", "15:00", "15:05", "16:00", "16:30",
           "17:00")}  # fmt: skip
    promised = f"{iso}T11:00:00+02:00"
    a.add("pickup.ready", at["10:00"], {"order": "O-1", "lines_ready": 2, "lines_total": 2,
          "promised_at": promised})  # fmt: skip
    a.add("pickup.checkin", at["14:00"], {"order": "O-1", "by": "shopper", "via": "scan"})
    a.add("pickup.handover", at["14:02"], {"order": "O-1", "lines": [1, 2], "partial": False,
          "wait_s": 120.0})  # fmt: skip
    a.add("pickup.ready", at["12:00"], {"order": "O-2", "lines_ready": 1, "lines_total": 2,
          "promised_at": promised})  # fmt: skip
    a.add("pickup.checkin", at["15:00"], {"order": "O-2", "by": "shopper", "via": "code"})
    a.add("pickup.handover", at["15:05"], {"order": "O-2", "lines": [1], "partial": True})
    a.add("pickup.ready", at["16:00"], {"order": "O-2", "lines_ready": 1, "lines_total": 2,
          "promised_at": promised})  # fmt: skip
    a.add("pickup.ready", at["09:30"], {"order": "O-3"})  # an older store: no promise given
    a.add("pickup.no_show", at["17:00"], {"order": "O-3", "by": "system", "lines": [1]})
    # O-4 (ready the day before): handed over without its missing line 2, ending the order.
    a.add("pickup.handover", at["16:30"], {"order": "O-4", "lines": [1], "partial": False,
          "missing": [2], "wait_s": 60.0})  # fmt: skip
    for score in (10, 4):
        a.add("nps.response", at["14:10"], {"score": score, "touchpoint": "click_collect"})


def week_logs() -> tuple[dict[str, StoreLog], dict[str, list[list[dict]]]]:
    """Each store's log, and its events grouped into deliveries in arrival order."""
    a, b, c = StoreLog("ams-1"), StoreLog("rtm-1"), StoreLog("lon-1")
    deliveries: dict[str, list[list[dict]]] = {"ams-1": [], "rtm-1": [], "lon-1": []}
    late_b: list[dict] = []
    for d in DAYS:
        iso = d.isoformat()
        mark = {s: len(log.events) for s, log in (("ams-1", a), ("rtm-1", b), ("lon-1", c))}
        # ams-1: Mon-Sat open 09-18, Sun 12-17, 2 staff a day.
        if d.weekday() < 6:
            a.door(utc(f"{iso} 08:30", AMS), count=2)  # before opening
            a.door(utc(f"{iso} 10:15", AMS), count=10)
            a.staff(utc(f"{iso} 10:20", AMS))
            a.door(utc(f"{iso} 11:30", AMS), "out", 9)
            a.door(utc(f"{iso} 19:00", AMS), "out", 3)  # after closing
        else:
            a.door(utc(f"{iso} 02:30", AMS, fold=0), count=1)  # 02:30 summer time
            a.door(utc(f"{iso} 02:30", AMS, fold=1), count=1)  # 02:30 again, winter time
            a.door(utc(f"{iso} 12:30", AMS), count=4)
            a.door(utc(f"{iso} 13:30", AMS), "out", 4)
        visits = {
            0: [("alice", "10:16"), ("bob", "10:17"), ("carol", "10:18")],
            1: [("alice", "10:16"), ("dave", "10:19")],
            3: [("carol", "10:16")],
        }.get(d.weekday(), [])
        for who, hhmm in visits:
            a.visit(utc(f"{iso} {hhmm}", AMS), card(who))
        if d.weekday() == 4:  # Friday, after a key rotation: Dave under k2
            a.visit(utc(f"{iso} 10:16", AMS), card("dave", "k2"), key_id="k2")
        if d.weekday() == 0:
            for score in (10, 9, 7, 3):
                a.nps(utc(f"{iso} 16:00", AMS), score)
        if d.weekday() == 1:
            click_and_collect(a, iso)
        # rtm-1: open 10-20 every day; a side counter that cannot tell direction.
        b.door(utc(f"{iso} 12:00", AMS), count=5)
        b.door(utc(f"{iso} 13:00", AMS), "out", 5)
        if d.weekday() in (2, 3):  # R-1 ready Wed (on time), again Thu: judged once, Wed
            b.add("pickup.ready", utc(f"{iso} {'14:00' if d.weekday() == 2 else '11:00'}", AMS),
                  {"order": "R-1", "lines_ready": d.weekday() - 1, "lines_total": 2,
                   "promised_at": "2026-10-21T15:00:00+02:00"})  # fmt: skip
        if d.weekday() == 4:
            b.door(utc(f"{iso} 15:00", AMS), count=4, door="side", directional=False)
        # lon-1: open 08-22 every day; Thursday's boot starts with a wrong clock.
        if d.weekday() == 3:
            wrong = "2026-01-01T00:05:00.000Z"
            true = utc(f"{iso} 09:05", LON)
            offset = (
                datetime.fromisoformat(true.replace("Z", "+00:00"))
                - datetime.fromisoformat(wrong.replace("Z", "+00:00"))
            ).total_seconds()
            c.door(wrong, count=3, clock_ok=False, boot="boot-c2")
            c.step(utc(f"{iso} 09:06", LON), offset, boot="boot-c2")
            c.door(utc(f"{iso} 09:30", LON), "out", 3, boot="boot-c2")
        boot_c = "boot-c2" if d.weekday() >= 3 else "boot-1"
        if d.weekday() == 6:
            c.door(utc(f"{iso} 01:30", LON, fold=0), count=1, boot=boot_c)  # BST
            c.door(utc(f"{iso} 01:30", LON, fold=1), count=1, boot=boot_c)  # GMT
        c.door(utc(f"{iso} 10:00", LON), count=2, boot=boot_c)
        c.door(utc(f"{iso} 11:00", LON), "out", 2, boot=boot_c)
        for store, log in (("ams-1", a), ("lon-1", c)):
            deliveries[store].append(log.events[mark[store] :])
        today_b = b.events[mark["rtm-1"] :]
        if d.weekday() == 2:  # Wednesday: only the 12:00 entries get out before the uplink dies
            deliveries["rtm-1"].append(today_b[:1])
            late_b += today_b[1:]
        elif d.weekday() > 2:
            late_b += today_b
            deliveries["rtm-1"].append(today_b)  # Thu..Sun arrive, a gap before them
        else:
            deliveries["rtm-1"].append(today_b)
    deliveries["rtm-1"].append(late_b)  # the catch-up: everything since Wednesday 13:00
    return {"ams-1": a, "rtm-1": b, "lon-1": c}, deliveries


STORES = [
    {"store": "ams-1", "name": "Amsterdam", "timezone": "Europe/Amsterdam",
     "hours": "mon-sat 09:00-18:00; sun 12:00-17:00", "doors": "main", "staff_count": 2},
    {"store": "rtm-1", "name": "Rotterdam", "timezone": "Europe/Amsterdam",
     "hours": "mon-sun 10:00-20:00", "doors": "main|side", "staff_count": 0},
    {"store": "lon-1", "name": "London", "timezone": "Europe/London",
     "hours": "mon-sun 08:00-22:00", "doors": "main", "staff_count": 0},
]  # fmt: skip
PROFILES_V1 = [
    {"customer_id": "c-alice", "loyalty_number": CARDS["alice"], "first_name": "Alice",
     "instore_recognition": "granted", "instore_recognition_at": "2026-10-01",
     "last_online_at": "2026-10-10T20:00:00+02:00"},
    {"customer_id": "c-bob", "loyalty_number": CARDS["bob"],
     "instore_recognition": "denied", "instore_recognition_at": "2026-10-01"},
    {"customer_id": "c-carol", "loyalty_number": CARDS["carol"],
     "instore_recognition": "granted", "instore_recognition_at": "2026-10-01"},
    {"customer_id": "c-dave", "loyalty_number": CARDS["dave"]},
]  # fmt: skip
PROFILES_V2 = [  # imported on Thursday night
    {"customer_id": "c-carol", "loyalty_number": CARDS["carol"],
     "instore_recognition": "withdrawn", "instore_recognition_at": "2026-10-21"},
    {"customer_id": "c-dave", "loyalty_number": CARDS["dave"],
     "instore_recognition": "granted", "instore_recognition_at": "2026-10-22T12:00:00+02:00"},
]  # fmt: skip
TXNS = [
    ("t1", "ams-1", "2026-10-19T10:40:00+02:00", "sale", "20.00", "alice"),
    ("t2", "ams-1", "2026-10-19T10:50:00+02:00", "sale", "30.00", "bob"),
    ("t3", "ams-1", "2026-10-19T11:10:00+02:00", "sale", "10.00", None),
    ("t4", "ams-1", "2026-10-19T11:20:00+02:00", "return", "5.00", None),
    ("t5", "ams-1", "2026-10-20T15:00:00+02:00", "sale", "40.00", None),
    ("t6", "ams-1", "2026-10-25T14:00:00+01:00", "sale", "12.50", None),
    ("t7", "rtm-1", "2026-10-21T12:30:00+02:00", "sale", "10.00", None),
    ("t8", "rtm-1", "2026-10-21T12:45:00+02:00", "sale", "10.00", None),
    ("t9", "online", "2026-10-24T15:00:00+02:00", "sale", "80.00", "alice"),
    ("t10", "online", "2026-11-05T10:00:00+01:00", "sale", "25.00", "dave"),
]

# The hand-worked day figures. Unlisted figures are 0.
#  ams-1 Mon-Sat: in 2 (08:30, closed) + 10 (10:15) = 12; out 9 + 3 = 12; visitors: the
#    10:00 hour 10 - 1 staff badge = 9, less 2 staff a day = 7; outside hours 2.
#  ams-1 Sun: in 1 + 1 (02:30 twice, closed) + 4 = 6, out 4; visitors 4 - 2 staff = 2.
#  ams-1 Mon: sales t1 t2 t3 = 3 transactions, return t4; net 20 + 30 + 10 - 5 = 55.00.
#    Identified alice, bob, carol = 3; matched: alice only (bob denied, carol withdrew
#    on the 21st, which removes her past links) = 1; alice active online on the 10th
#    (within 30 days before) = 1; alice ordered online on the 24th (within 7 days
#    after) = 1; receipts with a visitor's card within 2 h: t1 (alice), t2 (bob) = 2.
#    NPS 10, 9, 7, 3: 2 promoters, 1 passive, 1 detractor.
#  ams-1 Tue: t5 = 1 transaction, 40.00; identified alice, dave = 2; matched alice (dave's
#    consent came on Thursday) = 1; online active 1; ordered online on the 24th: 1.
#  ams-1 Thu: carol, withdrawn: identified 1, matched 0. Fri: dave under key k2, consent
#    since Thursday noon: identified 1, matched 1; not online; his online order is 13
#    days later: 0. Sun: t6 = 1 transaction, 12.50.
#  rtm-1 every day in 5 / out 5 = 5 visitors; Fri + 4 undirected crossings = 7 visitors;
#    Wed t7 t8 = 2 transactions, 20.00.
#  lon-1 every day in 2 / out 2 = 2 visitors. Thu: + 3 in stamped 1 January, re-based to
#    09:05 (open) and 3 out at 09:30: in 5, out 5, visitors 5; 4 door events, 1 with an
#    untrusted clock. Sun: + 01:30 BST and 01:30 GMT (closed): in 4, visitors 2, outside 2.
#  ams-1 Tue, click & collect: 4 ready marks (O-1; O-2 twice; O-3). Judged by the first
#    mark against 11:00: O-1 at 10:00 on time, O-2 at 12:00 late, O-3 no promise. O-1
#    collected (wait 120 s, the store's), O-2 handed over in part (wait 15:00 -> 15:05 =
#    300 s from its check-in), O-3 a no-show, O-4 collected without its missing line
#    (wait 60 s; a short hand-over that completes the order): collected 2, no-show rate
#    1 / (1 + 2). Waits 60, 120, 300: median 120, p90 (nearest rank 3 of 3) 300. NPS
#    after a pick-up 10 and 4: one promoter, one detractor.
#  rtm-1: R-1 first ready Wed 14:00 before its 15:00 promise, which arrives in the
#    catch-up after Thursday's second mark (judged late until then): Wed 1 on time.
CLICK_AND_COLLECT = {"pickups_ready": 4, "ready_on_time": 1, "ready_late": 1,
    "pickups_collected": 2, "partial_handovers": 1, "short_handovers": 1, "no_shows": 1,
    "nps_responses": 2,
    "promoters": 1, "detractors": 1, "pickup_nps_responses": 2, "pickup_promoters": 1,
    "pickup_detractors": 1}  # fmt: skip
A_WEEKDAY = {
    "entries": 12,
    "exits": 12,
    "visitors": 7,
    "entries_outside_hours": 2,
    "staff_scans": 1,
}
EXPECTED = {
    ("ams-1", "2026-10-19"): A_WEEKDAY | {"transactions": 3, "returns": 1, "net_sales_cents": 5500,
        "identified_visits": 3, "matched_visits": 1, "online_active_visits": 1,
        "offline_to_online": 1, "identified_purchases": 2, "nps_responses": 4, "promoters": 2,
        "passives": 1, "detractors": 1},
    ("ams-1", "2026-10-20"): A_WEEKDAY | {"transactions": 1, "net_sales_cents": 4000,
        "identified_visits": 2, "matched_visits": 1, "online_active_visits": 1,
        "offline_to_online": 1} | CLICK_AND_COLLECT,
    ("ams-1", "2026-10-21"): A_WEEKDAY,
    ("ams-1", "2026-10-22"): A_WEEKDAY | {"identified_visits": 1},
    ("ams-1", "2026-10-23"): A_WEEKDAY | {"identified_visits": 1, "matched_visits": 1},
    ("ams-1", "2026-10-24"): A_WEEKDAY,
    ("ams-1", "2026-10-25"): {"entries": 6, "exits": 4, "visitors": 2,
        "entries_outside_hours": 2, "transactions": 1, "net_sales_cents": 1250},
    **{("rtm-1", d.isoformat()): {"entries": 5, "exits": 5, "visitors": 5} for d in DAYS},
    ("rtm-1", "2026-10-21"): {"entries": 5, "exits": 5, "visitors": 5, "transactions": 2,
        "net_sales_cents": 2000, "pickups_ready": 1, "ready_on_time": 1},
    ("rtm-1", "2026-10-22"): {"entries": 5, "exits": 5, "visitors": 5, "pickups_ready": 1},
    ("rtm-1", "2026-10-23"): {"entries": 5, "exits": 5, "visitors": 7, "undirected": 4},
    **{("lon-1", d.isoformat()): {"entries": 2, "exits": 2, "visitors": 2} for d in DAYS},
    ("lon-1", "2026-10-22"): {"entries": 5, "exits": 5, "visitors": 5,
        "untrusted_clock_events": 1},
    ("lon-1", "2026-10-25"): {"entries": 4, "exits": 2, "visitors": 2,
        "entries_outside_hours": 2},
}  # fmt: skip
CHECKED = sorted({k for row in EXPECTED.values() for k in row} | {"passives"})


def import_rows(hq, kind: str, rows: list[dict]) -> None:
    now = "2026-10-26T00:00:00.000Z"
    if kind == "stores":
        counts = hq.import_stores([parse_store(r, i) for i, r in enumerate(rows, 1)], now)
    elif kind == "profiles":
        counts = hq.import_profiles([parse_profile(r, i, PS) for i, r in enumerate(rows, 1)], now)
    else:
        records = [
            parse_transaction(
                {"id": t, "store": s, "ts": ts, "type": k, "net_amount": amt, "currency": "EUR",
                 "items": 1} | ({"loyalty_number": CARDS[who]} if who else {}),
                i, PS, "EUR",
            )
            for i, (t, s, ts, k, amt, who) in enumerate(rows, 1)
        ]  # fmt: skip
        counts = hq.import_transactions(records, now)
    assert not counts.rejected, counts.rejected


def day_figures(db: Db) -> dict[tuple[str, str], dict]:
    out = {}
    for store in ("ams-1", "rtm-1", "lon-1"):
        for row in store_feed(db, store, "day", DAYS[0], DAYS[-1]):
            out[(store, row["day"])] = row
    return out


@pytest.fixture
def week(hq_target):
    hq = hq_target.open()
    db = Db(hq)
    rollup = Rollup(db, now=lambda: LATER)
    import_rows(hq, "stores", STORES)
    import_rows(hq, "profiles", PROFILES_V1)
    for store in ("ams-1", "rtm-1", "lon-1"):
        hq.record_state(store, StoreState(v=1, online=True, boot_id="b", outbox=0,
                        oldest_unsent_s=0, version="t"), "2026-10-19T00:00:00.000Z")  # fmt: skip
    logs, deliveries = week_logs()
    snapshots = {}
    for i in range(8):
        for store in ("ams-1", "rtm-1", "lon-1"):
            if i < len(deliveries[store]):
                deliver(hq, store, logs[store].payloads(deliveries[store][i]))
        rollup.run_once()
        if i == 0:
            snapshots["monday"] = day_figures(db)
        if i == 3:  # Thursday night: Carol withdraws, Dave consents
            import_rows(hq, "profiles", PROFILES_V2)
            rollup.run_once()
        if i == 6:
            rollup.refresh_provisional()
            snapshots["before catch-up"] = day_figures(db)
    import_rows(hq, "transactions", TXNS)
    rollup.run_once()
    rollup.refresh_provisional()
    return hq, db, rollup, snapshots


def test_the_week_reproduces_the_hand_worked_figures(week):
    _hq, db, _rollup, snapshots = week
    got = day_figures(db)
    assert set(got) == set(EXPECTED)
    for key, expected in EXPECTED.items():
        row = got[key]
        assert {k: row[k] for k in CHECKED} == {k: expected.get(k, 0) for k in CHECKED}, key
        assert row["provisional"] is False and row["unregistered"] is False, key
    mon = got[("ams-1", "2026-10-19")]
    assert mon["conversion"] == 3 / 7 and mon["atv_cents"] == 5500 / 3
    assert mon["identification_rate"] == 3 / 7 and mon["online_to_offline_share"] == 1.0
    assert mon["nps"] == 25.0 and mon["sales_per_visitor_cents"] == 5500 / 7
    assert got[("ams-1", "2026-10-21")]["conversion"] == 0.0
    tue = got[("ams-1", "2026-10-20")]
    assert (tue["wait_median_s"], tue["wait_p90_s"]) == (120.0, 300.0)
    assert (tue["no_show_rate"], tue["ready_on_time_rate"], tue["pickup_nps"]) == (1 / 3, 0.5, 0.0)
    assert mon["wait_median_s"] is None and mon["no_show_rate"] is None
    # Thursday's mark of R-1 was its first until Wednesday's arrived with the catch-up.
    assert snapshots["before catch-up"][("rtm-1", "2026-10-22")]["ready_late"] == 1
    assert got[("lon-1", "2026-10-22")]["untrusted_clock_share"] == 0.25
    assert got[("ams-1", "2026-10-19")]["counting_accuracy"] == 1.0
    assert got[("ams-1", "2026-10-25")]["counting_accuracy"] == 1 - 2 / 10
    # Carol was matched on Monday until she withdrew on Thursday night.
    assert snapshots["monday"][("ams-1", "2026-10-19")]["matched_visits"] == 2
    assert mon["revision"] > snapshots["monday"][("ams-1", "2026-10-19")]["revision"]


def test_hours_follow_local_time_across_the_dst_change(week):
    _hq, db, _rollup, _ = week
    sunday = store_feed(db, "ams-1", "hour", DAYS[6], DAYS[6])
    assert len(sunday) == 25
    twice = [h for h in sunday if h["label"].startswith("2026-10-25T02:00")]
    assert [(h["label"], h["entries"]) for h in twice] == [
        ("2026-10-25T02:00+02:00", 1),
        ("2026-10-25T02:00+01:00", 1),
    ]
    assert len(store_feed(db, "lon-1", "hour", DAYS[6], DAYS[6])) == 25
    assert len(store_feed(db, "ams-1", "hour", DAYS[0], DAYS[0])) == 24
    monday = store_feed(db, "ams-1", "hour", DAYS[0], DAYS[0])
    ten = next(h for h in monday if h["label"] == "2026-10-19T10:00+02:00")
    assert (ten["visitors"], ten["staff_scans"], ten["occupancy_peak"]) == (9, 1, 10)
    (day,) = store_feed(db, "ams-1", "day", DAYS[0], DAYS[0])
    assert (day["occupancy_peak"], day["occupancy_residual"]) == (10, 0)


def test_events_from_before_the_clock_step_land_in_their_real_hour(week):
    _hq, db, _rollup, _ = week
    thursday = store_feed(db, "lon-1", "hour", DAYS[3], DAYS[3])
    nine = next(h for h in thursday if h["label"] == "2026-10-22T09:00+01:00")
    assert (nine["entries"], nine["exits"], nine["occupancy_peak"]) == (3, 3, 3)
    assert store_feed(db, "lon-1", "day", date(2026, 1, 1), date(2026, 1, 1)) == []


def test_the_offline_store_catches_up_into_the_right_buckets(week):
    _hq, db, _rollup, snapshots = week
    before = snapshots["before catch-up"]
    wed_before = before[("rtm-1", "2026-10-21")]
    assert (wed_before["entries"], wed_before["exits"]) == (5, 0)
    assert all(before[("rtm-1", d.isoformat())]["provisional"] for d in DAYS[2:])
    after = day_figures(db)
    wed = after[("rtm-1", "2026-10-21")]
    assert wed["exits"] == 5 and wed["revision"] > wed_before["revision"]
    for d in DAYS[3:]:
        assert after[("rtm-1", d.isoformat())]["provisional"] is False


def test_incremental_equals_from_scratch(week):
    _hq, db, rollup, _ = week
    incremental = {k: (v.pop("revision"), v)[1] for k, v in day_figures(db).items()}
    hours = {
        (r["store"], r["start"]): r
        for s in ("ams-1", "rtm-1", "lon-1")
        for r in store_feed(db, s, "hour", DAYS[0], DAYS[-1])
    }
    with db.tx() as tx:
        tx.execute("DELETE FROM hq_feed")
        tx.execute(
            "INSERT INTO hq_dirty (store, hour) SELECT DISTINCT store, substr(ts, 1, 13) FROM hq_events"
        )
    rollup.run_once()
    rollup.refresh_provisional()
    scratch = {k: (v.pop("revision"), v)[1] for k, v in day_figures(db).items()}
    assert scratch == incremental
    again = {
        (r["store"], r["start"]): r
        for s in ("ams-1", "rtm-1", "lon-1")
        for r in store_feed(db, s, "hour", DAYS[0], DAYS[-1])
    }

    def strip(rows):
        return {k: {f: v for f, v in r.items() if f != "revision"} for k, r in rows.items()}

    assert strip(again) == strip(hours)
