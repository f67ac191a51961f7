"""Property: feeds built incrementally, in any arrival order and with duplicates, equal the
feeds recomputed from all events at once. On SQLite and PostgreSQL.

Each example is a store with random door counts, staff badges, identified visits of
customers with and without consent, NPS answers, and a boot whose clock was wrong
until a step, over the days of the 2026 autumn DST change. Its batches arrive in a
random order, some twice, with a rollup after some of them; profiles and receipts are
imported at random points. Then the store's buckets are dropped and recomputed from
scratch; every bucket with data must carry the same figures and provisional flag.
"""

from __future__ import annotations

import uuid
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hq.db import Db
from hq.feeds import store_feed
from hq.imports.profiles import parse_profile
from hq.imports.stores import parse_store
from hq.imports.transactions import parse_transaction
from hq.rollup import Rollup
from sync.wire import StoreState
from tests.hq.feed_pages import assert_pages_match
from tests.hq.storelog import StoreLog, deliver
from tests.hq.test_fixture_week import CARDS, PS, card

LATER = 1_900_000_000.0
FIRST, LAST = date(2026, 10, 23), date(2026, 10, 28)
BASE = 1792800000  # 2026-10-24T00:00:00Z
SPAN_S = 4 * 86400
ZONES = ["Europe/Amsterdam", "Europe/London", "America/New_York", None]


