"""A generated catalog with stock, applied through the real downlink (tests, bench, demos).

Head office's `hq publish` is what fills a real store; this stands in for it by
building the same `down/catalog/{part}` and `down/stock/{part}` payloads and handing
them to `sync.downlink.DownlinkApplier`, so the kiosk always reads what the
downlink wrote.
"""

from __future__ import annotations

import random
import sqlite3

from devices.scanners.checkdigits import mod10_check_digit
from sync import wire
from sync.downlink import DownlinkApplier, encode_parts

KINDS = [
    ("boormachine", "gereedschap"),
    ("schroevendraaier", "gereedschap"),
    ("hamer", "gereedschap"),
    ("zaag", "gereedschap"),
    ("regenjas", "kleding"),
    ("wandelschoen", "schoenen"),
    ("sneaker", "schoenen"),
    ("koffiezetapparaat", "keuken"),
    ("waterkoker", "keuken"),
    ("pan", "keuken"),
    ("tuinslang", "tuin"),
    ("grasmaaier", "tuin"),
    ("bureaulamp", "verlichting"),
    ("ledlamp", "verlichting"),
    ("rugzak", "tassen"),
    ("koptelefoon", "audio"),
    ("luidspreker", "audio"),
    ("fietspomp", "fiets"),
    ("fietsslot", "fiets"),
    ("thermosfles", "outdoor"),
]
BRANDS = [
    "Noord",
    "Bosch",
    "Makita",
    "Philips",
    "Tefal",
    "Gardena",
    "Vaude",
    "Sony",
    "Brabantia",
    "Hema",
    "Gazelle",
    "Jbl",
]
ADJECTIVES = [
    "compacte",
    "draadloze",
    "robuuste",
    "lichte",
    "stille",
    "snelle",
    "klassieke",
    "waterdichte",
    "slimme",
    "grote",
]
COLOURS = ["zwart", "wit", "rood", "blauw", "groen", "grijs", "geel", "oranje"]
STORES = ["ams-002", "utr-001", "rot-003", "dh-004", "ein-005"]


def generate(n: int, seed: int = 12) -> tuple[list[wire.CatalogItem], list[wire.StockItem]]:
    """`n` products with GTINs, prices, ratings and stock (some sold out here)."""
    rng = random.Random(seed)
    items, stock = [], []
    for i in range(n):
        kind, category = KINDS[i % len(KINDS)]
        brand = BRANDS[rng.randrange(len(BRANDS))]
        name = f"{brand} {rng.choice(ADJECTIVES)} {kind} {rng.choice(COLOURS)} {100 + i % 900}"
        sku = f"SKU-{i:06d}"
        items.append(
            wire.CatalogItem(
                sku=sku,
                name=name,
                gtin=f"87{i:010d}{mod10_check_digit(f'87{i:010d}')}",
                brand=brand,
                category=category,
                price_cents=rng.randrange(199, 49_999),
                description=f"{name}: {category}, model {i}.",
                rating=round(rng.uniform(2.5, 5.0), 1),
                reviews=rng.randrange(0, 500),
            )
        )
        here = 0 if rng.random() < 0.2 else rng.randrange(1, 30)
        stock.append(
            wire.StockItem(
                sku=sku,
                here=here,
                online=rng.randrange(0, 200),
                other_stores={s: rng.randrange(0, 10) for s in STORES},
            )
        )
    return items, stock


def apply_snapshot(
    conn: sqlite3.Connection,
    kind: str,
    version: int,
    items: list,
    applier: DownlinkApplier | None = None,
) -> DownlinkApplier:
    """Feed `items` to the downlink applier as the parts head office would publish."""
    applier = applier or DownlinkApplier()
    for n, payload in enumerate(encode_parts(kind, version, items)):
        applier.handle(conn, f"{kind}/{n}", payload)
    return applier
