"""Downlink over a real broker: catalog, stock and orders applied idempotently, by version."""

from __future__ import annotations

import sqlite3

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from edge.db import open_store_db
from sync import wire
from sync.downlink import DownlinkApplier, encode_parts, publish_orders, publish_snapshot
from sync.uplink import Uplink, UplinkSettings
from tests.edge.agent_support import wait_for


def items(n, version_tag=""):
    return [
        wire.CatalogItem(
            sku=f"SKU-{i:05d}",
            name=f"Rain jacket {i}{version_tag}",
            brand="Noord",
            category="outdoor",
            price_cents=4999 + i,
            description="Waterproof, breathable.",
            rating=4.5,
            reviews=12,
        )
        for i in range(n)
    ]


def state(db, key):
    row = sqlite3.connect(db).execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
    return int(row[0]) if row else 0


@pytest.fixture
def hq_client(mosquitto):
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="hq-pub", protocol=mqtt.MQTTv5)
    client.connect(mosquitto.host, mosquitto.port)
    client.loop_start()
    yield client
    client.loop_stop()
    client.disconnect()


def test_catalog_stock_and_orders_reach_the_store(mosquitto, hq_client, tmp_path):
    db = tmp_path / "store.db"
    open_store_db(db).close()
    # Published (retained) before the store connects: it gets them on subscribe.
    for info in publish_snapshot(hq_client, "s1", "catalog", 1, items(1200), part_items=500):
        info.wait_for_publish(5)
    stock = [
        wire.StockItem(sku=f"SKU-{i:05d}", here=i % 4, online=10, other_stores={"s2": 1})
        for i in range(1200)
    ]
    for info in publish_snapshot(hq_client, "s1", "stock", 7, stock):
        info.wait_for_publish(5)
    up = Uplink(
        UplinkSettings(
            store="s1", db_path=db, host=mosquitto.host, port=mosquitto.port, boot_id="b"
        )
    )
    up.start()
    try:
        wait_for(
            lambda: state(db, "downlink:catalog") == 1 and state(db, "downlink:stock") == 7,
            what="snapshots",
        )
        order = wire.PickupOrder(
            order="o-1",
            version=1,
            status="placed",
            code="TPO-1",
            lines=[wire.OrderLine(sku="SKU-00001", qty=1)],
        )
        publish_orders(hq_client, "s1", [order]).wait_for_publish(5)
        ready = wire.PickupOrder(order="o-1", version=2, status="ready", code="TPO-1")
        publish_orders(hq_client, "s1", [ready]).wait_for_publish(5)
        publish_orders(hq_client, "s1", [order]).wait_for_publish(5)  # a stale replay of version 1
        wait_for(lambda: up.downlink.applied["orders"] == 3, what="3 order messages")
    finally:
        up.stop()
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM catalog").fetchone()[0] == 1200
    hits = conn.execute(
        "SELECT sku FROM catalog WHERE rowid IN (SELECT rowid FROM catalog_fts WHERE catalog_fts MATCH 'jacket 1199')"
    ).fetchall()
    assert ("SKU-01199",) in hits
    assert conn.execute("SELECT here FROM stock WHERE sku = 'SKU-00003'").fetchone()[0] == 3
    assert conn.execute(
        "SELECT status, version FROM pickup_orders WHERE order_id = 'o-1'"
    ).fetchone() == ("ready", 2)


def test_versions_parts_and_replays_apply_idempotently(tmp_path):
    db = tmp_path / "store.db"
    conn = open_store_db(db).conn
    applier = DownlinkApplier()

    def parts(version, n_items, tag):
        return [
            wire.encode(wire.CatalogPart(v=1, version=version, part=p, parts=3, items=chunk))
            for p, chunk in enumerate([items(n_items, tag)[i::3] for i in range(3)])
        ]

    v2 = parts(2, 30, " v2")
    v1 = parts(1, 60, " v1")
    applier.handle(conn, "catalog/2", v2[2])
    applier.handle(conn, "catalog/0", v1[0])  # an older version arriving late is dropped
    applier.handle(conn, "catalog/0", v2[0])
    applier.handle(conn, "catalog/0", v2[0])  # duplicate part
    assert state(db, "downlink:catalog") == 0  # incomplete: nothing applied yet
    applier.handle(conn, "catalog/1", v2[1])
    assert state(db, "downlink:catalog") == 2
    for p in v1:  # a full replay of the old version changes nothing
        applier.handle(conn, "catalog/0", p)
    names = [r[0] for r in conn.execute("SELECT name FROM catalog")]
    assert len(names) == 30 and all(n.endswith(" v2") for n in names)
    applier.handle(conn, "catalog/0", b'{"v":1,"version":3,"part":5,"parts":2,"items":[]}')
    applier.handle(conn, "orders", b"not json")
    assert applier.rejected == 2


def test_parts_stay_under_256_kib_whatever_the_items_hold(tmp_path):
    long = [
        wire.CatalogItem(sku=f"L-{i}", name=f"Long {i}", description="é" * 2000, price_cents=1)
        for i in range(600)
    ]
    payloads = encode_parts("catalog", 3, long)
    assert len(payloads) > 2  # 500 such items would be ~2 MiB: cut by size, not count
    assert all(len(p) <= wire.MAX_BATCH_BYTES for p in payloads)
    conn = open_store_db(tmp_path / "store.db").conn
    for n, p in enumerate(payloads):
        DownlinkApplier().handle(conn, f"catalog/{n}", p)
    assert conn.execute("SELECT count(*) FROM catalog").fetchone()[0] == 600


def test_sale_price_and_store_distances_are_kept(tmp_path):
    conn = open_store_db(tmp_path / "store.db").conn
    applier = DownlinkApplier()
    item = wire.CatalogItem(sku="A", name="Jas", price_cents=5999, sale_price_cents=4999)
    for n, p in enumerate(encode_parts("catalog", 1, [item])):
        applier.handle(conn, f"catalog/{n}", p)
    stock = [wire.StockItem(sku="A", here=1, other_stores={"utr": 2})]
    for version, km in ((1, {"utr": 35.0, "rot": 57.5}), (2, {"utr": 35.0})):
        for n, p in enumerate(encode_parts("stock", version, stock, km=km)):
            applier.handle(conn, f"stock/{n}", p)
    assert conn.execute("SELECT sale_price_cents FROM catalog").fetchone()[0] == 4999
    # Replaced with every snapshot: a store no longer near is gone.
    assert dict(conn.execute("SELECT store, km FROM store_distances")) == {"utr": 35.0}
