"""Availability, alternatives, sessions, scans and recognition: the kiosk's rules, no screen."""

from __future__ import annotations

import time

from edge.db import connect
from edge.events import decode_data
from edge.identity import issue_token
from kiosk.core.alternatives import alternatives
from kiosk.core.availability import availability
from kiosk.core.products import StockFigures, product_by_sku
from kiosk.core.recognition import OfflineRecognition, ProfileSummary
from kiosk.core.scans import Identify, NotUnderstood, OpenProduct, PickupStatus, scan_action
from kiosk.core.session import Session

LOYALTY = "2123456789012"


def test_low_stock_note_only_when_real_and_below_threshold():
    assert availability(StockFigures(here=2), low_stock_below=5).low_stock == 2
    assert availability(StockFigures(here=5), low_stock_below=5).low_stock is None
    assert availability(StockFigures(here=0), low_stock_below=5).low_stock is None
    assert availability(StockFigures(here=None), low_stock_below=5).low_stock is None


def test_badges():
    def badge(**kw):
        return availability(StockFigures(**kw), low_stock_below=5).badge

    assert badge(here=1) == "here"
    assert badge(here=0, other_stores=(("a", 1),)) == "nearby"
    assert badge(here=0, online=3) == "online"
    assert badge(here=0) == "sold_out"
    assert badge(here=None) == "unknown"


def test_nearby_nearest_first_with_distance_when_known():
    stock = StockFigures(here=0, other_stores=(("far", 1), ("near", 2), ("unknown", 3)))
    a = availability(stock, low_stock_below=5, distances={"far": 30.0, "near": 2.5})
    assert [(n.store, n.km) for n in a.nearby] == [("near", 2.5), ("far", 30.0), ("unknown", None)]
    # Without distances, head office's order (it sends the nearest first) is kept.
    b = availability(stock, low_stock_below=5, nearby_max=2)
    assert [n.store for n in b.nearby] == ["far", "near"]


def test_alternatives_same_category_similar_price_here_first(kiosk_db):
    conn = connect(kiosk_db)
    drill = product_by_sku(conn, "DRILL-1")  # sold out here, 59.99
    alts = alternatives(conn, drill, limit=3, price_band=0.3)
    conn.close()
    # DRILL-4 (12.99) is outside the price band; DRILL-3 is head office's own pick.
    assert [a.sku for a in alts] == ["DRILL-3", "DRILL-2"]
    assert all(a.category == "gereedschap" for a in alts)


def test_no_alternative_that_cannot_be_had(kiosk_db):
    conn = connect(kiosk_db)
    cafe = product_by_sku(conn, "CAFE-1")
    assert alternatives(conn, cafe) == []
    conn.close()


def test_session_records_settled_searches_views_and_end():
    out = []
    clock = iter([100.0, 107.5]).__next__
    s = Session(out.append, clock=clock)
    for q in ("boo", "boor", "boorm"):
        s.searched(q, 3)
    s.searched("jas", 1)  # a different search: "boorm" is settled
    s.viewed("JACKET-1", 5)
    s.identified(("a" * 64, "k1"), ProfileSummary("Anna"))
    s.basket.append(("JACKET-1", 1))
    s.end("idle")
    kinds = [(e.TYPE, getattr(e, "query", None)) for e in out]
    assert kinds == [
        ("kiosk.session", None),
        ("kiosk.search", "boorm"),
        ("kiosk.search", "jas"),
        ("kiosk.product_view", None),
        ("kiosk.session", None),
    ]
    assert out[-1].action == "end" and out[-1].identified and out[-1].duration_s == 7.5
    assert s.profile is None and s.pseudonym is None and s.basket == []


def test_scan_actions(classifier):
    now = time.time()
    act, ev = scan_action(classifier, "4006381333931", "ean13", now)
    assert act == OpenProduct("4006381333931") and ev.role == "kiosk"
    act, ev = scan_action(classifier, LOYALTY, "ean13", now)
    assert isinstance(act, Identify) and LOYALTY not in repr(ev) and ev.pseudonym == act.pseudonym
    act, _ = scan_action(classifier, issue_token(b"tok", "cust-1", now), "qr", now)
    assert isinstance(act, Identify)
    assert scan_action(classifier, "TPO-ABC", "qr", now)[0] == PickupStatus("TPO-ABC")
    assert isinstance(scan_action(classifier, "hello", "qr", now)[0], NotUnderstood)
    forged = issue_token(b"wrong", "cust-1", now)
    assert scan_action(classifier, forged, "qr", now)[0] == NotUnderstood("forged")


class SlowRecognition:
    def lookup(self, pseudonym, key_id, timeout_s):
        time.sleep(3)
        return ProfileSummary("Late")


def test_recognition_waits_at_most_the_configured_time(make_service):
    svc = make_service(SlowRecognition(), recognition_timeout_ms=300)
    t0 = time.monotonic()
    assert svc.recognise("a" * 64, "k1") is None
    assert time.monotonic() - t0 < 0.5
    svc.recognition = OfflineRecognition()
    assert svc.recognise("a" * 64, "k1") is None


def test_kiosk_scan_event_is_recorded_without_the_card_number(kiosk_db, make_service):
    svc = make_service()
    assert isinstance(svc.scan(LOYALTY, "ean13"), Identify)
    svc.eventlog.flush()
    conn = connect(kiosk_db)
    rows = conn.execute("SELECT type, device, data FROM events").fetchall()
    dump = conn.execute("SELECT group_concat(data) FROM events").fetchone()[0]
    conn.close()
    assert [(t, d) for t, d, _ in rows] == [("scan", "kiosk")]
    assert decode_data("scan", rows[0][2]).cls == "loyalty" and LOYALTY not in dump


def test_a_card_number_typed_into_the_search_is_not_kept(classifier):
    out = []
    s = Session(out.append, personal=classifier.is_personal)
    s.searched(LOYALTY, 0)
    s.searched("jas", 1)
    s.end("idle")
    searches = [e for e in out if e.TYPE == "kiosk.search"]
    assert [e.query for e in searches] == ["", "jas"] and LOYALTY not in repr(out)
