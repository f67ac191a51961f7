"""What an ingest notes about orders, in its own transaction (both backends).

Every valid `pickup.*` event, and an `order.placed` for pick-up, is indexed by its
order in `hq_order_events` and the order is marked for a recompute in
`hq_order_dirty`, so the order worker recomputes exactly the orders that changed
from exactly their events (hq/orders/tracker.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from hq.storage import EventRow

ORDER_TYPES = frozenset(
    {
        "order.placed",
        "pickup.checkin",
        "pickup.line",
        "pickup.ready",
        "pickup.handover",
        "pickup.no_show",
        "pickup.cancelled",
    }
)
_decode = msgspec.json.Decoder(dict).decode


def mark_order_events(cur: Any, p: str, rows: Sequence[EventRow]) -> None:
    """Index the order events among valid `rows` and mark their orders dirty."""
    found = []
    readies = []
    for r in rows:
        if r.type not in ORDER_TYPES:
            continue
        data = _decode(r.data)
        if r.type == "order.placed" and data.get("fulfilment") != "pickup":
            continue
        order = data.get("order")
        if isinstance(order, str) and order:
            found.append((r.store, r.seq, order))
            if r.type == "pickup.ready":
                readies.append((r.store, r.seq, order))
    if found:
        cur.executemany(
            f"INSERT INTO hq_order_events (store, seq, order_id) VALUES ({p}, {p}, {p})"
            " ON CONFLICT (store, seq) DO NOTHING",
            found,
        )
        cur.executemany(
            f"INSERT INTO hq_order_dirty (order_id) VALUES ({p})",
            sorted({(order,) for _, _, order in found}),
        )
    _mark_other_ready_hours(cur, p, readies)


def _mark_other_ready_hours(cur: Any, p: str, readies: list[tuple[str, int, str]]) -> None:
    """Mark dirty the hours of an order's other ready marks when one arrives.

    The feeds judge an order's *first* ready mark against its promised time; a mark
    that arrives late (a store's backlog drains behind its live events) can make a mark
    already counted a later one, in another hour.
    """
    hours: set[tuple[str, str]] = set()
    for store, seq, order in readies:
        cur.execute(
            "SELECT e.store, e.ts FROM hq_order_events o"
            " JOIN hq_events e ON e.store = o.store AND e.seq = o.seq"
            f" WHERE o.order_id = {p} AND e.type = 'pickup.ready'"
            f" AND NOT (e.store = {p} AND e.seq = {p})",
            (order, store, seq),
        )
        hours |= {(s, ts[:13]) for s, ts in cur.fetchall()}
    if hours:
        cur.executemany(f"INSERT INTO hq_dirty (store, hour) VALUES ({p}, {p})", sorted(hours))
