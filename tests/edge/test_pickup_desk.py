"""The store's pick-up desk on a real store database: orders from the real downlink,
picking, partial ready and hand-over, no-show expiry, cancellations, two screens racing."""

from __future__ import annotations

import msgspec
import pytest

from edge.pickup import shopper_text
from edge.pickup_desk import PickupConflict
from sync.downlink import DownlinkApplier
from tests.pickup_support import TZ, SetClock, at, desk, events, order, send

STAFF = "00112233aabbccdd"


@pytest.fixture
def store(tmp_path):
    db = tmp_path / "store.db"
    clock = SetClock(at("2025-06-07T08:00:00+02:00"))
    d = desk(db, clock)
    return db, clock, d


def test_order_arrives_with_its_lines_and_a_stale_replay_changes_nothing(store):
    _db, _clock, d = store
    applier = DownlinkApplier(d.stamper)
    send(d.conn, applier, order(version=2, lines=3))
    send(d.conn, applier, order(version=1, lines=1))  # older, late
    view = d.order("W-1")
    assert [(ln.line, ln.state) for ln in view.lines] == [
        (1, "to_pick"),
        (2, "to_pick"),
        (3, "to_pick"),
    ]
    assert view.first_name == "Anna" and view.state == "preparing"
    assert view.promised_at == at("2025-06-07T10:00:00Z")
    assert shopper_text(view.summary, "nl", TZ) == "We maken je bestelling klaar"


def test_bad_line_numbers_refuse_that_order_only(store):
    _db, _clock, d = store
    applier = DownlinkApplier(d.stamper)
    bad = order("W-2")
    bad = msgspec.structs.replace(bad, lines=[bad.lines[0], bad.lines[0]])
    send(d.conn, applier, bad, order("W-3"))
    assert applier.rejected == 1 and d.order("W-2") is None and d.order("W-3") is not None


def test_partial_pickup_then_collection_of_the_rest(store):
    db, clock, d = store
    send(d.conn, DownlinkApplier(d.stamper), order(lines=3))
    d.set_line("W-1", 1, "to_pick", "picked", STAFF)
    d.set_line("W-1", 2, "to_pick", "picked", STAFF)
    d.set_line("W-1", 3, "to_pick", "short", STAFF)
    view = d.mark_ready("W-1", {1: "picked", 2: "picked", 3: "short"}, STAFF)
    assert view.state == "partly_ready"
    d.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert b"Anna" in db.read_bytes()  # while the order is open
    assert shopper_text(view.summary, "en", TZ) == (
        "Part of your order is ready: 2 of 3 items. At the service desk until Saturday 14 June"
    )
    clock.set(at("2025-06-08T10:00:00+02:00"))
    assert d.checkin(view.code, "scan").checked_in
    clock.set(at("2025-06-08T10:03:30+02:00"))
    view = d.handover("W-1", view.code.lower(), [1, 2], STAFF)
    assert view.state == "partly_collected" and view.ended is None and view.first_name == "Anna"
    # The short line arrives two days later: picked, ready, collected.
    clock.set(at("2025-06-10T09:00:00+02:00"))
    d.set_line("W-1", 3, "short", "picked", STAFF)
    view = d.mark_ready("W-1", {3: "picked"}, STAFF)
    assert view.pickup_by == at("2025-06-17T23:59:59+02:00")  # counted from the latest ready
    assert not view.checked_in  # that check-in was the last visit's
    d.checkin(view.code, "code")
    clock.set(at("2025-06-10T09:01:00+02:00"))
    view = d.handover("W-1", view.code, [3], STAFF)
    assert view.state == "collected" and view.ended == "collected"
    assert view.first_name == ""  # personal data gone once the order ends
    d.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert b"Anna" not in db.read_bytes()  # gone from the file, not only from the row
    assert shopper_text(view.summary, "nl", TZ) == "Opgehaald op dinsdag 10 juni"
    evs = events(db)
    assert [t for t, _ in evs] == [
        "pickup.line", "pickup.line", "pickup.line", "pickup.ready",
        "pickup.checkin", "pickup.handover", "pickup.line", "pickup.ready", "pickup.checkin",
        "pickup.handover",
    ]  # fmt: skip
    ready, checkin, first = evs[3][1], evs[4][1], evs[5][1]
    assert ready["lines_ready"] == 2 and ready["lines_total"] == 3 and ready["staff"] == STAFF
    assert ready["promised_at"] == "2025-06-07T12:00:00+02:00"
    assert ready["pickup_by"] == "2025-06-14T23:59:59+02:00"
    assert checkin == {"order": "W-1", "by": "shopper", "via": "scan"}
    assert first["lines"] == [1, 2] and first["partial"] is True and first["wait_s"] == 210.0
    assert evs[8][1]["via"] == "code"
    assert evs[9][1]["lines"] == [3] and evs[9][1]["partial"] is False
    assert evs[9][1]["wait_s"] == 60.0


