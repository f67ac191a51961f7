"""Consent and retention at head office: no join without consent, links gone after a
withdrawal, unconsented pseudonyms gone after the retention period, erasure that leaves
no byte behind, and no raw loyalty number anywhere in the database or the logs."""

from __future__ import annotations

import json
import logging
import re
from datetime import date
from pathlib import Path

from hq.db import Db
from hq.feeds import store_feed
from hq.imports.profiles import parse_profile
from hq.imports.stores import parse_store
from hq.imports.transactions import parse_transaction
from hq.orders import OrderRules, accept
from hq.privacy import expire_pseudonyms, export_subject, forget
from hq.rollup import Rollup
from hq.sqlite_store import SqliteHqStore
from tests.hq.storelog import StoreLog, deliver
from tests.hq.test_fixture_week import CARDS, PS, card

LATER = 1_900_000_000.0
RECEIVED = "2026-06-01T12:00:00.000Z"
RECEIVED_EPOCH = 1780315200.0  # 2026-06-01T12:00:00Z
DAY = date(2026, 6, 1)


def setup(hq, *, withdrawn: bool = False):
    now = "2026-06-01T00:00:00.000Z"
    profiles = [
        {"customer_id": "c-alice", "loyalty_number": CARDS["alice"],
         "instore_recognition": "withdrawn" if withdrawn else "granted",
         "instore_recognition_at": "2026-05-01", "first_name": "Alice",
         "last_online_at": "2026-05-20", "wishlist": ["sku-1"]},
        {"customer_id": "c-bob", "loyalty_number": CARDS["bob"],
         "instore_recognition": "denied", "instore_recognition_at": "2026-05-01"},
    ]  # fmt: skip
    assert not hq.import_profiles(
        [parse_profile(p, i, PS) for i, p in enumerate(profiles)], now
    ).rejected
    txn = {"id": "r1", "store": "online", "ts": "2026-06-02T10:00:00+02:00", "type": "sale",
           "net_amount": "9.99", "currency": "EUR", "items": 1, "loyalty_number": CARDS["bob"]}  # fmt: skip
    assert not hq.import_transactions([parse_transaction(txn, 1, PS, "EUR")], now).rejected
    # Alice also ordered for pick-up (at another store), with her card on the order.
    hq.import_stores([parse_store({"store": "s9", "name": "s9", "timezone": "UTC",
                                   "hours": "mon-sun 09:00-18:00"}, 1)], now)  # fmt: skip
    order = {"order_id": "W-A", "store": "s9", "lines": "SKU-1:1", "first_name": "Alice",
             "promised_at": "2026-06-02T12:00:00Z", "code": "TPO-A",
             "loyalty_number": CARDS["alice"]}  # fmt: skip
    assert accept(Db(hq), [order], OrderRules(PS))[0].result == "imported"
    log = StoreLog("s1")
    log.door("2026-06-01T09:00:00.000Z", count=4)
    log.visit("2026-06-01T09:01:00.000Z", card("alice"))
    log.visit("2026-06-01T09:02:00.000Z", card("bob"))
    deliver(hq, "s1", log.payloads(), received_at=RECEIVED)
    Rollup(Db(hq), now=lambda: LATER).run_once()


def visits(db: Db) -> list[tuple]:
    return db.q("SELECT seq, pseudonym IS NOT NULL, customer_id FROM hq_visits ORDER BY seq")


def test_only_a_consented_profile_is_joined(hq_store):
    setup(hq_store)
    db = Db(hq_store)
    assert [(p, c) for _, p, c in visits(db)] == [(True, "c-alice"), (True, None)]
    (day,) = store_feed(db, "s1", "day", DAY, DAY)
    assert (day["identified_visits"], day["matched_visits"]) == (2, 1)


def test_a_withdrawal_removes_the_links_to_past_visits(hq_store):
    setup(hq_store)
    db = Db(hq_store)
    row = {"customer_id": "c-alice", "loyalty_number": CARDS["alice"],
           "instore_recognition": "withdrawn", "instore_recognition_at": "2026-06-03"}  # fmt: skip
    hq_store.import_profiles([parse_profile(row, 1, PS)], "2026-06-03T00:00:00.000Z")
    Rollup(db, now=lambda: LATER).run_once()
    assert [c for *_, c in visits(db)] == [None, None]
    (day,) = store_feed(db, "s1", "day", DAY, DAY)
    assert day["matched_visits"] == 0 and day["revision"] == 2


