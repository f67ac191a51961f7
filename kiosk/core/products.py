"""Products and their stock as the kiosk reads them from the downlinked tables."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

# The columns every product query selects, in `Product.from_row` order.
PRODUCT_COLUMNS = (
    "c.sku, c.gtin, c.name, c.brand, c.category, c.price_cents, c.description, c.rating,"
    " c.reviews, c.alternatives, s.here, s.online, s.other_stores, c.sale_price_cents"
)
PRODUCT_FROM = "catalog c LEFT JOIN stock s ON s.sku = c.sku"


@dataclass(frozen=True)
class StockFigures:
    """Real stock counts from head office; `here` is None when no stock data has arrived."""

    here: int | None
    online: int = 0
    # Other stores as head office sent them (nearest first): (store id, quantity).
    other_stores: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Product:
    """One catalog product with its stock figures."""

    sku: str
    gtin: str
    name: str
    brand: str
    category: str
    price_cents: int
    description: str
    rating: float | None
    reviews: int
    alternatives: tuple[str, ...]
    stock: StockFigures
    # The reduced price while a sale runs, else None.
    sale_price_cents: int | None = None

    @property
    def current_price_cents(self) -> int:
        """What the shopper pays now: the sale price while a sale runs."""
        return self.sale_price_cents if self.sale_price_cents is not None else self.price_cents

    @classmethod
    def from_row(cls, row: tuple) -> Product:
        """Build from a row selected with `PRODUCT_COLUMNS`."""
        (
            sku,
            gtin,
            name,
            brand,
            category,
            price,
            desc,
            rating,
            reviews,
            alts,
            here,
            online,
            other,
            sale,
        ) = row
        return cls(
            sku=sku,
            gtin=gtin or "",
            name=name,
            brand=brand or "",
            category=category or "",
            price_cents=price or 0,
            description=desc or "",
            rating=rating,
            reviews=reviews or 0,
            alternatives=tuple(_json_list(alts)),
            stock=StockFigures(
                here=here,
                online=online or 0,
                other_stores=tuple((str(k), int(v)) for k, v in _json_dict(other).items()),
            ),
            sale_price_cents=sale,
        )


def _json_list(text: str | None) -> list:
    try:
        value = json.loads(text) if text else []
    except ValueError:
        return []
    return value if isinstance(value, list) else []


def _json_dict(text: str | None) -> dict:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def store_distances(conn: sqlite3.Connection) -> dict[str, float]:
    """How far (km) each other store in the stock snapshot is from this one."""
    return dict(conn.execute("SELECT store, km FROM store_distances"))


def gtin_variants(code: str) -> list[str]:
    """The forms a GTIN may be stored in: as scanned, without leading zeros, as GTIN-13/14."""
    bare = code.lstrip("0") or "0"
    return sorted({code, bare, bare.zfill(8), bare.zfill(12), bare.zfill(13), bare.zfill(14)})


def product_by_sku(conn: sqlite3.Connection, sku: str) -> Product | None:
    """The product with this SKU, or None."""
    row = conn.execute(
        f"SELECT {PRODUCT_COLUMNS} FROM {PRODUCT_FROM} WHERE c.sku = ?", (sku,)
    ).fetchone()
    return Product.from_row(row) if row else None


def product_by_gtin(conn: sqlite3.Connection, code: str) -> Product | None:
    """The product with this barcode (any GTIN length), or None."""
    variants = gtin_variants(code)
    marks = ", ".join("?" * len(variants))
    row = conn.execute(
        f"SELECT {PRODUCT_COLUMNS} FROM {PRODUCT_FROM} WHERE c.gtin IN ({marks}) LIMIT 1",
        variants,
    ).fetchone()
    return Product.from_row(row) if row else None


def products_by_sku(conn: sqlite3.Connection, skus: list[str]) -> list[Product]:
    """The products for these SKUs, in the order given (unknown SKUs left out)."""
    if not skus:
        return []
    marks = ", ".join("?" * len(skus))
    rows = conn.execute(
        f"SELECT {PRODUCT_COLUMNS} FROM {PRODUCT_FROM} WHERE c.sku IN ({marks})", skus
    ).fetchall()
    found = {r[0]: Product.from_row(r) for r in rows}
    return [found[s] for s in skus if s in found]
