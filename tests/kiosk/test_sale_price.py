"""A sale price from head office: shown first with the usual price struck through, and charged."""

from __future__ import annotations

from edge.db import connect
from kiosk.core.orders import Contact, OrderRequest
from kiosk.core.products import product_by_sku
from kiosk.i18n import Translator
from kiosk.screens.product import price_text
from sync import wire
from tests.kiosk.conftest import CATALOG, STOCK, fill


def test_sale_price_is_shown_and_charged(kiosk_db, make_service):
    on_sale = [
        wire.CatalogItem(
            **{**{f: getattr(i, f) for f in i.__struct_fields__}, "sale_price_cents": 4999}
        )
        if i.sku == "DRILL-2"
        else i
        for i in CATALOG
    ]
    fill(kiosk_db, on_sale, STOCK, version=2)
    service = make_service()
    drill = product_by_sku(service.conn, "DRILL-2")
    assert (drill.price_cents, drill.sale_price_cents, drill.current_price_cents) == (
        6499,
        4999,
        4999,
    )
    assert price_text(Translator("nl"), drill) == "€ 49,99  [strike]€ 64,99[/strike]"
    plain = product_by_sku(service.conn, "DRILL-1")
    assert price_text(Translator("en"), plain) == "€59.99"
    placed = service.place_order(
        OrderRequest(((drill, 2),), "pickup_here", Contact(name="Anna", email="anna@example.nl")),
        service.new_session(),
    )
    assert placed.total_cents == 2 * 4999
    conn = connect(kiosk_db)
    assert (
        conn.execute("SELECT count(*) FROM catalog WHERE sale_price_cents IS NOT NULL").fetchone()[
            0
        ]
        == 1
    )
    conn.close()
