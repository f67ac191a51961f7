"""Where a product can be had: here, in the nearest stores, online; and honest scarcity.

The figures are head office's real stock counts. A low-stock note is shown only when
the count here is above zero and below the configured threshold: inventing scarcity
("only 2 left!") is unlawful under EU consumer rules, so nothing here rounds, guesses
or shows a note without a real count behind it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from kiosk.core.products import StockFigures

Badge = Literal["here", "nearby", "online", "sold_out", "unknown"]


@dataclass(frozen=True)
class NearbyStock:
    """Stock in another store; `km` only when the distance is known."""

    store: str
    quantity: int
    km: float | None = None


@dataclass(frozen=True)
class Availability:
    """What the product page and the search badge show."""

    here: int | None
    online: int
    nearby: tuple[NearbyStock, ...]
    # The real count here when it is low enough to mention; None otherwise.
    low_stock: int | None

    @property
    def badge(self) -> Badge:
        """One word for a search result: where it can be had, best first."""
        if self.here is None:
            return "unknown"
        if self.here > 0:
            return "here"
        if any(n.quantity > 0 for n in self.nearby):
            return "nearby"
        if self.online > 0:
            return "online"
        return "sold_out"

    @property
    def in_stock_anywhere(self) -> bool:
        """Whether the shopper can get it here, in a nearby store or online."""
        return self.badge in ("here", "nearby", "online")


def availability(
    stock: StockFigures,
    *,
    low_stock_below: int,
    nearby_max: int = 5,
    distances: Mapping[str, float] | None = None,
) -> Availability:
    """Availability from stock figures; nearby stores nearest first (head office's order
    when no distances are known), at most `nearby_max` of them."""
    distances = distances or {}
    nearby = [NearbyStock(store, qty, distances.get(store)) for store, qty in stock.other_stores]
    if distances:
        nearby.sort(key=lambda n: (n.km is None, n.km if n.km is not None else 0.0))
    here = stock.here
    low = here if here is not None and 0 < here < low_stock_below else None
    return Availability(here, stock.online, tuple(nearby[:nearby_max]), low)
