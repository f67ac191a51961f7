"""Schema of the store database, as sqlite-utils migrations (applied in order, once each).

Never edit a migration that has shipped: add a new one.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.migrations import Migrations

store_migrations = Migrations("touchpoint-store")


@store_migrations()
def m001_events(db: sqlite_utils.Database) -> None:
    """The append-only event log; `seq` is the per-store gap-free sequence (a contract)."""
    # AUTOINCREMENT: a seq is never reused, even after the newest rows are pruned,
    # so head office never sees the same seq twice for different events.
    db.execute(
        """
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            type TEXT NOT NULL,
            ts TEXT NOT NULL,
            device TEXT NOT NULL,
            data TEXT NOT NULL,
            clock_ok INTEGER NOT NULL,
            boot_id TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX events_type_ts ON events(type, ts)")
    # Append-only: the only way out is pruning (DELETE); rows are never rewritten.
    db.execute(
        """
        CREATE TRIGGER events_append_only BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'events are append-only'); END
        """
    )


@store_migrations()
def m002_state(db: sqlite_utils.Database) -> None:
    """Small persisted state: device totals, the HQ ack watermark, visit windows."""
    db["state"].create({"key": str, "value": str, "updated": str}, pk="key")


@store_migrations()
def m003_downlink(db: sqlite_utils.Database) -> None:
    """Catalog (with a full-text index), stock and pick-up orders downlinked from HQ."""
    db["catalog"].create(
        {
            "sku": str,
            "gtin": str,
            "name": str,
            "brand": str,
            "category": str,
            "price_cents": int,
            "description": str,
            "rating": float,
            "reviews": int,
            "alternatives": str,
            "version": int,
        },
        pk="sku",
    )
    db["catalog"].create_index(["gtin"])
    # FTS5 so the kiosk finds any product in well under a second, kept in step by triggers.
    db["catalog"].enable_fts(
        ["name", "brand", "category", "description"],
        fts_version="FTS5",
        create_triggers=True,
        tokenize="unicode61 remove_diacritics 2",
    )
    db["stock"].create(
        {"sku": str, "here": int, "online": int, "other_stores": str, "version": int}, pk="sku"
    )
    db["pickup_orders"].create(
        {
            "order_id": str,
            "version": int,
            "status": str,
            "code": str,
            "lines": str,
            "promised_at": str,
            "delay_note": str,
            "updated": str,
        },
        pk="order_id",
    )
    db["pickup_orders"].create_index(["code"])
    # Parts of a catalog/stock version wait here until the set is complete (restart-safe).
    db["downlink_parts"].create(
        {"kind": str, "version": int, "part": int, "parts": int, "payload": bytes},
        pk=("kind", "version", "part"),
    )


@store_migrations()
def m004_kiosk_search(db: sqlite_utils.Database) -> None:
    """Kiosk search: a leaner catalog index, and a category index for alternatives.

    The index of m003 also held the description, which the kiosk does not search
    (shoppers type what a product is called): it doubled every word's position
    list. The new one holds name, brand and category only, with a prefix index for
    the 3-letter searches the kiosk starts from (FTS5 `prefix`, in SQLite 3.40), and
    its update trigger fires only when an indexed column changes, so a price or
    stock-related catalog update does not touch the index.
    """
    db["catalog"].create_index(["category", "price_cents"], if_not_exists=True)
    for trigger in ("catalog_ai", "catalog_ad", "catalog_au"):
        db.execute(f"DROP TRIGGER IF EXISTS [{trigger}]")
    db.execute("DROP TABLE IF EXISTS catalog_fts")
    db.execute(
        "CREATE VIRTUAL TABLE catalog_fts USING fts5(name, brand, category, content='catalog',"
        " tokenize='unicode61 remove_diacritics 2', prefix='3')"
    )
    cols = "name, brand, category"
    new = "new.name, new.brand, new.category"
    old = "old.name, old.brand, old.category"
    db.execute(
        f"CREATE TRIGGER catalog_ai AFTER INSERT ON catalog BEGIN"
        f" INSERT INTO catalog_fts (rowid, {cols}) VALUES (new.rowid, {new}); END"
    )
    db.execute(
        f"CREATE TRIGGER catalog_ad AFTER DELETE ON catalog BEGIN"
        f" INSERT INTO catalog_fts (catalog_fts, rowid, {cols}) VALUES ('delete', old.rowid, {old});"
        " END"
    )
    db.execute(
        f"CREATE TRIGGER catalog_au AFTER UPDATE OF {cols} ON catalog BEGIN"
        f" INSERT INTO catalog_fts (catalog_fts, rowid, {cols}) VALUES ('delete', old.rowid, {old});"
        f" INSERT INTO catalog_fts (rowid, {cols}) VALUES (new.rowid, {new}); END"
    )
    db.execute("INSERT INTO catalog_fts (catalog_fts) VALUES ('rebuild')")


@store_migrations()
def m005_sale_price_and_distances(db: sqlite_utils.Database) -> None:
    """What `hq publish` adds to the downlink: a sale price, and how far other stores are.

    `sale_price_cents` is NULL when no sale runs. `store_distances` holds, per other
    store in the stock snapshot, its distance from this store in km (replaced with
    every stock snapshot), so the kiosk can say "3 km".
    """
    db["catalog"].add_column("sale_price_cents", int)
    db["store_distances"].create({"store": str, "km": float}, pk="store")


@store_migrations()
def m006_click_collect(db: sqlite_utils.Database) -> None:
    """Click & collect at the store: order lines with their states, staff PINs, shelves.

    `pickup_orders` gains what the store tracks itself: times in UTC ISO-8601 (ready,
    pick-up-by, the latest check-in, collected), `ended` (collected, expired or
    cancelled; NULL while open) and the shopper's `first_name` (personal data, emptied
    when the order ends). `pickup_lines` holds one row per line and its state
    (edge/pickup.py); every change is a compare-and-set in one `BEGIN IMMEDIATE`
    transaction with its event. `staff` holds each staff member's PIN as an scrypt
    hash. `catalog.shelf` is where a product is in this store (picking list).
    """
    orders = db["pickup_orders"]
    orders.add_column("first_name", str, not_null_default="")
    orders.add_column("hold_days", int, not_null_default=7)
    for column in ("ready_at", "pickup_by", "checkin_at", "collected_at", "ended"):
        orders.add_column(column, str)
    db["pickup_lines"].create(
        {
            "order_id": str,
            "line": int,
            "sku": str,
            "qty": int,
            "name": str,
            "state": str,
            "updated": str,
        },
        pk=("order_id", "line"),
        not_null={"state"},
    )
    db["staff"].create({"name": str, "pin_hash": str, "added": str}, pk="name")
    db["catalog"].add_column("shelf", str)


@store_migrations()
def m007_pickup_to_shelf(db: sqlite_utils.Database) -> None:
    """`pickup_lines.to_shelf`: a put-back line that was in hand (picked or ready), so the
    staff's "back to the shelf today" list shows only goods someone must carry back,
    never a line that was short or never picked. Lines put back before this are kept
    on the list as they were."""
    db["pickup_lines"].add_column("to_shelf", int, not_null_default=0)
    db.execute("UPDATE pickup_lines SET to_shelf = 1 WHERE state = 'put_back'")