def test_no_show_expires_after_pickup_by_with_an_injected_clock(store):
    db, clock, d = store
    send(d.conn, DownlinkApplier(d.stamper), order(lines=2, hold_days=2))
    d.set_line("W-1", 1, "to_pick", "picked", STAFF)
    d.set_line("W-1", 2, "to_pick", "picked", STAFF)
    d.mark_ready("W-1", {}, STAFF)
    clock.set(at("2025-06-09T23:59:00+02:00"))  # the last day, a minute before its end
    assert [v.order_id for v in d.due_today()] == ["W-1"]
    assert d.expire_due() == []
    clock.set(at("2025-06-10T00:00:01+02:00"))
    assert d.expire_due() == ["W-1"]
    view = d.order("W-1")
    assert view.state == "expired" and view.ended == "expired" and view.first_name == ""
    assert {ln.state for ln in view.lines} == {"put_back"}
    assert shopper_text(view.summary, "en", TZ) == (
        "This order has expired: the items are back on the shelf"
    )
    assert events(db, "pickup.no_show") == [
        ("pickup.no_show", {"order": "W-1", "by": "system", "lines": [1, 2]})
    ]
    assert d.expire_due() == [] and d.queue() == []
    assert [(p.code, p.line.line) for p in d.put_back_today()] == [(view.code, 1), (view.code, 2)]


def test_cancellation_from_hq_before_picking_puts_the_order_away(store):
    db, _clock, d = store
    applier = DownlinkApplier(d.stamper)
    send(d.conn, applier, order(lines=2), order("W-2", lines=1))
    send(d.conn, applier, order(version=2, status="cancelled", lines=2))
    assert [v.order_id for v in d.queue()] == ["W-2"]
    view = d.order("W-1")
    assert view.state == "cancelled" and view.first_name == ""
    assert shopper_text(view.summary, "nl", TZ) == "Deze bestelling is geannuleerd"
    assert events(db) == [("pickup.cancelled", {"order": "W-1", "by": "system", "lines": []})]
    with pytest.raises(PickupConflict) as err:
        d.set_line("W-1", 1, "to_pick", "picked", STAFF)
    assert err.value.kind == "ended"
    # After picking, the picked lines are named: they go back to the shelf.
    d.set_line("W-2", 1, "to_pick", "picked", STAFF)
    send(d.conn, applier, order("W-2", version=2, status="cancelled", lines=1))
    assert events(db)[-1] == ("pickup.cancelled", {"order": "W-2", "by": "system", "lines": [1]})
    # Staff see what goes back to the shelf today: the picked line, not W-1's lines
    # that were never taken from the shelf.
    assert [(p.code, p.line.line) for p in d.put_back_today()] == [("TPO-W2XYZ", 1)]


def test_a_changed_order_replaces_lines_only_before_picking(store):
    _db, _clock, d = store
    applier = DownlinkApplier(d.stamper)
    send(d.conn, applier, order(lines=2))
    send(d.conn, applier, order(version=2, lines=3))
    assert len(d.order("W-1").lines) == 3
    d.set_line("W-1", 1, "to_pick", "picked", STAFF)
    send(d.conn, applier, order(version=3, lines=1, promised="2025-06-07T18:00:00+02:00"))
    view = d.order("W-1")
    assert len(view.lines) == 3 and view.promised_at == at("2025-06-07T16:00:00Z")


def picked_on_two_screens(store, lines: int):
    """An order with every line picked, and a second terminal's desk on the same store."""
    db, clock, d = store
    send(d.conn, DownlinkApplier(d.stamper), order(lines=lines))
    for n in range(1, lines + 1):
        d.set_line("W-1", n, "to_pick", "picked", STAFF)
    return db, d, desk(db, clock, device="staff-2")


def test_double_handover_from_two_terminals_is_refused(store):
    db, d, other = picked_on_two_screens(store, 1)
    view = d.mark_ready("W-1", {}, STAFF)
    seen_by_other = other.order("W-1")  # both screens show the order ready
    d.handover("W-1", view.code, [1], STAFF)
    with pytest.raises(PickupConflict) as err:
        other.handover("W-1", seen_by_other.code, [1], STAFF)
    assert err.value.kind == "ended"
    assert len(events(db, "pickup.handover")) == 1


def test_partial_double_handover_names_the_line(store):
    _db, d, other = picked_on_two_screens(store, 2)
    view = d.mark_ready("W-1", {}, STAFF)
    d.handover("W-1", view.code, [1], STAFF)
    with pytest.raises(PickupConflict) as err:
        other.handover("W-1", view.code, [1, 2], STAFF)
    assert (err.value.kind, err.value.line) == ("handed_over", 1)
    with pytest.raises(PickupConflict) as err:
        other.handover("W-1", "TPO-WRONG", [2], STAFF)
    assert err.value.kind == "wrong_code"
    assert d.order("W-1").count("ready") == 1  # nothing written by the refused ones


