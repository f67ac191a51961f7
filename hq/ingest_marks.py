"""What an ingest writes beside the events, in the same transaction (both backends).

- `hq_dirty`: every (store, UTC hour) the rows touch, so the rollup recomputes only
  those buckets (hq/rollup.py). Distinct per call; no unique key, so ingesters sharing
  a store never wait on each other's marks.
- `hq_visits`: one row per identified visit with its pseudonym (taken out of the
  event's data by hq/triage.py).
- `hq_changes` ('step', store) for a `clock.step`: the rollup re-bases that boot's
  earlier events and recomputes the hours they move out of and into.
- `hq_device_health`: each device's newest `device.status` (by seq, so a resent older
  one never overwrites it), for the store status (hq/status.py).
- `hq_order_events`, `hq_order_dirty`: pick-up order events by order, for the order
  worker (hq/orders/marks.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hq.orders.marks import mark_order_events
from hq.storage import EventRow


def mark_ingested(cur: Any, p: str, rows: Sequence[EventRow], received_at: str) -> None:
    """Write the dirty hours, visits and clock-step changes of `rows` with cursor `cur`."""
    valid = [r for r in rows if r.error is None]
    hours = sorted({(r.store, r.ts[:13]) for r in valid})
    if hours:
        cur.executemany(f"INSERT INTO hq_dirty (store, hour) VALUES ({p}, {p})", hours)
    visits = [
        (r.store, r.seq, r.ts, r.key_id, r.pseudonym, received_at)
        for r in valid
        if r.pseudonym is not None and r.key_id is not None
    ]
    if visits:
        cur.executemany(
            "INSERT INTO hq_visits (store, seq, ts, key_id, pseudonym, received_at)"
            f" VALUES ({p}, {p}, {p}, {p}, {p}, {p}) ON CONFLICT (store, seq) DO NOTHING",
            visits,
        )
    health = [(r.store, r.device, r.seq, r.ts, r.data) for r in valid if r.type == "device.status"]
    if health:
        cur.executemany(
            "INSERT INTO hq_device_health (store, device, seq, ts, data)"
            f" VALUES ({p}, {p}, {p}, {p}, {p}) ON CONFLICT (store, device) DO UPDATE SET"
            " seq = excluded.seq, ts = excluded.ts, data = excluded.data"
            " WHERE excluded.seq > hq_device_health.seq",
            health,
        )
    for store in sorted({r.store for r in valid if r.type == "clock.step"}):
        cur.execute(
            f"INSERT INTO hq_changes (kind, key) VALUES ('step', {p}) ON CONFLICT DO NOTHING",
            (store,),
        )
    mark_order_events(cur, p, valid)
