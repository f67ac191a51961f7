"""Click & collect at head office: pick-up orders in, routed to their stores, their status.

- `accept(db, objects, rules)`: store orders sent by the web shop (`POST /api/v1/orders`);
  `hq import orders FILE` does the same from a file (hq/orders/intake.py).
- `order_status(db, order_id, lang)`: the shopper's plain-language status of an order
  (`hq order-status ID`, `GET /api/v1/orders/{id}/status`; hq/orders/status.py).
- `OrderWorker`: in `hq run`, sends new order versions to the stores and keeps each
  order's state from the stores' pickup events (hq/orders/worker.py).
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "accept": "hq.orders.intake",
    "OrderRules": "hq.orders.intake",
    "rules_from_config": "hq.orders.intake",
    "order_status": "hq.orders.status",
    "OrderStatus": "hq.orders.status",
}


def __getattr__(name: str) -> Any:
    """The public functions, imported when first used (ingest imports this package too)."""
    if name not in _EXPORTS:
        raise AttributeError(name)
    import importlib

    return getattr(importlib.import_module(_EXPORTS[name]), name)
