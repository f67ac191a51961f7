"""The kiosk's data source: everything the screens need, as blocking calls.

Built once by the composition root and handed to the Textual app, which calls it
only from worker threads. One SQLite connection (the store database, shared with
the agent through WAL) guarded by a lock; events go through the store's
group-committed event log.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path

from edge.classify import ScanClassifier
from edge.config import KioskSection
from edge.db import connect, open_store_db
from edge.eventlog import EventLog
from edge.events import Payload
from edge.nonces import NonceLedger
from edge.pickup_desk import PickupDesk
from edge.pickup_views import OrderView
from kiosk.core.alternatives import alternatives
from kiosk.core.availability import Availability, availability
from kiosk.core.orders import OrderRequest, PlacedOrder, build_order
from kiosk.core.products import (
    Product,
    product_by_gtin,
    product_by_sku,
    products_by_sku,
    store_distances,
)
from kiosk.core.recognition import ProfileSummary, Recognition
from kiosk.core.scans import ScanAction, scan_action
from kiosk.core.search import CatalogSearch, SearchResult
from kiosk.core.session import Session

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProductPage:
    """A product with where it can be had, and alternatives when sold out here."""

    product: Product
    availability: Availability
    alternatives: tuple[tuple[Product, Availability], ...] = ()


@dataclass(frozen=True)
class Hit:
    """One search result: the product and its availability badge."""

    product: Product
    availability: Availability


class KioskService:
    """Search, products, orders, scans and recognition over one store database."""

    def __init__(
        self,
        db_path: Path | str,
        *,
        settings: KioskSection,
        store_id: str,
        eventlog: EventLog,
        classifier: ScanClassifier,
        recognition: Recognition,
        order_prefix: str = "TPO-",
        device: str = "kiosk",
        distances: Mapping[str, float] | None = None,
        busy_timeout_ms: int = 5000,
        tz: str = "UTC",
    ) -> None:
        open_store_db(db_path, busy_timeout_ms=busy_timeout_ms).close()
        self.conn = connect(db_path, busy_timeout_ms=busy_timeout_ms)
        self.settings = settings
        self.store_id = store_id
        self.eventlog = eventlog
        self.classifier = classifier
        # App tokens are single-use across the store: the door agent and other terminals too.
        self._ledger: NonceLedger | None = None
        if classifier.tokens is not None:
            self._ledger = NonceLedger(db_path, busy_timeout_ms=busy_timeout_ms)
            classifier.tokens.ledger = self._ledger.claim
        self.recognition = recognition
        self.order_prefix = order_prefix
        self.device = device
        self.distances = dict(distances or {})
        self.searcher = CatalogSearch(self.conn, page_size=settings.page_size)
        self.tz = tz
        # Check-ins are recorded in the same transaction as the order's new state.
        self.desk = PickupDesk(self.conn, stamper=eventlog.stamper, tz=tz, device=device)
        self._lock = threading.Lock()
        self._lookups = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kiosk-lookup")

    # -- sessions and events -------------------------------------------------------------

    def emit(self, payload: Payload) -> None:
        """Append one event to the store's event log (group-committed, never blocks)."""
        self.eventlog.append(payload, self.device)

    def new_session(self) -> Session:
        """A fresh shopper session (records `kiosk.session` start)."""
        return Session(self.emit, personal=self.classifier.is_personal)

    # -- catalog -------------------------------------------------------------------------

    def _distances(self) -> dict[str, float]:
        # Head office's distances (`hq publish stock`), unless given when built. A few
        # rows: read with every page, so a new stock snapshot shows at once.
        return self.distances or store_distances(self.conn)

    def _availability(self, product: Product, distances: Mapping[str, float]) -> Availability:
        return availability(
            product.stock,
            low_stock_below=self.settings.low_stock_below,
            nearby_max=self.settings.nearby_stores,
            distances=distances,
        )

    def search(self, query: str, offset: int = 0) -> tuple[SearchResult, list[Hit]]:
        """One page of results with availability badges."""
        with self._lock:
            result = self.searcher.search(query, offset)
            km = self._distances()
        return result, [Hit(p, self._availability(p, km)) for p in result.products]

    def product_page(self, sku: str) -> ProductPage | None:
        """Everything the product page shows, or None for an unknown SKU."""
        with self._lock:
            product = product_by_sku(self.conn, sku)
            if product is None:
                return None
            km = self._distances()
            avail = self._availability(product, km)
            alts: list[Product] = []
            if (product.stock.here or 0) == 0 and self.settings.alternatives:
                alts = alternatives(
                    self.conn,
                    product,
                    limit=self.settings.alternatives,
                    price_band=self.settings.price_band_pct / 100,
                    low_stock_below=self.settings.low_stock_below,
                )
        return ProductPage(product, avail, tuple((a, self._availability(a, km)) for a in alts))

    def warm_up(self) -> None:
        """Touch the catalog once so the first shopper does not pay for a cold cache."""
        with self._lock:
            self.conn.execute(
                "SELECT count(*) FROM (SELECT sku FROM catalog LIMIT 1000)"
            ).fetchone()
            self.conn.execute("SELECT count(*) FROM (SELECT sku FROM stock LIMIT 1000)").fetchone()

    def sku_for_gtin(self, gtin: str) -> str | None:
        """The SKU of a scanned barcode, or None if we do not sell it."""
        with self._lock:
            product = product_by_gtin(self.conn, gtin)
        return product.sku if product else None

    def products(self, skus: list[str]) -> list[Hit]:
        """Products by SKU (a recognised shopper's wishlist), unknown ones left out."""
        with self._lock:
            found = products_by_sku(self.conn, skus)
            km = self._distances()
        return [Hit(p, self._availability(p, km)) for p in found]

    def checkin(self, code: str, via: str) -> OrderView | None:
        """The shopper is here for this pick-up code (scanned or typed): the order, or None.

        An open order records `pickup.checkin`, which the staff queue shows at once.
        """
        with self._lock:
            return self.desk.checkin(code, via)

    # -- orders --------------------------------------------------------------------------

    def place_order(self, req: OrderRequest, session: Session) -> PlacedOrder:
        """Record the order on the event log; raises OrderError naming fields to fix."""
        placed, payloads = build_order(
            req,
            store=self.store_id,
            session=session.id,
            order_prefix=self.order_prefix,
            pseudonym=session.pseudonym,
        )
        self.eventlog.append_many(payloads, self.device)
        # The confirmation promises the order is recorded: wait for its commit.
        if not self.eventlog.flush(timeout=5.0):
            log.error("order %s not yet committed after 5 s", placed.order_id)
        return placed

    # -- scans and recognition -------------------------------------------------------------

    def scan(self, data: str, symbology: str) -> ScanAction:
        """Classify a kiosk scan and record its privacy-safe `scan` event."""
        action, event = scan_action(self.classifier, data, symbology, time.time())
        self.eventlog.append(event, self.device)
        return action

    def recognise(self, pseudonym: str, key_id: str) -> ProfileSummary | None:
        """Ask head office, waiting at most the configured time; None otherwise."""
        timeout = self.settings.recognition_timeout_ms / 1000
        future = self._lookups.submit(self.recognition.lookup, pseudonym, key_id, timeout)
        try:
            return future.result(timeout=timeout)
        except FutureTimeout:
            return None
        except Exception:  # a broken lookup must look like "not recognised", never crash
            log.exception("recognition lookup failed")
            return None

    def close(self) -> None:
        """Release the connection and the lookup threads."""
        self._lookups.shutdown(wait=False, cancel_futures=True)
        self.conn.close()
        if self._ledger is not None:
            self._ledger.close()
