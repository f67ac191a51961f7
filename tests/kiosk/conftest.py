"""Kiosk fixtures: a store database filled through the real downlink applier."""

from __future__ import annotations

from pathlib import Path

import pytest

from devices.emulators.scanner import ScannerEmulator
from edge.classify import ScanClassifier
from edge.config import KioskSection
from edge.db import connect, open_store_db
from edge.eventlog import EventLog
from edge.identity import Pseudonymiser, TokenVerifier
from kiosk.core.recognition import OfflineRecognition, Recognition
from kiosk.core.service import KioskService
from kiosk.sample import apply_snapshot
from sync import wire

CATALOG = [
    wire.CatalogItem(
        sku="DRILL-1",
        name="Bosch boormachine PSB 500",
        gtin="4006381333931",
        brand="Bosch",
        category="gereedschap",
        price_cents=5999,
        rating=4.4,
        reviews=120,
        alternatives=["DRILL-3"],
    ),
    wire.CatalogItem(
        sku="DRILL-2",
        name="Makita accu boormachine",
        gtin="0088381123457",
        brand="Makita",
        category="gereedschap",
        price_cents=6499,
        rating=4.7,
        reviews=80,
    ),
    wire.CatalogItem(
        sku="DRILL-3",
        name="Einhell klopboormachine",
        gtin="4006825555554",
        brand="Einhell",
        category="gereedschap",
        price_cents=4999,
        rating=4.0,
        reviews=15,
    ),
    wire.CatalogItem(
        sku="DRILL-4",
        name="Goedkope schroefboor",
        gtin="8712345678906",
        brand="Noord",
        category="gereedschap",
        price_cents=1299,
    ),
    wire.CatalogItem(
        sku="JACKET-1",
        name="Regenjas Noord blauw",
        gtin="8711111111111",
        brand="Noord",
        category="kleding",
        price_cents=7999,
        rating=4.1,
        reviews=33,
    ),
    wire.CatalogItem(
        sku="CAFE-1",
        name="Café crème koffiebonen",
        gtin="8722222222221",
        brand="Douwe",
        category="koffie",
        price_cents=899,
    ),
]
STOCK = [
    wire.StockItem(sku="DRILL-1", here=0, online=40, other_stores={"ams-002": 3, "utr-001": 0}),
    wire.StockItem(sku="DRILL-2", here=2, online=10, other_stores={"ams-002": 1}),
    wire.StockItem(sku="DRILL-3", here=12, online=0, other_stores={}),
    wire.StockItem(sku="DRILL-4", here=7, online=3, other_stores={}),
    wire.StockItem(sku="JACKET-1", here=5, online=0, other_stores={"ams-002": 2}),
    wire.StockItem(sku="CAFE-1", here=0, online=0, other_stores={"ams-002": 0}),
]


def fill(path: Path, catalog=CATALOG, stock=STOCK, version: int = 1) -> None:
    """Apply a catalog and stock snapshot as head office would send them."""
    conn = connect(path)
    try:
        apply_snapshot(conn, "catalog", version, list(catalog))
        apply_snapshot(conn, "stock", version, list(stock))
    finally:
        conn.close()


@pytest.fixture
def kiosk_db(tmp_path: Path) -> Path:
    """A store database with the small test catalog."""
    path = tmp_path / "store.db"
    open_store_db(path).close()
    fill(path)
    return path


@pytest.fixture
def classifier() -> ScanClassifier:
    """The store's scan rules with test keys."""
    return ScanClassifier(Pseudonymiser({"k1": b"chain"}, "k1"), TokenVerifier(b"tok"))


@pytest.fixture
def make_service(kiosk_db, classifier):
    """Builds a `KioskService` on the test database (closed with its event log after the test)."""
    made: list[tuple[KioskService, EventLog]] = []

    def make(recognition: Recognition | None = None, **settings) -> KioskService:
        log = EventLog(kiosk_db).start()
        svc = KioskService(
            kiosk_db,
            settings=KioskSection(**settings),
            store_id="ams-001",
            eventlog=log,
            classifier=classifier,
            recognition=recognition or OfflineRecognition(),
        )
        made.append((svc, log))
        return svc

    yield make
    for svc, log in made:
        svc.close()
        log.stop()


@pytest.fixture
def emulator(tmp_path):
    """A scanner emulator on a pty, plugged in (the kiosk's own scanner)."""
    emu = ScannerEmulator(tmp_path / "usb-Kiosk_Scanner-if00")
    emu.plug()
    yield emu
    emu.close()
