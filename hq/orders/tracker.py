"""Keeps each order's state at head office from its store's events (the order worker's step).

Ingest marks an order dirty when one of its events arrives (hq/orders/marks.py), and
an import or API change marks it too. `track` recomputes every dirty order whole from
its events (hq/orders/lifecycle.py), so arrival order and duplicates never matter, and
deletes exactly the marks it read, in one transaction.

A kiosk's `order.placed` for pick-up that head office does not know yet becomes an
order here, promised `kiosk_promise_h` after it was placed, and is routed to its
pick-up store like an imported one: also when that is the kiosk's own store, whose
kiosk records only the event (the staff queue is filled from `down/orders`; a store
that already has the order ignores the same version).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec

from edge.visits import format_ts, parse_ts
from hq.db import Db, Tx
from hq.facts import UTC_ZONE
from hq.orders.lifecycle import Lifecycle, Step, fold
from hq.orders.records import Line
from hq.orders.writer import ENDED, queue_order, write_lines

CHUNK = 2000
_decode = msgspec.json.Decoder(dict).decode


@dataclass(frozen=True)
class TrackSettings:
    """What kiosk orders get at head office."""

    hold_days: int = 7
    kiosk_promise_h: int = 48


def _zone(tx: Tx, store: str) -> ZoneInfo:
    rows = tx.execute("SELECT timezone FROM hq_store_registry WHERE store = ?", (store,))
    return ZoneInfo(rows[0][0]) if rows else UTC_ZONE


def _steps(tx: Tx, order_id: str) -> list[tuple[str, Step]]:
    """(store, Step) of every valid event indexed for the order."""
    return [
        (store, Step(int(seq), type_, ts, _decode(data)))
        for store, seq, type_, ts, data in tx.execute(
            "SELECT e.store, e.seq, e.type, e.ts, e.data FROM hq_order_events o"
            " JOIN hq_events e ON e.store = o.store AND e.seq = o.seq"
            " WHERE o.order_id = ? AND e.error IS NULL",
            (order_id,),
        )
    ]


def _kiosk_order(
    tx: Tx, order_id: str, steps: list[tuple[str, Step]], s: TrackSettings, now: str
) -> bool:
    """Create an order from its kiosk's order.placed; whether there was one to create from."""
    placed = [(store, st) for store, st in steps if st.type == "order.placed"]
    if not placed:
        return False  # pick-up events of an order placed before head office tracked orders
    origin, step = min(placed, key=lambda p: p[1].seq)
    d = step.data
    store = d.get("pickup_store") or origin
    promised = format_ts(parse_ts(step.ts) + timedelta(hours=s.kiosk_promise_h))
    tx.execute(
        "INSERT INTO hq_orders (order_id, store, origin, version, status, code, promised_at,"
        " first_name, hold_days, state, created_at, updated_at)"
        " VALUES (?, ?, ?, 1, 'placed', ?, ?, '', ?, 'preparing', ?, ?)"
        " ON CONFLICT (order_id) DO NOTHING",
        (order_id, store, origin, d.get("code") or "", promised, s.hold_days, now, now),
    )
    lines = tuple(
        Line(n, item["sku"], int(item["qty"])) for n, item in enumerate(d.get("lines") or [], 1)
    )
    write_lines(tx, order_id, lines)
    queue_order(tx, order_id, store, 1)
    return True


def _times(life: Lifecycle) -> tuple[str | None, ...]:
    return tuple(
        None if t is None else format_ts(t)
        for t in (
            life.ready_at,
            life.pickup_by,
            life.checked_in_at,
            life.ended_at,
            life.collected_at,
        )
    )


def update_order(tx: Tx, order_id: str, s: TrackSettings, now: str) -> bool:
    """Recompute one order's lines and state from its events; whether the order exists."""
    steps = _steps(tx, order_id)
    head = tx.execute(
        "SELECT store, status, hold_days, state, ready_at, pickup_by, checked_in_at, ended_at,"
        " collected_at, first_name FROM hq_orders WHERE order_id = ?",
        (order_id,),
    )
    if not head:
        if not _kiosk_order(tx, order_id, steps, s, now):
            return False
        return update_order(tx, order_id, s, now)
    store, status, hold_days, state, *old_times, first_name = head[0]
    lines = {
        int(n): st
        for n, st in tx.execute(
            "SELECT line, state FROM hq_order_lines WHERE order_id = ?", (order_id,)
        )
    }
    life = fold(
        lines,
        [st for st_store, st in steps if st_store == store and st.type != "order.placed"],
        cancelled_at_hq=status == "cancelled",
        hold_days=int(hold_days),
        tz=_zone(tx, store),
    )
    times = _times(life)
    # A first name is kept only while the order needs it (greeting, hand-over check).
    name = "" if life.state in ENDED else first_name
    if (life.state, *times, name) != (state, *old_times, first_name):
        tx.execute(
            "UPDATE hq_orders SET state = ?, ready_at = ?, pickup_by = ?, checked_in_at = ?,"
            " ended_at = ?, collected_at = ?, first_name = ?, updated_at = ? WHERE order_id = ?",
            (life.state, *times, name, now, order_id),
        )
    changed = [(st, order_id, n) for n, st in life.lines.items() if lines.get(n) != st]
    tx.executemany("UPDATE hq_order_lines SET state = ? WHERE order_id = ? AND line = ?", changed)
    return True


def track(db: Db, settings: TrackSettings, now: datetime) -> int:
    """Recompute the orders marked dirty (a chunk at a time); how many orders."""
    stamp = format_ts(now)
    done = 0
    while True:
        # Read first: an idle pass takes no write lock (ingest writes the same file).
        rows = db.q("SELECT id, order_id FROM hq_order_dirty ORDER BY id LIMIT ?", (CHUNK,))
        if not rows:
            return done
        with db.tx() as tx:
            for order_id in sorted({r[1] for r in rows}):
                update_order(tx, order_id, settings, stamp)
            tx.executemany("DELETE FROM hq_order_dirty WHERE id = ?", [(r[0],) for r in rows])
        done += len({r[1] for r in rows})