def stamp(offset_s: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(BASE + offset_s, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


event = st.one_of(
    st.tuples(st.just("door"), st.integers(0, SPAN_S), st.sampled_from(["in", "out", "u"]),
              st.integers(1, 5)),
    st.tuples(st.just("staff"), st.integers(0, SPAN_S)),
    st.tuples(st.just("visit"), st.integers(0, SPAN_S), st.sampled_from(sorted(CARDS))),
    st.tuples(st.just("nps"), st.integers(0, SPAN_S), st.integers(0, 10)),
)  # fmt: skip


@st.composite
def scenarios(draw):
    events = draw(st.lists(event, min_size=1, max_size=30))
    wrong_clock = draw(st.lists(st.integers(0, 3600), max_size=4))  # seconds after a bad base
    step_at = draw(st.integers(0, SPAN_S))
    zone = draw(st.sampled_from(ZONES))
    run = draw(st.integers(1, 8))
    order = draw(st.randoms(use_true_random=False))
    duplicates = draw(st.integers(0, 3))
    rollups = draw(st.lists(st.booleans(), min_size=1, max_size=20))
    imports_at = draw(st.integers(0, 10))
    return events, wrong_clock, step_at, zone, run, order, duplicates, rollups, imports_at


def build(store: str, events, wrong_clock, step_at) -> StoreLog:
    log = StoreLog(store)
    for ev in events:
        if ev[0] == "door":
            _, t, direction, n = ev
            if direction == "u":
                log.door(stamp(t), "in", n, door="side", directional=False)
            else:
                log.door(stamp(t), direction, n)
        elif ev[0] == "staff":
            log.staff(stamp(ev[1]))
        elif ev[0] == "visit":
            log.visit(stamp(ev[1]), card(ev[2]))
        else:
            log.nps(stamp(ev[1]), ev[2])
    if wrong_clock:  # a reboot: its first events stamped from 1 January, then NTP steps it
        wrong_base = 1767225600 + 300  # 2026-01-01T00:05Z
        for dt in sorted(wrong_clock):
            log.add("door.count", stamp(wrong_base + dt - BASE),
                    {"door": "main", "direction": "in", "count": 1, "sensor": "s"},
                    clock_ok=False, boot="boot-2")  # fmt: skip
        log.step(stamp(step_at), float(BASE + step_at - wrong_base - 3600), boot="boot-2")
    return log


def import_master_data(hq, store: str, zone: str | None) -> None:
    now = "2026-10-29T00:00:00.000Z"
    if zone:
        row = {"store": store, "name": "S", "timezone": zone, "hours": "mon-sun 09:00-18:00",
               "staff_count": 1}  # fmt: skip
        assert not hq.import_stores([parse_store(row, 1)], now).rejected
    profiles = [
        {"customer_id": "p-alice", "loyalty_number": CARDS["alice"],
         "instore_recognition": "granted", "instore_recognition_at": "2026-10-01",
         "last_online_at": "2026-10-20"},
        {"customer_id": "p-bob", "loyalty_number": CARDS["bob"],
         "instore_recognition": "denied", "instore_recognition_at": "2026-10-01"},
        {"customer_id": "p-carol", "loyalty_number": CARDS["carol"],
         "instore_recognition": "granted", "instore_recognition_at": "2026-10-25T12:00:00Z"},
    ]  # fmt: skip
    assert not hq.import_profiles(
        [parse_profile(p, i, PS) for i, p in enumerate(profiles)], now
    ).rejected
    if zone:
        txns = [
            {"id": f"{store}-t{i}", "store": store, "ts": stamp(i * 7200 + 600).replace(".000Z", "Z"),
             "type": "sale" if i % 4 else "return", "net_amount": f"{i + 1}.00",
             "currency": "EUR", "items": 1, "loyalty_number": CARDS["alice"] if i % 3 == 0 else ""}
            for i in range(0, 40, 3)
        ]  # fmt: skip
        records = [parse_transaction(t, i, PS, "EUR") for i, t in enumerate(txns)]
        assert not hq.import_transactions(records, now).rejected


def feed_of(db: Db, store: str) -> dict:
    out = {}
    for period in ("hour", "day"):
        for row in store_feed(db, store, period, FIRST, LAST) + store_feed(
            db, store, period, date(2026, 1, 1), date(2026, 1, 2)
        ):
            row = dict(row)
            row.pop("revision")
            # A bucket whose events all moved away (re-based) stays, emptied, with a new
            # revision; from scratch it never existed. Both mean "nothing happened".
            counts = [
                v
                for k, v in row.items()
                if isinstance(v, int | float) and not isinstance(v, bool) and k != "staff_count"
            ]
            if any(counts) or row["doors"]:
                out[(period, row["start"])] = row
    return out


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(scenario=scenarios())
def test_incremental_feeds_equal_feeds_from_scratch(hq_store, scenario) -> None:
    events, wrong_clock, step_at, zone, run, order, duplicates, rollups, imports_at = scenario
    store = f"p{uuid.uuid4().hex[:12]}"
    db = Db(hq_store)
    rollup = Rollup(db, now=lambda: LATER)
    hq_store.record_state(
        store,
        StoreState(v=1, online=True, boot_id="b", outbox=0, oldest_unsent_s=0, version="t"),
        "2026-10-24T00:00:00.000Z",
    )
    log = build(store, events, wrong_clock, step_at)
    chunks = [log.events[i : i + run] for i in range(0, len(log.events), run)]
    chunks += [order.choice(chunks) for _ in range(duplicates)]
    order.shuffle(chunks)
    for i, chunk in enumerate(chunks):
        if i == imports_at:
            import_master_data(hq_store, store, zone)
        deliver(hq_store, store, log.payloads(chunk))
        if rollups[i % len(rollups)]:
            rollup.run_once()
    if imports_at >= len(chunks):
        import_master_data(hq_store, store, zone)
    rollup.run_once()
    rollup.refresh_provisional()
    incremental = feed_of(db, store)
    assert_pages_match(db)

    with db.tx() as tx:
        tx.execute("DELETE FROM hq_feed WHERE store = ?", (store,))
        tx.execute("DELETE FROM hq_feed_page WHERE store = ?", (store,))
        tx.execute(
            "INSERT INTO hq_dirty (store, hour) SELECT DISTINCT store, substr(ts, 1, 13)"
            " FROM hq_events WHERE store = ?"
            " UNION SELECT store, substr(ts, 1, 13) FROM hq_transactions WHERE store = ?",
            (store, store),
        )
    rollup.run_once()
    rollup.refresh_provisional()
    assert feed_of(db, store) == incremental
    assert incremental  # the scenario always has data
    assert assert_pages_match(db)
