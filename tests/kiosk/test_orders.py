"""Orders: events written, contact details kept only until head office acknowledges."""

from __future__ import annotations

import pytest

from edge.db import connect
from edge.events import decode_data
from edge.personal import purge_acknowledged
from kiosk.core.orders import Contact, OrderError, OrderRequest
from kiosk.core.products import product_by_sku

ANNA = Contact(
    name="Anna de Vries",
    email="anna@example.nl",
    street="Kalverstraat 1",
    postcode="1012 NX",
    city="Amsterdam",
)


@pytest.fixture
def service(make_service):
    return make_service()


def events(path):
    conn = connect(path)
    rows = conn.execute("SELECT seq, type, data FROM events ORDER BY seq").fetchall()
    conn.close()
    return [(seq, t, decode_data(t, d)) for seq, t, d in rows]


def test_delivery_order_writes_placed_and_contact(service, kiosk_db):
    session = service.new_session()
    drill = product_by_sku(service.conn, "DRILL-2")
    placed = service.place_order(OrderRequest(((drill, 2),), "delivery", ANNA), session)
    assert placed.code.startswith("TPO-") and placed.total_cents == 2 * 6499
    evs = {t: e for _, t, e in events(kiosk_db)}
    order = evs["order.placed"]
    assert (
        order.fulfilment == "delivery" and order.code == placed.code and order.pickup_store is None
    )
    assert order.lines[0].sku == "DRILL-2" and order.session == session.id
    assert "Anna" not in repr(order)  # personal data only in order.contact
    contact = evs["order.contact"]
    assert contact.order == order.order and contact.postcode == "1012 NX"


def test_pickup_elsewhere_needs_a_store_and_no_address(service, kiosk_db):
    session = service.new_session()
    drill = product_by_sku(service.conn, "DRILL-1")
    with pytest.raises(OrderError) as err:
        service.place_order(
            OrderRequest(((drill, 1),), "pickup_other", Contact("A", "a@b.nl")), session
        )
    assert err.value.fields == ["pickup_store"]
    req = OrderRequest(
        ((drill, 1),), "pickup_other", Contact("A", "a@b.nl"), pickup_store="ams-002"
    )
    service.place_order(req, session)
    evs = {t: e for _, t, e in events(kiosk_db)}
    assert evs["order.placed"].pickup_store == "ams-002" and evs["order.contact"].street is None


def test_bad_details_are_named(service):
    drill = product_by_sku(service.conn, "DRILL-1")
    bad = Contact(name="", email="anna", street="", postcode="12345", city="")
    with pytest.raises(OrderError) as err:
        service.place_order(OrderRequest(((drill, 1),), "delivery", bad), service.new_session())
    assert err.value.fields == ["name", "email", "street", "postcode", "city"]


def test_contact_details_purged_once_acknowledged_only(service, kiosk_db):
    session = service.new_session()
    drill = product_by_sku(service.conn, "DRILL-2")
    service.place_order(OrderRequest(((drill, 1),), "delivery", ANNA), session)
    seqs = {t: s for s, t, _ in events(kiosk_db)}
    conn = connect(kiosk_db)
    assert purge_acknowledged(conn) == 0  # head office has acknowledged nothing yet
    conn.execute(
        "INSERT OR REPLACE INTO state (key, value, updated) VALUES ('hq_acked_seq', ?, '')",
        (str(seqs["order.contact"]),),
    )
    assert purge_acknowledged(conn) == 1
    conn.close()
    left = [t for _, t, _ in events(kiosk_db)]
    assert "order.contact" not in left and "order.placed" in left
