"""Downlink: catalog, stock and pick-up orders from head office, applied idempotently.

- Catalog and stock are versioned snapshots, split into parts on retained topics
  `down/catalog/{part}` and `down/stock/{part}` (a chain's assortment does not fit
  in one MQTT message). Parts are staged in the store database and the snapshot is
  applied in one transaction once every part of a version is there; a version at
  or below the applied one is ignored, and a newer version supersedes staged parts
  of an older one. So replays, duplicates and any arrival order give the same result.
- Orders (`down/orders`) are applied one by one by `edge.pickup_orders` (lines,
  cancellations and their events): an order changes only when its version is newer
  than the stored one.

The applier is called from the uplink's drain thread, which owns the connection.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time

import paho.mqtt.client as mqtt

from edge.clock import Clock, read_boot_id
from edge.eventlog import EventStamper
from edge.pickup_orders import LineIn, OrderIn, OrderRefused, apply_order
from sync import wire

log = logging.getLogger(__name__)

PART_ITEMS = 500  # items per catalog/stock part: ~150 KiB for usual products
MAX_PART_BYTES = wire.MAX_BATCH_BYTES  # and never more than 256 KiB, whatever the items hold
# Room for the part's own fields around the items: {"v":1,"version":…,"parts":…,"km":{…}}.
_PART_ENVELOPE = 4096


_CATALOG_COLUMNS = (
    "sku, gtin, name, brand, category, price_cents, description, rating, reviews, alternatives,"
    " sale_price_cents, shelf"
)
_CATALOG_UPSERT = (
    f"INSERT INTO catalog ({_CATALOG_COLUMNS}, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT(sku) DO UPDATE SET version = excluded.version, "
    + ", ".join(f"{c} = excluded.{c}" for c in _CATALOG_COLUMNS.split(", ")[1:])
    # Only a changed product touches the row, and with it the FTS index (update trigger).
    + " WHERE ("
    + ", ".join(f"catalog.{c}" for c in _CATALOG_COLUMNS.split(", ")[1:])
    + ") IS NOT ("
    + ", ".join(f"excluded.{c}" for c in _CATALOG_COLUMNS.split(", ")[1:])
    + ")"
)


def _catalog_row(i: wire.CatalogItem, version: int) -> tuple:
    return (
        i.sku,
        i.gtin,
        i.name,
        i.brand,
        i.category,
        i.price_cents,
        i.description,
        i.rating,
        i.reviews,
        json.dumps(i.alternatives),
        i.sale_price_cents,
        i.shelf,
        version,
    )


def _applied_version(conn: sqlite3.Connection, kind: str) -> int:
    row = conn.execute("SELECT value FROM state WHERE key = ?", (f"downlink:{kind}",)).fetchone()
    return int(row[0]) if row else 0


class DownlinkApplier:
    """Applies downlinked messages to the store database; counts what it refused."""

    def __init__(self, stamper: EventStamper | None = None) -> None:
        self.applied: dict[str, int] = {"catalog": 0, "stock": 0, "orders": 0}
        self.rejected = 0
        # Stamps the events an order causes (`pickup.cancelled`), written in the
        # order's own transaction.
        self.stamper = stamper or EventStamper(Clock(), read_boot_id())

    def handle(self, conn: sqlite3.Connection, kind: str, payload: bytes) -> None:
        """Apply one `down/…` message (`kind` is the topic after `down/`)."""
        try:
            if kind.startswith("catalog/"):
                self._part(conn, "catalog", wire.decode_catalog_part(payload), payload)
            elif kind.startswith("stock/"):
                self._part(conn, "stock", wire.decode_stock_part(payload), payload)
            elif kind == "orders":
                self._orders(conn, wire.decode_orders(payload))
        except wire.WireError as exc:
            self.rejected += 1
            log.warning("downlink: refused a %s message: %s", kind, exc)

    def _part(self, conn: sqlite3.Connection, kind: str, part, payload: bytes) -> None:
        if part.version <= _applied_version(conn, kind):
            return  # already have this version or a newer one
        with conn:
            conn.execute(
                "DELETE FROM downlink_parts WHERE kind = ? AND version < ?", (kind, part.version)
            )
            newer = conn.execute(
                "SELECT 1 FROM downlink_parts WHERE kind = ? AND version > ? LIMIT 1",
                (kind, part.version),
            ).fetchone()
            if newer:
                return  # a newer snapshot is already arriving
            conn.execute(
                "INSERT OR REPLACE INTO downlink_parts (kind, version, part, parts, payload) VALUES (?, ?, ?, ?, ?)",
                (kind, part.version, part.part, part.parts, payload),
            )
        have = conn.execute(
            "SELECT count(*) FROM downlink_parts WHERE kind = ? AND version = ?",
            (kind, part.version),
        ).fetchone()[0]
        if have == part.parts:
            self._apply_snapshot(conn, kind, part.version)

    def _apply_snapshot(self, conn: sqlite3.Connection, kind: str, version: int) -> None:
        payloads = [
            r[0]
            for r in conn.execute(
                "SELECT payload FROM downlink_parts WHERE kind = ? AND version = ? ORDER BY part",
                (kind, version),
            )
        ]
        decode = wire.decode_catalog_part if kind == "catalog" else wire.decode_stock_part
        parts = [decode(p) for p in payloads]
        items = [item for p in parts for item in p.items]
        # The connection is in autocommit mode (edge.db.connect), where `with conn:` opens
        # no transaction: BEGIN explicitly, or every row would be a commit of its own
        # (an fsync each) and a reader could see half a snapshot.
        conn.execute("BEGIN IMMEDIATE")
        try:
            if kind == "catalog":
                # An UPSERT, not INSERT OR REPLACE: REPLACE deletes without firing the
                # FTS delete trigger, leaving stale index entries that grow with every
                # version. Unchanged rows are left alone, index entries included, so
                # `version` is the snapshot that last changed a product, and products
                # left out of this snapshot are found by SKU.
                conn.executemany(_CATALOG_UPSERT, [_catalog_row(i, version) for i in items])
                conn.execute("CREATE TEMP TABLE IF NOT EXISTS snapshot_skus (sku TEXT PRIMARY KEY)")
                conn.execute("DELETE FROM temp.snapshot_skus")
                conn.executemany(
                    "INSERT OR IGNORE INTO temp.snapshot_skus VALUES (?)", [(i.sku,) for i in items]
                )
                conn.execute(
                    "DELETE FROM catalog WHERE sku NOT IN (SELECT sku FROM temp.snapshot_skus)"
                )
            else:
                conn.executemany(
                    "INSERT OR REPLACE INTO stock (sku, here, online, other_stores, version) VALUES (?, ?, ?, ?, ?)",
                    [(i.sku, i.here, i.online, json.dumps(i.other_stores), version) for i in items],
                )
                conn.execute("DELETE FROM stock WHERE version < ?", (version,))
                km = {store: d for p in parts for store, d in p.km.items()}
                conn.execute("DELETE FROM store_distances")
                conn.executemany("INSERT INTO store_distances VALUES (?, ?)", km.items())
            conn.execute(
                "INSERT OR REPLACE INTO state (key, value, updated) VALUES (?, ?, ?)",
                (
                    f"downlink:{kind}",
                    str(version),
                    time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                ),
            )
            conn.execute(
                "DELETE FROM downlink_parts WHERE kind = ? AND version <= ?", (kind, version)
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self.applied[kind] = version
        log.info("downlink: %s version %d applied (%d items)", kind, version, len(items))

    def _orders(self, conn: sqlite3.Connection, update: wire.OrdersUpdate) -> None:
        for o in update.orders:
            try:
                outcome = apply_order(conn, order_in(o), self.stamper)
            except OrderRefused as exc:
                self.rejected += 1
                log.warning("downlink: refused order %s version %d: %s", o.order, o.version, exc)
                continue
            log.info("downlink: order %s version %d: %s", o.order, o.version, outcome)
        self.applied["orders"] += len(update.orders)


def order_in(o: wire.PickupOrder) -> OrderIn:
    """Head office's order as the store's order book takes it."""
    return OrderIn(
        order=o.order,
        version=o.version,
        status=o.status,
        code=o.code,
        lines=tuple(LineIn(sku=ln.sku, qty=ln.qty, name=ln.name, line=ln.line) for ln in o.lines),
        promised_at=o.promised_at,
        delay_note=o.delay_note,
        first_name=o.first_name,
        hold_days=o.hold_days,
    )


def split_items(
    items: list, part_items: int = PART_ITEMS, max_bytes: int = MAX_PART_BYTES
) -> list[list]:
    """Items cut into parts of at most `part_items` items and `max_bytes` of JSON each.

    A count alone is not enough: a description may hold 2,000 characters, and 500 such
    products would make a part of 1 MiB, past the 256 KiB every part must fit in.
    """
    chunks: list[list] = []
    chunk: list = []
    size = 0
    for item in items:
        n = len(wire.encode(item)) + 1  # the comma
        if chunk and (len(chunk) >= part_items or size + n > max_bytes - _PART_ENVELOPE):
            chunks.append(chunk)
            chunk, size = [], 0
        chunk.append(item)
        size += n
    if chunk or not chunks:
        chunks.append(chunk)
    return chunks


def encode_parts(
    kind: str,
    version: int,
    items: list,
    part_items: int = PART_ITEMS,
    km: dict[str, float] | None = None,
) -> list[bytes]:
    """The payloads of a catalog or stock snapshot, part 0 first (stock may carry `km`)."""
    chunks = split_items(items, part_items)
    if kind == "catalog":
        return [
            wire.encode(wire.CatalogPart(v=1, version=version, part=n, parts=len(chunks), items=c))
            for n, c in enumerate(chunks)
        ]
    return [
        wire.encode(
            wire.StockPart(
                v=1, version=version, part=n, parts=len(chunks), items=c, km=dict(km or {})
            )
        )
        for n, c in enumerate(chunks)
    ]


def publish_snapshot(
    client: mqtt.Client,
    store: str,
    kind: str,
    version: int,
    items: list,
    part_items: int = PART_ITEMS,
) -> list[mqtt.MQTTMessageInfo]:
    """Publish a catalog or stock snapshot for one store as retained parts (tests, demos)."""
    return [
        client.publish(wire.topic(store, "down", kind, str(n)), payload, qos=1, retain=True)
        for n, payload in enumerate(encode_parts(kind, version, items, part_items))
    ]


def publish_orders(
    client: mqtt.Client, store: str, orders: list[wire.PickupOrder]
) -> mqtt.MQTTMessageInfo:
    """HQ side: publish new or changed pick-up orders for one store."""
    payload = wire.encode(wire.OrdersUpdate(v=1, orders=orders))
    return client.publish(wire.topic(store, "down", "orders"), payload, qos=1)
