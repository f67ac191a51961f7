"""`down/orders` payloads: the click & collect fields are optional both ways."""

from __future__ import annotations

import msgspec
import pytest

from sync import wire


def test_old_order_payloads_still_decode_with_defaults():
    old = b'{"v":1,"orders":[{"order":"o-1","version":1,"status":"ready","code":"TPO-1",\
"lines":[{"sku":"SKU-1","qty":1}],"promised_at":"","delay_note":""}]}'
    order = wire.decode_orders(old).orders[0]
    assert order.first_name == "" and order.hold_days == 7 and order.lines[0].line is None


def test_new_fields_round_trip_and_defaults_stay_off_the_wire():
    order = wire.PickupOrder(
        order="W-1",
        version=2,
        status="placed",
        code="TPO-7KQ2M9XA",
        lines=[wire.OrderLine(line=1, sku="SKU-1", qty=1), wire.OrderLine(line=2, sku="S", qty=2)],
        first_name="Anna",
        hold_days=3,
    )
    payload = wire.encode(wire.OrdersUpdate(v=1, orders=[order]))
    assert wire.decode_orders(payload).orders == [order]
    bare = wire.encode(wire.PickupOrder(order="W-2", version=1, status="cancelled"))
    assert b"hold_days" not in bare and b"first_name" not in bare


@pytest.mark.parametrize(
    ("field", "value"), [("hold_days", 0), ("hold_days", 61), ("first_name", "x" * 101)]
)
def test_out_of_bounds_fields_are_refused(field, value):
    body = {"order": "o", "version": 1, "status": "placed", field: value}
    payload = msgspec.json.encode({"v": 1, "orders": [body]})
    with pytest.raises(wire.WireError, match=field):
        wire.decode_orders(payload)
