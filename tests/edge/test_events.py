"""The event schema module: every type round-trips, bad payloads are refused with a reason."""

from __future__ import annotations

import msgspec
import pytest

from edge import events as ev

SAMPLES = [
    ev.DoorCount(door="main", direction="out", count=2, sensor="s"),
    ev.ScanEvent(symbology="qr", cls="loyalty", pseudonym="a" * 64, key_id="k1"),
    ev.VisitIdentified(
        pseudonym="b" * 64, key_id="k1", window_start="2026-01-01T10:00:00.000Z", via="loyalty"
    ),
    ev.KioskSession(session="s1", action="end", duration_s=12.5, reason="timeout"),
    ev.KioskSearch(session="s1", query="rain jacket", results=3),
    ev.KioskProductView(session="s1", sku="SKU-1", in_stock_here=3),
    ev.OrderPlaced(
        order="o1",
        fulfilment="pickup",
        lines=[ev.OrderLine(sku="SKU-1", qty=1, price_cents=999)],
        total_cents=999,
    ),
    ev.PickupCheckin(order="o1", by="shopper", via="scan"),
    ev.PickupLine(order="o1", line=2, state="short", staff="0123456789abcdef"),
    ev.PickupReady(
        order="o1",
        lines_ready=2,
        lines_total=3,
        promised_at="2026-06-07T12:00:00+02:00",
        pickup_by="2026-06-14T23:59:59+02:00",
        staff="0123456789abcdef",
    ),
    ev.PickupHandover(order="o1", lines=[1, 3], partial=True, wait_s=42.5),
    ev.PickupNoShow(order="o1", by="system", lines=[1]),
    ev.PickupCancelled(order="o1", by="system", lines=[2]),
    ev.NpsResponse(score=9, touchpoint="kiosk"),
    ev.DeviceStatus(state="degraded", detail="unplugged", rejected={"crc": 3}),
    ev.ClockStep(offset_s=12345.5, synced=True),
    ev.OrderContact(order="o-1", name="Anna", email="anna@example.nl", postcode="1012 NX"),
]


def test_every_design_event_type_is_declared():
    design = {
        "door.count",
        "scan",
        "visit.identified",
        "kiosk.session",
        "kiosk.search",
        "kiosk.product_view",
        "order.placed",
        "order.contact",  # the kiosk's personal order details, purged once acknowledged
        "pickup.checkin",
        "pickup.line",  # click & collect: a line picked or short
        "pickup.ready",
        "pickup.handover",
        "pickup.no_show",
        "pickup.cancelled",  # head office's cancellation reached the store
        "nps.response",
        "device.status",
        "clock.step",
    }
    assert set(ev.EVENT_TYPES) == design
    assert {type(s).TYPE for s in SAMPLES} == design


@pytest.mark.parametrize("payload", SAMPLES, ids=lambda p: p.TYPE)
def test_round_trip(payload):
    assert ev.decode_data(payload.TYPE, ev.encode_data(payload)) == payload


def test_scan_class_is_spelled_class_on_the_wire():
    raw = ev.encode_data(ev.ScanEvent(symbology="ean13", cls="gtin", code="4006381333931"))
    assert '"class":"gtin"' in raw


@pytest.mark.parametrize(
    ("type_name", "raw", "reason"),
    [
        ("door.count", '{"door":"m","direction":"sideways","count":1,"sensor":"s"}', "direction"),
        ("door.count", '{"door":"m","direction":"in","count":0,"sensor":"s"}', "count"),
        ("scan", '{"symbology":"qr","class":"loyalty","pseudonym":"1234567890123"}', "pseudonym"),
        ("scan", '{"symbology":"qr","class":"loyalty","raw":"1234567890123"}', "unknown field"),
        ("nope", "{}", "unknown event type"),
        ("door.count", "not json", "door.count"),
    ],
)
def test_bad_payloads_are_refused_with_a_reason(type_name, raw, reason):
    with pytest.raises(ValueError, match=reason):
        ev.decode_data(type_name, raw)


def test_envelope_validates():
    good = b'{"seq":1,"id":"018f0000-0000-7000-8000-000000000000","type":"scan","ts":"2026-01-01T00:00:00.000Z","device":"d","data":{},"clock_ok":true,"boot_id":"b"}'
    assert msgspec.json.decode(good, type=ev.Event).seq == 1
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(good.replace(b'"seq":1', b'"seq":0'), type=ev.Event)


def test_old_pickup_events_stay_valid_and_staff_is_never_a_name():
    # Events written before click & collect carried only order and `by`.
    assert ev.decode_data("pickup.handover", '{"order":"o1"}') == ev.PickupHandover(order="o1")
    with pytest.raises(ValueError, match="staff"):
        ev.decode_data("pickup.line", '{"order":"o1","line":1,"state":"picked","staff":"Anna"}')
    with pytest.raises(ValueError, match="state"):
        ev.decode_data("pickup.line", '{"order":"o1","line":1,"state":"ready"}')
