"""Product and stock rows of `hq publish` (pure): one checked record per input row.

Field names follow Google Merchant Center's product data feed (catalog) and its local
inventory feed (stock), so a chain can publish the files it already makes for Google.
Each parser returns a record or raises `Bad` with the reason (docs/imports.md).
"""

from __future__ import annotations

import re

import msgspec

from devices.scanners.checkdigits import mod10_valid
from hq.imports.fields import Bad, cents, integer, store_id, text
from sync import wire

CATALOG_FIELDS = (
    "id",
    "title",
    "description",
    "brand",
    "gtin",
    "product_type",
    "price",
    "sale_price",
    "availability",
    "image_link",
    "rating",
    "review_count",
)
STOCK_FIELDS = ("store_code", "id", "quantity", "availability")
AVAILABILITY = ("in_stock", "out_of_stock", "preorder", "backorder")
ONLINE = "online"  # the local inventory feed's store_code for the web shop's stock
MAX_DESCRIPTION = 2000  # what the wire carries (sync/wire.py Text); the feed allows 5,000
MAX_QUANTITY = 1_000_000

_PRICE = re.compile(r"(\S+)\s*([A-Z]{3})")
_URL = re.compile(r"https?://\S+")
_BREAKS = re.compile(r"[\r\n\t]+")


class ProductRecord(msgspec.Struct, frozen=True):
    """A product ready for the wire, with the line it came from."""

    line: int
    item: wire.CatalogItem
    shortened: bool = False  # the description was cut to MAX_DESCRIPTION characters


class StockRecord(msgspec.Struct, frozen=True):
    """One (store or online, product) quantity."""

    line: int
    store: str
    sku: str
    quantity: int


def _price(row: dict, name: str, currency: str) -> int | None:
    """'49.99 EUR' as cents; the currency must be the chain's."""
    value = text(row, name, required=name == "price", max_len=40)
    if value is None:
        return None
    m = _PRICE.fullmatch(value)
    if not m:
        raise Bad(f"{name}: {value!r} is not a price such as '49.99 {currency}'")
    if m.group(2) != currency:
        raise Bad(f"{name}: currency {m.group(2)}, head office sells in {currency}")
    amount = cents({name: m.group(1)}, name)
    if amount < 0:
        raise Bad(f"{name}: {value!r} is negative")
    return amount


def _gtin(row: dict) -> str:
    value = text(row, "gtin", required=False, max_len=40) or ""
    if value and (len(value) not in (8, 12, 13, 14) or not mod10_valid(value)):
        raise Bad(f"gtin: {value!r} is not a GTIN-8, -12, -13 or -14 with a valid check digit")
    return value


def _category(row: dict) -> str:
    # "Home & Garden > Tools > Drills": the kiosk shows (and finds alternatives in) the
    # most specific level.
    value = text(row, "product_type", required=False, max_len=750) or ""
    leaf = value.rsplit(">", 1)[-1].strip()
    if len(leaf) > 100:
        raise Bad("product_type: the last level is longer than 100 characters")
    return leaf


def _rating(row: dict) -> float | None:
    value = row.get("rating")
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Bad("rating: expected a number 0..5")
    try:
        number = float(value)
    except ValueError:
        raise Bad(f"rating: {value!r} is not a number") from None
    if not 0 <= number <= 5:  # also refuses nan
        raise Bad(f"rating: {number:g} is outside 0..5")
    return round(number, 2)


def _availability(row: dict) -> str | None:
    value = text(row, "availability", required=False, max_len=20)
    if value is not None and value not in AVAILABILITY:
        raise Bad(f"availability: {value!r} is not one of {', '.join(AVAILABILITY)}")
    return value


def parse_product(row: dict, line: int, currency: str) -> ProductRecord:
    """A product-feed row as a wire `CatalogItem`; raises Bad."""
    sku = text(row, "id", max_len=64)
    title = text(row, "title", max_len=200)
    if isinstance(desc := row.get("description"), str):
        # Feeds break descriptions into lines; the kiosk shows one paragraph.
        row = row | {"description": _BREAKS.sub(" ", desc)}
    description = text(row, "description", required=False, max_len=5000) or ""
    price = _price(row, "price", currency)
    sale = _price(row, "sale_price", currency)
    if sale is not None and price is not None and sale >= price:
        raise Bad("sale_price: must be below price")
    _availability(row)  # checked; the kiosk's online figure comes from the stock feed
    image = text(row, "image_link", required=False, max_len=2000)
    if image is not None and not _URL.fullmatch(image):
        raise Bad(f"image_link: {image[:40]!r} is not an http(s) URL")
    shortened = len(description) > MAX_DESCRIPTION
    if shortened:
        description = description[: MAX_DESCRIPTION - 1].rstrip() + "…"
    item = wire.CatalogItem(
        sku=sku,
        name=title,
        gtin=_gtin(row),
        brand=text(row, "brand", required=False, max_len=100) or "",
        category=_category(row),
        price_cents=price or 0,
        sale_price_cents=sale,
        description=description,
        rating=_rating(row),
        reviews=integer(row, "review_count", default=0, hi=100_000_000),
    )
    return ProductRecord(line, item, shortened)


def parse_stock(row: dict, line: int) -> StockRecord:
    """A local-inventory row: store (or 'online'), product id and quantity; raises Bad."""
    raw = text(row, "store_code", max_len=64)
    store = ONLINE if raw == ONLINE else store_id(row, "store_code")
    _availability(row)  # checked; the quantity is what the kiosk shows
    return StockRecord(
        line, store, text(row, "id", max_len=64), integer(row, "quantity", hi=MAX_QUANTITY)
    )