def test_ready_and_short_at_once_one_terminal_is_told(store):
    _db, d, other = picked_on_two_screens(store, 2)
    shown = {ln.line: ln.state for ln in d.order("W-1").lines}  # terminal 1's screen
    other.set_line("W-1", 2, "picked", "short", STAFF)  # terminal 2 finds line 2 damaged
    with pytest.raises(PickupConflict) as err:
        d.mark_ready("W-1", shown, STAFF)
    assert (err.value.kind, err.value.line, err.value.state) == ("changed", 2, "short")
    # The other way round: ready first, then the short mark is refused.
    view = d.mark_ready("W-1", {1: "picked", 2: "short"}, STAFF)
    assert view.count("ready") == 1
    with pytest.raises(PickupConflict) as err:
        other.set_line("W-1", 1, "picked", "short", STAFF)
    assert (err.value.kind, err.value.state) == ("changed", "ready")


def test_handover_without_the_missing_items_ends_the_order_collected(store):
    db, clock, d = store
    send(d.conn, DownlinkApplier(d.stamper), order(lines=3))
    d.set_line("W-1", 1, "to_pick", "picked", STAFF)
    d.set_line("W-1", 2, "to_pick", "picked", STAFF)
    d.set_line("W-1", 3, "to_pick", "short", STAFF)
    view = d.mark_ready("W-1", {}, STAFF)
    d.checkin(view.code, "scan")
    clock.set(at("2025-06-07T08:02:00+02:00"))
    shown = {ln.line: ln.state for ln in view.lines}
    view = d.handover("W-1", view.code, [1, 2], STAFF, without_missing=True, expect=shown)
    assert view.state == "collected" and view.ended == "collected"
    assert [ln.state for ln in view.lines] == ["collected", "collected", "put_back"]
    assert view.first_name == "" and d.queue() == []
    assert shopper_text(view.summary, "en", TZ) == "Collected on Saturday 7 June: 2 of 3 items"
    assert shopper_text(view.summary, "nl", TZ) == "Opgehaald op zaterdag 7 juni: 2 van 3 artikelen"
    assert events(db, "pickup.handover") == [
        (
            "pickup.handover",
            {
                "order": "W-1",
                "by": "staff",
                "lines": [1, 2],
                "partial": False,
                "missing": [3],
                "wait_s": 120.0,
                "staff": STAFF,
            },
        )
    ]
    # The short line was never in hand: nothing to carry back to the shelf.
    assert d.put_back_today() == []
    # Nothing is left to expire: no no-show later.
    clock.set(at("2025-06-20T08:00:00+02:00"))
    assert d.expire_due() == [] and events(db, "pickup.no_show") == []


def test_without_missing_puts_back_unticked_ready_and_unpicked_lines(store):
    db, _clock, d = store
    send(d.conn, DownlinkApplier(d.stamper), order(lines=3))
    d.set_line("W-1", 1, "to_pick", "picked", STAFF)
    d.set_line("W-1", 2, "to_pick", "picked", STAFF)
    view = d.mark_ready("W-1", {}, STAFF)  # line 3 was never picked
    view = d.handover("W-1", view.code, [1], STAFF, without_missing=True)
    assert [ln.state for ln in view.lines] == ["collected", "put_back", "put_back"]
    assert events(db, "pickup.handover")[0][1]["missing"] == [2, 3]
    # Line 2 was ready (in hand): back to the shelf. Line 3 never left it.
    assert [(p.line.line, p.line.state) for p in d.put_back_today()] == [(2, "put_back")]
    # A plain hand-over of everything names nothing missing (and an old reader ignores it).
    send(d.conn, DownlinkApplier(d.stamper), order("W-2", lines=1))
    d.set_line("W-2", 1, "to_pick", "picked", STAFF)
    w2 = d.mark_ready("W-2", {}, STAFF)
    d.handover("W-2", w2.code, [1], STAFF, without_missing=True)
    assert events(db, "pickup.handover")[1][1]["missing"] == []


def test_without_missing_refused_when_a_short_line_was_found_elsewhere(store):
    db, d, other = picked_on_two_screens(store, 2)
    d.set_line("W-1", 2, "picked", "short", STAFF)
    view = d.mark_ready("W-1", {}, STAFF)
    shown = {ln.line: ln.state for ln in view.lines}  # terminal 1: line 2 short
    other.set_line("W-1", 2, "short", "picked", STAFF)  # terminal 2 finds it after all
    other.mark_ready("W-1", {}, STAFF)
    with pytest.raises(PickupConflict) as err:
        d.handover("W-1", view.code, [1], STAFF, without_missing=True, expect=shown)
    assert (err.value.kind, err.value.line, err.value.state) == ("changed", 2, "ready")
    assert events(db, "pickup.handover") == [] and d.order("W-1").count("ready") == 2
