"""What each store is sent (pure): the catalog as it is, and stock seen from that store."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from hq.publish.rows import ONLINE, StockRecord
from sync import wire

# sku -> {store id or "online": quantity}
Quantities = dict[str, dict[str, int]]


def quantities(records: Iterable[StockRecord]) -> Quantities:
    """The stock feed as sku -> where -> quantity."""
    out: Quantities = {}
    for r in records:
        out.setdefault(r.sku, {})[r.store] = r.quantity
    return out


def store_stock(
    store: str, stock: Quantities, nearby: list[tuple[str, float]]
) -> list[wire.StockItem]:
    """One store's stock snapshot: its own count, online, and its nearest stores'.

    A product the feed lists somewhere but not for this store has 0 here (the local
    inventory feed leaves out what a store does not hold). Other stores are listed
    nearest first and only where they hold some: the kiosk shows nothing for a 0.
    """
    return [
        wire.StockItem(
            sku=sku,
            here=where.get(store, 0),
            online=where.get(ONLINE, 0),
            other_stores={s: q for s, _ in nearby if (q := where.get(s, 0)) > 0},
        )
        for sku, where in sorted(stock.items())
    ]


def distances(nearby: list[tuple[str, float]]) -> dict[str, float]:
    """The `km` of a stock part: each nearby store's distance, to 0.1 km."""
    return {s: round(km, 1) for s, km in nearby}


def next_version(now_ms: int, handed_out: Mapping[str, int]) -> int:
    """A snapshot version above every one handed out before, from the time when it can be.

    The time keeps versions readable ("published at"); the max keeps them increasing
    when the clock steps back or two publishes share a millisecond.
    """
    return max([now_ms, *(v + 1 for v in handed_out.values())])
