"""Catalog search on a real store database filled through the downlink."""

from __future__ import annotations

import pytest

from edge.db import connect
from kiosk.core.search import CatalogSearch, words
from kiosk.sample import apply_snapshot, generate
from tests.kiosk.conftest import CATALOG, fill


@pytest.fixture
def search(kiosk_db):
    conn = connect(kiosk_db)
    yield CatalogSearch(conn, page_size=3)
    conn.close()


def skus(result):
    return [p.sku for p in result.products]


def test_nothing_below_three_characters(search):
    assert search.search("bo").products == []
    assert search.search("boo").products != []


def test_prefix_matches_name_brand_and_category(search):
    assert set(skus(search.search("boorm"))) <= {"DRILL-1", "DRILL-2"}
    assert skus(search.search("makit")) == ["DRILL-2"]
    assert set(skus(search.search("kled"))) == {"JACKET-1"}
    assert search.search("boorm").mode == "words"


def test_every_word_must_match(search):
    assert skus(search.search("bosch boor")) == ["DRILL-1"]


def test_diacritics_do_not_matter(search):
    assert skus(search.search("cafe creme")) == ["CAFE-1"]
    assert skus(search.search("Café")) == ["CAFE-1"]


def test_typo_tolerance_when_nothing_matches(search):
    result = search.search("boormachien")
    assert result.mode == "fuzzy"
    assert "DRILL-1" in skus(result) and result.corrected == ("boormachine",)
    assert skus(search.search("regnjas")) == ["JACKET-1"]


def test_gibberish_finds_nothing(search):
    assert search.search("xqzwv").products == []


def test_gtin_exact_and_without_leading_zero(search):
    assert skus(search.search("4006381333931")) == ["DRILL-1"]
    assert search.search("4006381333931").mode == "gtin"
    assert skus(search.search("88381123457")) == ["DRILL-2"]  # the GTIN-13 without its 0


def test_paging(search):
    first = search.search("gereedschap")
    assert len(first.products) == 3 and first.has_more
    second = search.search("gereedschap", offset=3)
    assert len(second.products) == 1 and not second.has_more
    assert not set(skus(first)) & set(skus(second))


def test_results_carry_price_and_stock(search):
    p = search.search("makita").products[0]
    assert p.price_cents == 6499 and p.stock.here == 2 and p.stock.online == 10


def test_new_catalog_version_replaces_old_and_index_stays_consistent(kiosk_db, search):
    renamed = [
        c if c.sku != "JACKET-1" else type(c)(**{**_fields(c), "name": "Parka Noord"})
        for c in CATALOG[:-1]
    ]
    fill(kiosk_db, renamed, [], version=2)
    assert search.search("regenjas").products == []
    assert skus(search.search("parka")) == ["JACKET-1"]
    assert search.search("koffiebonen").products == []  # left out of version 2: gone
    conn = connect(kiosk_db)
    rows = conn.execute(
        "SELECT count(*) FROM catalog_fts WHERE catalog_fts MATCH 'noord'"
    ).fetchone()[0]
    conn.execute("INSERT INTO catalog_fts(catalog_fts) VALUES('integrity-check')")
    conn.close()
    assert rows == 2  # DRILL-4 and the parka, no stale entries of version 1
    # The typo vocabulary follows the new version too.
    assert skus(search.search("parkka")) == ["JACKET-1"]


def _fields(item):
    return {f: getattr(item, f) for f in item.__struct_fields__}


def test_words_fold_like_the_index():
    assert words("Café-Crème  BOOR!") == ["cafe", "creme", "boor"]


def test_generated_catalog_searches(tmp_path):
    from edge.db import open_store_db

    path = tmp_path / "big.db"
    open_store_db(path).close()
    conn = connect(path)
    items, stock = generate(2000)
    apply_snapshot(conn, "catalog", 1, items)
    apply_snapshot(conn, "stock", 1, stock)
    s = CatalogSearch(conn, page_size=5)
    assert s.search(items[1234].gtin).products[0].sku == items[1234].sku
    assert all("grasmaaier" in p.name for p in s.search("grasmaaeir").products)
    conn.close()
