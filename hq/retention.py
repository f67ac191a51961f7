"""Head office's retention: raw store events and what hangs on them are kept for
`privacy.event_retention_days` (default 400), the feeds for good.

`prune(db, days, now)` runs in the feed worker's housekeeping (`hq run`) and deletes,
in short transactions:

- **click & collect orders** that ended (or head office cancelled) before the cutoff,
  with their lines, pseudonyms and event index;
- **store events** and their **identified visits**, per store up to a *floor*: the
  highest seq received before the cutoff, found by bisecting the store's contiguous
  run below its watermark (`acked_through`, every seq there present). Seqs arrive in
  order, so the floor follows arrival; a gap filled late goes with its neighbours.
  The floor stays below the watermark's own event (the rollup reads it) and below the
  first event of any order still kept, so a kept order's state can be recomputed;
- **cleared alerts** and **dead letters** from before the cutoff.

A store's floor is kept in `hq_event_floor`. Both backends' `ingest` count an event at
or below it as a duplicate and store nothing (a store that re-sends its whole log, say
after a restore from backup, counts nothing twice). And the rollup treats days older than
the retention as final (`Rollup.final_after_days`): their buckets keep the figures they
had, instead of being recomputed from events that are no longer there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from edge.visits import format_ts
from hq.db import Db

CHUNK = 20_000  # events deleted in one transaction


@dataclass
class Pruned:
    """What one `prune` deleted."""

    events: int = 0
    visits: int = 0
    orders: int = 0
    alerts: int = 0
    dead_letters: int = 0


def cutoff_of(days: float, now: float) -> str:
    """The UTC time before which rows are past the retention period."""
    return format_ts(datetime.fromtimestamp(now, UTC) - timedelta(days=days))


def floors(db: Db) -> dict[str, int]:
    """Each store's pruned floor: its events at or below it are gone."""
    return {
        store: int(through) for store, through in db.q("SELECT store, through FROM hq_event_floor")
    }


def prune(db: Db, days: float, now: float, chunk: int = CHUNK) -> Pruned:
    """Delete what is past the retention period (see the module docstring)."""
    cutoff = cutoff_of(days, now)
    done = Pruned(orders=_prune_orders(db, cutoff))
    known = floors(db)
    for store, acked in db.q("SELECT store, acked_through FROM hq_stores ORDER BY store"):
        old = known.get(store, 0)
        new = _floor(db, store, old, int(acked), cutoff)
        while old < new:
            upto = min(new, old + chunk)
            with db.tx() as tx:
                done.events += _delete_range(tx, "hq_events", store, old, upto)
                done.visits += _delete_range(tx, "hq_visits", store, old, upto)
                tx.execute(
                    "INSERT INTO hq_event_floor (store, through, pruned_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (store) DO UPDATE SET through = excluded.through,"
                    " pruned_at = excluded.pruned_at",
                    (store, upto, format_ts(datetime.fromtimestamp(now, UTC))),
                )
            old = upto
    with db.tx() as tx:
        done.alerts = _count_delete(
            tx, "hq_alerts WHERE cleared_at IS NOT NULL AND cleared_at < ?", (cutoff,)
        )
        done.dead_letters = _count_delete(tx, "hq_dead_letters WHERE received_at < ?", (cutoff,))
    return done


def _floor(db: Db, store: str, old: int, acked: int, cutoff: str) -> int:
    """The highest seq in (old, acked - 1] received before `cutoff` (bisected), else old."""
    hi = acked - 1
    (first_order,) = db.q("SELECT min(seq) FROM hq_order_events WHERE store = ?", (store,))[0]
    if first_order is not None:
        hi = min(hi, int(first_order) - 1)
    lo = old
    while lo < hi:  # invariant: every seq <= lo may go; find the last one that may
        mid = (lo + hi + 1) // 2
        row = db.q("SELECT received_at FROM hq_events WHERE store = ? AND seq = ?", (store, mid))
        if row and row[0][0] < cutoff:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _delete_range(tx, table: str, store: str, after: int, upto: int) -> int:
    (n,) = tx.execute(
        f"SELECT count(*) FROM {table} WHERE store = ? AND seq > ? AND seq <= ?",
        (store, after, upto),
    )[0]
    tx.execute(
        f"DELETE FROM {table} WHERE store = ? AND seq > ? AND seq <= ?", (store, after, upto)
    )
    return int(n)


def _count_delete(tx, where: str, params: tuple) -> int:
    (n,) = tx.execute(f"SELECT count(*) FROM {where}", params)[0]
    tx.execute(f"DELETE FROM {where}", params)
    return int(n)


_ORDER_TABLES = (
    "hq_order_lines",
    "hq_order_keys",
    "hq_order_outbox",
    "hq_order_events",
    "hq_order_dirty",
    "hq_orders",
)


def _prune_orders(db: Db, cutoff: str) -> int:
    """Delete the orders that ended before `cutoff`, with everything kept about them."""
    ids = [
        (order_id,)
        for (order_id,) in db.q(
            "SELECT order_id FROM hq_orders WHERE (ended_at IS NOT NULL AND ended_at < ?)"
            " OR (status = 'cancelled' AND updated_at < ?)",
            (cutoff, cutoff),
        )
    ]
    for start in range(0, len(ids), 1000):
        part = ids[start : start + 1000]
        with db.tx() as tx:
            for table in _ORDER_TABLES:
                tx.executemany(f"DELETE FROM {table} WHERE order_id = ?", part)
    return len(ids)
