"""`hq publish` pure parts: nearest stores, feed rows, per-store stock, versions."""

from __future__ import annotations

import pytest

from hq.imports.fields import Bad
from hq.publish.nearest import haversine_km, nearest_stores
from hq.publish.rows import StockRecord, parse_product, parse_stock
from hq.publish.snapshots import distances, next_version, quantities, store_stock

# City centres (degrees); distances checked against published great-circle figures.
AMS = (52.3731, 4.8922)
UTR = (52.0907, 5.1214)
ROT = (51.9225, 4.4792)
DH = (52.0705, 4.3007)
EIN = (51.4416, 5.4697)
GRO = (53.2194, 6.5665)


def test_haversine_matches_known_distances():
    assert haversine_km(*AMS, *UTR) == pytest.approx(35.0, abs=1.0)
    assert haversine_km(*AMS, *GRO) == pytest.approx(145.0, abs=3.0)
    assert haversine_km(*AMS, *AMS) == 0.0
    # Symmetric, and a quarter of the equator is a quarter of the circumference.
    assert haversine_km(*ROT, *EIN) == pytest.approx(haversine_km(*EIN, *ROT))
    assert haversine_km(0, 0, 0, 90) == pytest.approx(10_007.5, abs=1.0)


def test_nearest_stores_nearest_first_limited_and_without_unknown_locations():
    locations = {"ams": AMS, "utr": UTR, "rot": ROT, "dh": DH, "ein": EIN, "gro": GRO, "x": None}
    near = nearest_stores(locations, 3)
    assert [s for s, _ in near["ams"]] == ["utr", "dh", "rot"]
    # Groningen–The Hague 187 km is nearer than Groningen–Eindhoven 196 km.
    assert [s for s, _ in near["gro"]] == ["ams", "utr", "dh"]
    for store, others in near.items():
        kms = [km for _, km in others]
        assert kms == sorted(kms) and store not in [s for s, _ in others]
        assert "x" not in [s for s, _ in others]
    assert near["x"] == []  # no location: no neighbours, and nobody's neighbour
    assert near["ams"][0][1] == pytest.approx(haversine_km(*AMS, *UTR))
    assert all(v == [] for v in nearest_stores(locations, 0).values())
    # More asked for than exist: all the others.
    assert len(nearest_stores(locations, 50)["ein"]) == 5


def test_equal_distances_are_ordered_by_store_id():
    near = nearest_stores({"c": (0.0, 0.0), "b": (0.0, 1.0), "a": (0.0, -1.0)}, 2)
    assert [s for s, _ in near["c"]] == ["a", "b"]


def product(**fields):
    row = {"id": "SKU-1", "title": "Bosch boormachine", "price": "49.99 EUR"} | fields
    return parse_product(row, 7, "EUR")


def test_product_row_maps_merchant_center_fields_onto_the_wire():
    r = product(
        description="Stevige boormachine.",
        brand="Bosch",
        gtin="4006381333931",
        product_type="Huis & Tuin > Gereedschap > Boormachines",
        sale_price="39.95 EUR",
        availability="in_stock",
        image_link="https://img.example/1.jpg",
        rating="4.6",
        review_count="120",
    )
    i = r.item
    assert (r.line, i.sku, i.name, i.brand, i.gtin) == (
        7,
        "SKU-1",
        "Bosch boormachine",
        "Bosch",
        "4006381333931",
    )
    assert (i.price_cents, i.sale_price_cents, i.category) == (4999, 3995, "Boormachines")
    assert (i.rating, i.reviews, i.description) == (4.6, 120, "Stevige boormachine.")
    assert product().item.sale_price_cents is None


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"id": ""}, "id: missing"),
        ({"title": None}, "title: missing"),
        ({"price": "49,99"}, "price: '49,99' is not a price"),
        ({"price": "49.99 USD"}, "price: currency USD, head office sells in EUR"),
        ({"price": "49.999 EUR"}, "price: '49.999' is not an amount"),
        ({"sale_price": "59.00 EUR"}, "sale_price: must be below price"),
        ({"gtin": "4006381333932"}, "gtin: '4006381333932' is not a GTIN"),
        ({"availability": "sold"}, "availability: 'sold' is not one of in_stock"),
        ({"image_link": "ftp://x"}, "image_link: 'ftp://x' is not an http(s) URL"),
        ({"rating": "6"}, "rating: 6 is outside 0..5"),
        ({"review_count": "-1"}, "review_count: -1 is outside"),
        ({"title": "x" * 201}, "title: longer than 200 characters"),
    ],
)
def test_bad_product_rows_say_why(fields, reason):
    with pytest.raises(Bad) as exc:
        product(**fields)
    assert str(exc.value).startswith(reason)


def test_a_long_description_is_shortened_and_counted():
    r = product(description="woord\n" * 500)
    assert r.shortened and len(r.item.description) == 2000 and r.item.description.endswith("…")
    assert "\n" not in r.item.description  # line breaks became spaces
    assert not product(description="kort").shortened


def test_stock_rows():
    assert parse_stock({"store_code": "ams", "id": "S", "quantity": "3"}, 2) == StockRecord(
        2, "ams", "S", 3
    )
    assert parse_stock({"store_code": "online", "id": "S", "quantity": 0}, 3).store == "online"
    for row, reason in [
        ({"store_code": "a b", "id": "S", "quantity": "1"}, "store_code: 'a b' is not a store id"),
        ({"store_code": "ams", "id": "S", "quantity": "-2"}, "quantity: -2 is outside"),
        ({"store_code": "ams", "id": "S", "quantity": "many"}, "quantity: 'many' is not a whole"),
        ({"store_code": "ams", "quantity": "1"}, "id: missing"),
    ]:
        with pytest.raises(Bad, match=reason):
            parse_stock(row, 1)


def test_each_store_sees_its_own_online_and_nearest_stock():
    stock = quantities(
        [
            StockRecord(1, "ams", "A", 2),
            StockRecord(2, "utr", "A", 5),
            StockRecord(3, "rot", "A", 0),
            StockRecord(4, "online", "A", 40),
            StockRecord(5, "utr", "B", 1),
        ]
    )
    nearby = [("rot", 50.0), ("utr", 35.04)]
    items = {i.sku: i for i in store_stock("ams", stock, nearby)}
    assert (items["A"].here, items["A"].online, items["A"].other_stores) == (2, 40, {"utr": 5})
    # Listed for another store only: 0 here, not unknown.
    assert (items["B"].here, items["B"].online, items["B"].other_stores) == (0, 0, {"utr": 1})
    assert distances(nearby) == {"rot": 50.0, "utr": 35.0}


def test_versions_only_grow():
    assert next_version(1_000, {}) == 1_000
    assert next_version(1_000, {"a": 5_000, "b": 7}) == 5_001  # the clock stepped back
