"""Sends pick-up orders to their stores on `touchpoint/v1/{store}/down/orders` (QoS 1).

`hq_order_outbox` holds, per order, the version still to send; an import, an API call
or a kiosk order queues it in the transaction that made it. `publish_outbox` sends the
current content of each queued order, a store's orders together in messages of at most
256 KiB, and removes a row only once the broker has acknowledged (PUBACK) the message
with that version or a newer one: an order imported while head office's broker link or
`hq run` is down waits here. The broker keeps the message for a store that is offline
in the store's persistent session.

A store that comes back (online with a new boot, or online again after being seen
offline) is sent again every order of it that has not ended, in case its session
expired meanwhile: the store ignores a version it already has.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from edge.visits import format_ts
from hq.db import Db
from hq.orders.writer import Stored, stored_orders
from sync import wire
from sync.downlink import split_items

Publish = Callable[[str, bytes, bool], bool]  # (topic, payload, retain) -> broker acked
RESEND_DAYS = 60  # orders older than this are not sent again to a returning store
_ENVELOPE = 64  # {"v":1,"orders":[…]} around the orders


def pickup_order(order_id: str, s: Stored) -> wire.PickupOrder:
    """The order as its store receives it."""
    return wire.PickupOrder(
        order=order_id,
        version=s.version,
        status="cancelled" if s.status == "cancelled" else "placed",
        code=s.code,
        lines=[wire.OrderLine(sku=ln.sku, qty=ln.qty, line=ln.line) for ln in s.lines],
        promised_at=s.promised_at,
        first_name="" if s.ended else s.first_name,
        hold_days=s.hold_days,
    )


def publish_outbox(db: Db, publish: Publish, limit: int = 2000) -> int:
    """Send queued order versions, store by store; how many orders the broker acknowledged."""
    queued = db.q(
        "SELECT store, order_id, version FROM hq_order_outbox ORDER BY store, order_id LIMIT ?",
        (limit,),
    )
    by_store: dict[str, list[str]] = {}
    for store, order_id, _version in queued:
        by_store.setdefault(store, []).append(order_id)
    sent = 0
    for store, ids in by_store.items():
        stored = stored_orders(db, ids)
        orders = [pickup_order(oid, stored[oid]) for oid in ids if oid in stored]
        for part in split_items(orders, part_items=500, max_bytes=wire.MAX_BATCH_BYTES - _ENVELOPE):
            payload = wire.encode(wire.OrdersUpdate(v=1, orders=part))
            if not publish(wire.topic(store, "down", "orders"), payload, False):
                return sent  # the broker did not take it: stays queued for the next pass
            with db.tx() as tx:
                tx.executemany(
                    "DELETE FROM hq_order_outbox WHERE order_id = ? AND version <= ?",
                    [(o.order, o.version) for o in part],
                )
            sent += len(part)
        gone = [oid for oid in ids if oid not in stored]
        if gone:  # never stored (cannot happen through the writer): do not retry forever
            with db.tx() as tx:
                tx.executemany(
                    "DELETE FROM hq_order_outbox WHERE order_id = ?", [(g,) for g in gone]
                )
    return sent


def requeue_open(db: Db, store: str, now: datetime) -> int:
    """Queue every order of `store` that has not ended (a store came back); how many."""
    since = format_ts(now - timedelta(days=RESEND_DAYS))
    rows = db.q(
        "SELECT order_id, version FROM hq_orders WHERE store = ? AND ended_at IS NULL"
        " AND created_at >= ?",
        (store, since),
    )
    if rows:
        with db.tx() as tx:
            tx.executemany(
                "INSERT INTO hq_order_outbox (order_id, store, version) VALUES (?, ?, ?)"
                " ON CONFLICT (order_id) DO NOTHING",
                [(oid, store, int(v)) for oid, v in rows],
            )
    return len(rows)


class Returns:
    """Notices stores coming back (online with a boot not seen online before, or after offline)."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[bool, str | None]] = {}

    def came_back(self, db: Db) -> list[str]:
        """Stores online now that were not online (with this boot) when last looked at."""
        back = []
        for store, online, boot in db.q("SELECT store, online, boot_id FROM hq_stores"):
            now = (bool(online), boot)
            if now[0] and self._seen.get(store) != now:
                back.append(store)
            self._seen[store] = now
        return back
