"""In-stock alternatives for a product that is sold out here.

Candidates are head office's own `alternatives` for the product, then products of
the same category at a similar price (within `price_band` of it). Only what can be
had is offered, available here first, then by how close the price is.
"""

from __future__ import annotations

import sqlite3

from kiosk.core.availability import availability
from kiosk.core.products import PRODUCT_COLUMNS, PRODUCT_FROM, Product, products_by_sku

CANDIDATES = 40


def alternatives(
    conn: sqlite3.Connection,
    product: Product,
    *,
    limit: int = 3,
    price_band: float = 0.3,
    low_stock_below: int = 5,
) -> list[Product]:
    """Up to `limit` in-stock alternatives, available here first, then nearest in price."""
    low = int(product.price_cents * (1 - price_band))
    high = int(product.price_cents * (1 + price_band))
    rows = conn.execute(
        f"SELECT {PRODUCT_COLUMNS} FROM {PRODUCT_FROM}"
        " WHERE c.category = ? AND c.sku != ? AND c.price_cents BETWEEN ? AND ?"
        " ORDER BY coalesce(s.here, 0) > 0 DESC, abs(c.price_cents - ?) LIMIT ?",
        (product.category, product.sku, low, high, product.price_cents, CANDIDATES),
    ).fetchall()
    named = [p for p in products_by_sku(conn, list(product.alternatives)) if p.sku != product.sku]
    similar = [Product.from_row(r) for r in rows]
    seen: set[str] = set()
    pool: list[Product] = []
    for p in named + similar:
        if p.sku in seen:
            continue
        seen.add(p.sku)
        if availability(p.stock, low_stock_below=low_stock_below).in_stock_anywhere:
            pool.append(p)

    def order(p: Product) -> tuple:
        here = (p.stock.here or 0) > 0
        return (
            not here,
            p.sku not in product.alternatives,
            abs(p.price_cents - product.price_cents),
        )

    return sorted(pool, key=order)[:limit]
