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
    for r in rows:
        if r.type not in ORDER_TYPES:
            continue
        data = _decode(r.data)
        if r.type == "order.placed" and data.get("fulfilment") != "pickup":
            continue
        order = data.get("order")
        if isinstance(order, str) and order:
            found.append((r.store, r.seq, order))
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
