"""Messages the workers and the scanner post to the app (data flows up as messages)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from edge.pickup_views import OrderView
from kiosk.core.orders import PlacedOrder
from kiosk.core.recognition import ProfileSummary
from kiosk.core.scans import ScanAction
from kiosk.core.search import SearchResult
from kiosk.core.service import Hit, ProductPage


@dataclass
class SearchDone(Message):
    """A page of search results is ready."""

    result: SearchResult
    hits: list[Hit]


@dataclass
class ProductLoaded(Message):
    """A product page's data is ready (`page` None: not in the catalog)."""

    sku: str
    page: ProductPage | None


@dataclass
class OrderDone(Message):
    """An order was recorded (`order`), or refused naming the fields to fix."""

    order: PlacedOrder | None
    bad_fields: list[str]


@dataclass
class ScanRead(Message):
    """The kiosk's scanner read a code (raw: classified in a worker, then forgotten)."""

    data: str
    symbology: str
    read_at: float


@dataclass
class ScanUnderstood(Message):
    """What a scan means, after classification and any catalog look-up."""

    action: ScanAction
    sku: str | None = None
    read_at: float = 0.0


@dataclass
class Recognised(Message):
    """Head office's answer for a scanned card (`profile` None: carry on generic)."""

    profile: ProfileSummary | None
    pseudonym: tuple[str, str]
    wishlist: list[Hit]
    recent: list[Hit]


@dataclass
class PickupFound(Message):
    """A pick-up code's order after the shopper's check-in, if head office has sent it."""

    code: str
    order: OrderView | None