def test_unconsented_pseudonyms_are_deleted_after_the_retention_period(hq_store):
    setup(hq_store)
    db = Db(hq_store)
    before = store_feed(db, "s1", "day", DAY, DAY)
    assert expire_pseudonyms(db, 24, RECEIVED_EPOCH + 23 * 3600) == 0  # not yet
    assert expire_pseudonyms(db, 24, RECEIVED_EPOCH + 25 * 3600) == 1  # bob's, not alice's
    assert [(p, c) for _, p, c in visits(db)] == [(True, "c-alice"), (False, None)]
    assert card("bob") not in json.dumps(db.q("SELECT * FROM hq_visits"))
    # The figures do not change: the visit stays, anonymous.
    with db.tx() as tx:
        tx.execute("INSERT INTO hq_dirty (store, hour) VALUES ('s1', '2026-06-01T09')")
    Rollup(db, now=lambda: LATER).run_once()
    assert store_feed(db, "s1", "day", DAY, DAY) == before


def test_forget_erases_every_trace_of_the_customer(tmp_path: Path):
    path = tmp_path / "hq.db"
    hq = SqliteHqStore(path)
    setup(hq)
    db = Db(hq)
    traces = [card("alice", k) for k in ("k1", "k2")]
    hq.checkpoint()
    assert all(t.encode() in _db_bytes(path) for t in traces[:1])  # the search can find them
    erased = forget(db, "c-alice")
    assert erased.profile and erased.pseudonyms == 2 and erased.visits == 1
    Rollup(db, now=lambda: LATER).run_once()
    (day,) = store_feed(db, "s1", "day", DAY, DAY)
    assert (day["identified_visits"], day["matched_visits"]) == (2, 0)
    hq.close()
    data = _db_bytes(path)
    for trace in traces:
        assert trace.encode() not in data
    assert b"Alice" not in data and b"c-alice" not in data
    assert export_subject(Db(SqliteHqStore(path)), "c-alice") is None


def test_forget_leaves_no_row_behind(hq_target):
    hq = hq_target.open()
    setup(hq)
    db = Db(hq)
    forget(db, "c-alice")
    dump = json.dumps([db.q(f"SELECT * FROM {t}") for t in _tables(db)], default=str)
    assert card("alice") not in dump and card("alice", "k2") not in dump and "c-alice" not in dump


def test_export_subject_lists_what_head_office_holds(hq_store):
    setup(hq_store)
    data = export_subject(Db(hq_store), "c-alice")
    assert data["profile"]["first_name"] == "Alice"
    assert data["profile"]["consents"]["instore_recognition"]["status"] == "granted"
    assert {p["key_id"] for p in data["pseudonyms"]} == {"k1", "k2"}
    assert data["store_visits"] == [
        {"store": "s1", "ts": "2026-06-01T09:01:00.000Z", "linked_to_profile": True}
    ]
    assert data["online_activity"] and data["transactions"] == []
    assert data["pickup_orders"] == [{"order_id": "W-A", "store": "s9", "state": "preparing",
        "promised_at": "2026-06-02T12:00:00.000Z", "created_at": data["pickup_orders"][0]["created_at"]}]  # fmt: skip
    bob = export_subject(Db(hq_store), "c-bob")
    assert [t["id"] for t in bob["transactions"]] == ["r1"]


def test_no_raw_loyalty_number_reaches_the_database_or_the_logs(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "hq.db"
    hq = SqliteHqStore(path)
    setup(hq)
    expire_pseudonyms(Db(hq), 24, LATER)
    hq.checkpoint()
    hq.close()
    data = _db_bytes(path)
    for number in CARDS.values():
        assert number.encode() not in data
        assert number not in caplog.text
    # The stored events hold no pseudonym either: visits keep theirs apart (hq_visits).
    events = SqliteHqStore(path)
    texts = json.dumps(events.query("SELECT data FROM hq_events", ()))
    assert not re.search(r"[0-9a-f]{64}", texts)
    events.close()


def _db_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def _tables(db: Db) -> list[str]:
    if db.dialect == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
    else:
        sql = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    return [t for (t,) in db.q(sql)]


def test_an_orders_contact_details_are_blanked_after_their_period(hq_store):
    from hq.privacy import expire_personal_events

    log = StoreLog("s1")
    log.add("order.contact", "2026-06-01T09:00:00.000Z",
            {"order": "TPO-1", "name": "Anna de Vries", "email": "anna@example.nl",
             "street": "Kalverstraat 1", "postcode": "1012NX", "city": "Amsterdam"})  # fmt: skip
    log.door("2026-06-01T09:01:00.000Z")
    deliver(hq_store, "s1", log.payloads(), received_at=RECEIVED)
    db = Db(hq_store)
    assert expire_personal_events(db, 30, RECEIVED_EPOCH + 29 * 86400) == 0
    assert "anna@example.nl" in json.dumps(db.q("SELECT data FROM hq_events"))
    assert expire_personal_events(db, 30, RECEIVED_EPOCH + 31 * 86400) == 1
    dump = json.dumps(db.q("SELECT data FROM hq_events ORDER BY seq"))
    assert "anna" not in dump.lower() and "Kalverstraat" not in dump and "door" in dump
    assert db.q("SELECT max(seq) FROM hq_events")[0][0] == 2  # the numbering stays whole
