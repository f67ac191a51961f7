"""`hq publish`'s records in head office's database, on SQLite and PostgreSQL."""

from __future__ import annotations

from hq.db import Db
from hq.imports.stores import parse_store
from hq.publish import ledger

NOW = "2026-12-03T12:00:00.000Z"


def row(store: str, lat: str, lon: str) -> dict:
    return {
        "store": store,
        "name": store,
        "timezone": "Europe/Amsterdam",
        "hours": "mon-sun 09:00-18:00",
        "doors": "main",
        "lat": lat,
        "lon": lon,
    }


def test_registry_locations_and_what_each_store_was_sent(hq_store):
    hq_store.import_stores(
        [parse_store(row("ams", "52.37", "4.89"), 1), parse_store(row("x", "", ""), 2)], NOW
    )
    db = Db(hq_store)
    assert ledger.registered_stores(db) == {"ams": (52.37, 4.89), "x": None}
    assert ledger.sent(db, "catalog") == {}
    ledger.record(db, "catalog", {"ams": ledger.Sent(5, 3), "x": ledger.Sent(5, 3)}, NOW)
    ledger.record(db, "stock", {"ams": ledger.Sent(6, 1)}, NOW)
    ledger.record(db, "catalog", {"ams": ledger.Sent(9, 1)}, NOW)  # an upsert, per kind
    assert ledger.sent(db, "catalog") == {"ams": ledger.Sent(9, 1), "x": ledger.Sent(5, 3)}
    assert ledger.sent(db, "stock") == {"ams": ledger.Sent(6, 1)}
    # Versions are milliseconds since 1970: they need 64 bits on PostgreSQL.
    ledger.record(db, "stock", {"ams": ledger.Sent(1_764_770_000_000, 200)}, NOW)
    assert ledger.sent(db, "stock")["ams"].version == 1_764_770_000_000
