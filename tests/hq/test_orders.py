"""Pick-up orders at head office on both backends: import, versions, the web shop's
`accept`, state from the store's events, kiosk orders, the routing outbox."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from edge.identity import Pseudonymiser
from hq.db import Db
from hq.imports.profiles import parse_profile
from hq.imports.runner import FIELDS, kind_for, run_import
from hq.imports.stores import parse_store
from hq.lookup import answer
from hq.orders import OrderRules, accept, order_status
from hq.orders.router import Returns, publish_outbox, requeue_open
from hq.orders.tracker import TrackSettings, track
from sync import wire
from sync.wire import StoreState
from tests.hq.storelog import StoreLog, deliver
from tests.hq.test_imports import rows

KEYS = Pseudonymiser({"k1": b"chain key one", "k2": b"chain key two"}, "k1")
RULES = OrderRules(KEYS)
CARD = "2000000000012"
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
HEADER = ",".join(FIELDS["orders"]) + "\n"
GOOD = "W-1,ams-01,DRILL-1:1|JACKET-1:2,2026-12-04T15:00:00+01:00,Anna,{card},TPO-1001,\n"
ORDERS_CSV = (
    HEADER
    + GOOD.format(card=CARD)
    + "W-2,ams-01,,2026-12-04T15:00:00+01:00,Bram,,TPO-1002,\n"  # line 3
    + "W-3,ams-01,DRILL-1:1|DRILL-1:2,2026-12-04T15:00:00+01:00,Bram,,TPO-1003,\n"
    + "W-4,ams-01,DRILL-1:1,2026-12-04 15:00,Bram,,TPO-1004,\n"  # line 5
    + "W-5,ams-01,DRILL-1:1,2026-12-04T15:00:00Z,Bram,,XYZ-1,\n"
    + "W-6,nowhere,DRILL-1:1,2026-12-04T15:00:00Z,Bram,,TPO-1006,\n"  # line 7
    + "W-7,ams-01,DRILL-1:1,2026-12-04T15:00:00Z,Bram,,TPO-1001,\n"
    + "W-8,,,,,,,cancelled\n"  # line 9
    + "W-9,ams-01,DRILL-1:1,2026-12-04T15:00:00Z,,,TPO-1009,maybe\n"
)


@pytest.fixture
def hq(hq_target):
    store = hq_target.open()
    store.import_stores(
        [parse_store({"store": s, "name": s, "timezone": "Europe/Amsterdam",
                      "hours": "mon-sun 09:00-18:00"}, 1) for s in ("ams-01", "utr-01")],
        "2026-12-01T00:00:00.000Z",
    )  # fmt: skip
    return store


def do_import(store, path: Path):
    reported = []
    kind = kind_for("orders", store, KEYS, "EUR", RULES)
    summary = run_import(
        path, kind, FIELDS["orders"], now=lambda: "2026-12-04T10:00:00.000Z",
        on_reject=lambda line, reason: reported.append((line, reason)),
    )  # fmt: skip
    return summary, reported


def outbox(db: Db) -> list[tuple]:
    return db.q("SELECT order_id, store, version FROM hq_order_outbox ORDER BY order_id")


def test_bad_rows_are_rejected_with_their_line_and_reason(hq, hq_target, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS_CSV)
    summary, reported = do_import(hq, path)
    assert (summary.imported, summary.rejected) == (1, 8)
    assert reported == [
        (3, "lines: an order needs at least one line"),
        (4, "lines: product 'DRILL-1' twice (one line per product)"),
        (5, "promised_at: '2026-12-04 15:00' has no UTC offset (add Z or +01:00)"),
        (6, "code: 'XYZ-1' does not start with 'TPO-' (orders.code_prefix)"),
        (7, "store: 'nowhere' is not in the store registry (hq import stores)"),
        (8, "code: 'TPO-1001' is already the pick-up code of open order 'W-1' at ams-01"),
        (9, "order_id: 'W-8' is not known at head office (nothing to cancel)"),
        (10, "status: 'maybe' is not placed or cancelled"),
    ]
    lines = ORDERS_CSV.splitlines(keepends=True)
    assert (tmp_path / "orders.rejected.csv").read_text() == lines[0] + "".join(lines[2:])
    # The loyalty number is stored as pseudonyms under both keys, never as itself.
    keys = rows(hq_target, "SELECT key_id, pseudonym FROM hq_order_keys ORDER BY key_id")
    assert keys == sorted((k, p) for p, k in KEYS.every_key("loyalty", CARD))
    dump = json.dumps(rows(hq_target, "SELECT * FROM hq_orders")) + json.dumps(
        rows(hq_target, "SELECT * FROM hq_order_keys")
    )
    assert CARD not in dump


def test_reimport_is_idempotent_and_each_change_raises_the_version(hq, tmp_path):
    db = Db(hq)
    path = tmp_path / "orders.jsonl"
    first = {"order_id": "W-1", "store": "ams-01", "promised_at": "2026-12-04T15:00:00+01:00",
             "first_name": "Anna", "code": "TPO-1001",
             "lines": [{"product_id": "DRILL-1", "quantity": 1}, "JACKET-1:2"]}  # fmt: skip
    path.write_text(json.dumps(first) + "\n")
    assert do_import(hq, path)[0].imported == 1
    assert outbox(db) == [("W-1", "ams-01", 1)]
    assert publish_outbox(db, lambda t, p, r: True) == 1 and outbox(db) == []
    again, _ = do_import(hq, path)
    assert (again.imported, again.unchanged) == (0, 1) and outbox(db) == []
    later = first | {"promised_at": "2026-12-05T15:00:00+01:00"}
    path.write_text(
        json.dumps(later) + "\n" + json.dumps({"order_id": "W-1", "status": "cancelled"}) + "\n"
    )
    changed, _ = do_import(hq, path)
    assert changed.imported == 2 and outbox(db) == [("W-1", "ams-01", 3)]
    sent: list[bytes] = []
    publish_outbox(db, lambda t, p, r: sent.append(p) or True)
    (order,) = wire.decode_orders(sent[0]).orders
    assert (order.version, order.status, order.first_name) == (3, "cancelled", "")
    assert [(ln.line, ln.sku, ln.qty) for ln in order.lines] == [
        (1, "DRILL-1", 1),
        (2, "JACKET-1", 2),
    ]
    # Cancelled is final: the same cancellation is unchanged, a change is refused.
    path.write_text(
        json.dumps({"order_id": "W-1", "status": "cancelled"}) + "\n" + json.dumps(later) + "\n"
    )
    final, reported = do_import(hq, path)
    assert (final.unchanged, reported) == (
        1,
        [(2, "order_id: 'W-1' has ended (cancelled): it can no longer change")],
    )
    track(db, TrackSettings(), NOW)
    assert order_status(db, "W-1", "en").text == "This order has been cancelled"  # type: ignore[union-attr]


def test_accept_for_the_web_shop_answers_per_order(hq):
    db = Db(hq)
    order = {"order_id": "A-1", "store": "ams-01", "lines": "SKU-1:1",
             "promised_at": "2026-12-04T15:00:00Z", "first_name": "Cor", "code": "TPO-A1"}  # fmt: skip
    out = accept(db, [order, order | {"lines": "SKU-1:2"}, {"order_id": "A-2", "colour": "red"},
                      "text", order | {"order_id": "A-3", "store": "utr-01"}], RULES)  # fmt: skip
    assert [(o.order_id, o.result, o.version) for o in out] == [
        ("A-1", "imported", 1), ("A-1", "imported", 2), ("A-2", "rejected", 0),
        ("", "rejected", 0), ("A-3", "imported", 1),
    ]  # fmt: skip
    assert out[2].reason == "unknown field 'colour'" and out[3].reason == "not a JSON object"
    assert outbox(db) == [("A-1", "ams-01", 2), ("A-3", "utr-01", 1)]
    moved = accept(db, [order | {"store": "utr-01"}], RULES)[0]
    assert moved.result == "rejected" and "cannot move" in moved.reason


def test_state_follows_the_store_events_and_lines_freeze_once_picking_started(hq, tmp_path):
    db = Db(hq)
    accept(db, [{"order_id": "W-1", "store": "ams-01", "lines": "A:1|B:1|C:1",
                 "promised_at": "2026-12-04T15:00:00+01:00", "first_name": "Anna",
                 "code": "TPO-1"}], RULES)  # fmt: skip
    log = StoreLog("ams-01")
    log.add(
        "pickup.line", "2026-12-04T09:00:00.000Z", {"order": "W-1", "line": 1, "state": "picked"}
    )
    log.add(
        "pickup.line", "2026-12-04T09:01:00.000Z", {"order": "W-1", "line": 2, "state": "picked"}
    )
    log.add(
        "pickup.line", "2026-12-04T09:02:00.000Z", {"order": "W-1", "line": 3, "state": "short"}
    )
    log.add("pickup.ready", "2026-12-04T09:03:00.000Z", {"order": "W-1", "lines_ready": 2,
            "lines_total": 3, "promised_at": "2026-12-04T15:00:00+01:00"})  # fmt: skip
    deliver(hq, "ams-01", log.payloads())
    assert track(db, TrackSettings(), NOW) == 1
    status = order_status(db, "W-1", "en")
    assert status.text == (  # type: ignore[union-attr]
        "Part of your order is ready: 2 of 3 items. At the service desk until Friday 11 December"
    )
    assert order_status(db, "W-1", "nl").text.startswith(  # type: ignore[union-attr]
        "Een deel van je bestelling ligt klaar: 2 van 3 artikelen"
    )
    refused = accept(db, [{"order_id": "W-1", "store": "ams-01", "lines": "A:1|B:1",
                           "promised_at": "2026-12-04T15:00:00+01:00", "first_name": "Anna",
                           "code": "TPO-1"}], RULES)[0]  # fmt: skip
    assert refused.result == "rejected" and "picking has started" in refused.reason
    # Handed over without the short line: the order ends collected, 2 of its 3 items.
    log.add("pickup.handover", "2026-12-04T16:00:00.000Z",
            {"order": "W-1", "lines": [1, 2], "partial": False, "missing": [3], "wait_s": 42.0})  # fmt: skip
    deliver(hq, "ams-01", log.payloads(log.events[-1:]))
    track(db, TrackSettings(), NOW)
    status = order_status(db, "W-1", "en")
    assert status.text == "Collected on Friday 4 December: 2 of 3 items"  # type: ignore[union-attr]
    assert (status.state, status.lines_collected, status.lines_total) == ("collected", 2, 3)  # type: ignore[union-attr]
    assert order_status(db, "W-1", "nl").text == (  # type: ignore[union-attr]
        "Opgehaald op vrijdag 4 december: 2 van 3 artikelen"
    )
    assert db.q("SELECT line, state FROM hq_order_lines WHERE order_id = 'W-1' ORDER BY line") == [
        (1, "collected"), (2, "collected"), (3, "put_back")
    ]  # fmt: skip
    # The order is over: its first name is gone from head office too.
    assert db.q("SELECT first_name, state FROM hq_orders") == [("", "collected")]


def test_kiosk_orders_for_another_store_are_routed_and_returning_stores_get_open_orders(hq):
    db = Db(hq)
    log = StoreLog("utr-01")
    line = [{"sku": "DRILL-1", "qty": 1, "price_cents": 4999}]
    for order, where in (("K-1", "ams-01"), ("K-2", "utr-01")):
        log.add("order.placed", "2026-12-04T10:00:00.000Z",
                {"order": order, "fulfilment": "pickup", "lines": line, "total_cents": 4999,
                 "code": f"TPO-{order}", "pickup_store": where})  # fmt: skip
    log.add("order.placed", "2026-12-04T10:05:00.000Z", {"order": "K-3", "fulfilment": "delivery",
            "lines": line, "total_cents": 4999})  # fmt: skip
    deliver(hq, "utr-01", log.payloads())
    track(db, TrackSettings(kiosk_promise_h=24), NOW)
    got = db.q("SELECT order_id, store, origin, promised_at, code FROM hq_orders ORDER BY order_id")
    assert got == [("K-1", "ams-01", "utr-01", "2026-12-05T10:00:00.000Z", "TPO-K-1"),
                   ("K-2", "utr-01", "utr-01", "2026-12-05T10:00:00.000Z", "TPO-K-2")]  # fmt: skip
    # Both go to their pick-up store's queue (the kiosk's own store too: it has only the event).
    assert outbox(db) == [("K-1", "ams-01", 1), ("K-2", "utr-01", 1)]
    topics: list[str] = []
    assert publish_outbox(db, lambda t, p, r: topics.append(t) or False) == 0
    assert len(outbox(db)) == 2  # the broker did not take it: still queued
    publish_outbox(db, lambda t, p, r: topics.append(t) or True)
    assert topics == ["touchpoint/v1/ams-01/down/orders"] * 2 + ["touchpoint/v1/utr-01/down/orders"]
    assert outbox(db) == []
    # ams-01 comes back online: its open orders are queued again, once per return.
    returns = Returns()
    state = StoreState(v=1, online=True, boot_id="b2")
    hq.record_state("ams-01", state, "2026-12-04T12:00:00.000Z")
    assert returns.came_back(db) == ["ams-01"] and returns.came_back(db) == []
    assert requeue_open(db, "ams-01", NOW) == 1 and outbox(db) == [("K-1", "ams-01", 1)]


def test_a_recognised_shoppers_lookup_lists_their_open_orders_at_this_store(hq):
    db = Db(hq)
    profile = {"customer_id": "c-1", "loyalty_number": CARD, "first_name": "Anna",
               "instore_recognition": "granted", "instore_recognition_at": "2026-11-01"}  # fmt: skip
    assert not hq.import_profiles(
        [parse_profile(profile, 1, KEYS)], "2026-12-01T00:00:00.000Z"
    ).rejected
    base = {"lines": "SKU-1:1", "promised_at": "2026-12-04T15:00:00Z", "first_name": "Anna",
            "loyalty_number": CARD}  # fmt: skip
    accept(db, [base | {"order_id": "W-1", "store": "ams-01", "code": "TPO-1"},
                base | {"order_id": "W-2", "store": "utr-01", "code": "TPO-2"},
                base | {"order_id": "W-3", "store": "ams-01", "code": "TPO-3"},
                {"order_id": "W-3", "status": "cancelled"}], RULES)  # fmt: skip
    track(db, TrackSettings(), NOW)
    pseudonym, key_id = KEYS.pseudonym("loyalty", CARD)
    request = wire.encode(wire.LookupRequest(v=1, req="req-00001", key_id=key_id,
                                             pseudonym=pseudonym, sent_at="x"))  # fmt: skip
    reply = answer(db, request, "2026-12-04T12:00:00.000Z", "ams-01")
    assert (reply.known, reply.first_name, reply.open_orders) == (True, "Anna", ["TPO-1"])
    # Not consented: nothing at all, not even the orders.
    hq.import_profiles([parse_profile(profile | {"instore_recognition": "withdrawn",
                        "instore_recognition_at": "2026-12-02"}, 1, KEYS)], "2026-12-02T00:00:00.000Z")  # fmt: skip
    assert answer(db, request, "2026-12-04T12:00:00.000Z", "ams-01").open_orders == []
