"""Pick-up orders from head office into the store database, with their lines.

Called by the downlink (sync/downlink.py) for each `down/orders` message; head
office's structs are turned into `OrderIn` there, so this module needs no wire
import. Each order is applied in its own `BEGIN IMMEDIATE` transaction, together
with the event it causes, so a staff terminal never sees half an order and an
event is recorded exactly when its change is:

- a new order: its lines, all `to_pick`;
- a newer version of an order nobody has started picking: its lines replaced;
  once picking started only the promised time, the delay note, the first name and
  the hold days change (the store never takes line state from head office);
- `cancelled`: every open line is put back, the order ends, its first name is
  deleted, and `pickup.cancelled` names the lines that had been picked (they go back
  to the shelf). Not yet picked: the order is simply put away;
- a version at or below the stored one changes nothing (replays, reordering).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime

from edge.db import immediate
from edge.eventlog import EventStamper, insert_events
from edge.events import PickupCancelled
from edge.pickup import LineNumberError, line_numbers, utc_iso
from edge.pickup_views import put_back

log = logging.getLogger(__name__)

DEVICE = "downlink"  # the device name on events the downlink records


@dataclass(frozen=True)
class LineIn:
    """One line of an order as head office sent it (`line` None: numbered by position)."""

    sku: str
    qty: int
    name: str = ""
    line: int | None = None


@dataclass(frozen=True)
class OrderIn:
    """A pick-up order as head office sent it."""

    order: str
    version: int
    status: str
    code: str = ""
    lines: tuple[LineIn, ...] = ()
    promised_at: str = ""
    delay_note: str = ""
    first_name: str = ""
    hold_days: int = 7


class OrderRefused(ValueError):
    """An order the store cannot use; the message is the reason (never personal data)."""


def parse_promised(text: str) -> str:
    """Head office's promised time, normalised to UTC; '' stays '' (no promise)."""
    if not text:
        return ""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise OrderRefused(f"promised_at is not an ISO-8601 time: {text!r}") from None
    if moment.tzinfo is None:
        raise OrderRefused("promised_at has no UTC offset")
    return utc_iso(moment)


def apply_order(conn: sqlite3.Connection, o: OrderIn, stamper: EventStamper) -> str:
    """Apply one order; returns what happened (new, replaced, kept_lines, cancelled, stale).

    Raises OrderRefused (nothing written) for an order the store cannot use.
    """
    try:
        numbers = line_numbers([ln.line for ln in o.lines])
    except LineNumberError as exc:
        raise OrderRefused(str(exc)) from None
    promised = parse_promised(o.promised_at)
    stamp = utc_iso(datetime.fromtimestamp(stamper.clock.now(), UTC))
    # A cancellation deletes the shopper's first name: overwrite it, not just free it
    # (as edge/personal.py does for contact details).
    conn.execute("PRAGMA secure_delete = ON")
    try:
        with immediate(conn):
            return _apply(conn, o, numbers, promised, stamp, stamper)
    finally:
        conn.execute("PRAGMA secure_delete = OFF")


def _apply(
    conn: sqlite3.Connection,
    o: OrderIn,
    numbers: list[int],
    promised: str,
    stamp: str,
    stamper: EventStamper,
) -> str:
    row = conn.execute(
        "SELECT version, ended FROM pickup_orders WHERE order_id = ?", (o.order,)
    ).fetchone()
    if row is not None and o.version <= row[0]:
        return "stale"
    cancelled = o.status == "cancelled"
    # The m003 column, kept for readers of the order as head office sent it.
    lines_json = json.dumps(
        [{"line": n, "sku": ln.sku, "qty": ln.qty} for n, ln in zip(numbers, o.lines, strict=True)]
    )
    conn.execute(
        "INSERT INTO pickup_orders (order_id, version, status, code, lines, promised_at, delay_note,"
        " updated, first_name, hold_days) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT(order_id) DO UPDATE SET version = excluded.version,"
        " status = excluded.status, code = excluded.code, promised_at = excluded.promised_at,"
        " delay_note = excluded.delay_note, updated = excluded.updated,"
        " first_name = CASE WHEN pickup_orders.ended IS NULL THEN excluded.first_name ELSE '' END,"
        " hold_days = excluded.hold_days",
        (
            o.order,
            o.version,
            o.status,
            o.code,
            lines_json,
            promised,
            o.delay_note,
            stamp,
            "" if cancelled else o.first_name,
            o.hold_days,
        ),
    )
    if row is not None and row[1] is not None:
        return "stale"  # an order that ended stays ended; only its record is updated
    if cancelled:
        return _cancel(conn, o.order, row is not None, stamp, stamper)
    started = conn.execute(
        "SELECT 1 FROM pickup_lines WHERE order_id = ? AND state != 'to_pick' LIMIT 1", (o.order,)
    ).fetchone()
    if started:
        log.warning(
            "order %s changed at head office after picking started: its lines are kept", o.order
        )
        return "kept_lines"
    conn.execute("DELETE FROM pickup_lines WHERE order_id = ?", (o.order,))
    conn.executemany(
        "INSERT INTO pickup_lines (order_id, line, sku, qty, name, state, updated)"
        " VALUES (?, ?, ?, ?, ?, 'to_pick', ?)",
        [
            (o.order, n, ln.sku, ln.qty, ln.name, stamp)
            for n, ln in zip(numbers, o.lines, strict=True)
        ],
    )
    return "new" if row is None else "replaced"


def _cancel(
    conn: sqlite3.Connection, order: str, known: bool, stamp: str, stamper: EventStamper
) -> str:
    picked = [
        r[0]
        for r in conn.execute(
            "SELECT line FROM pickup_lines WHERE order_id = ? AND state IN ('picked', 'ready')"
            " ORDER BY line",
            (order,),
        )
    ]
    put_back(conn, order, None, stamp)
    conn.execute(
        "UPDATE pickup_orders SET ended = 'cancelled', first_name = '' WHERE order_id = ?",
        (order,),
    )
    if known:  # an order the store never had needs no event: nothing happened here
        payload = PickupCancelled(order=order, by="system", lines=picked)
        insert_events(conn, [stamper.row(payload, DEVICE)])
    return "cancelled"
