"""Reading pick-up orders from the store database: the staff queue, one order, by code.

Plain reads over `pickup_orders` and `pickup_lines` (with the shelf from the catalog),
returning frozen views; `edge.pickup_desk` writes. Times are aware UTC datetimes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from edge.pickup import OrderState, OrderSummary, order_state, parse_utc, summarise, utc_iso


@dataclass(frozen=True)
class LineView:
    """One line of an order, as the picking list shows it."""

    line: int
    sku: str
    name: str
    qty: int
    state: str
    shelf: str = ""


@dataclass(frozen=True)
class OrderView:
    """One pick-up order with its lines and times."""

    order_id: str
    code: str
    version: int
    first_name: str
    lines: tuple[LineView, ...]
    promised_at: datetime | None = None
    delay_note: str = ""
    hold_days: int = 7
    ready_at: datetime | None = None
    pickup_by: datetime | None = None
    checkin_at: datetime | None = None
    collected_at: datetime | None = None
    ended: str | None = None

    @property
    def state(self) -> OrderState:
        """The order's state from its lines (edge.pickup)."""
        return order_state([ln.state for ln in self.lines], cancelled=self.ended == "cancelled")

    @property
    def summary(self) -> OrderSummary:
        """What the shopper's text needs (edge.pickup.shopper_text)."""
        return summarise(
            [ln.state for ln in self.lines],
            cancelled=self.ended == "cancelled",
            pickup_by=self.pickup_by,
            collected_at=self.collected_at,
        )

    def count(self, state: str) -> int:
        """How many lines are in `state`."""
        return sum(1 for ln in self.lines if ln.state == state)

    @property
    def checked_in(self) -> bool:
        """The shopper said "I'm here" and the order is still open."""
        return self.checkin_at is not None and self.ended is None

    def overdue(self, now: datetime) -> bool:
        """Past its promised time and not all ready yet."""
        return (
            self.promised_at is not None
            and now > self.promised_at
            and self.state in ("preparing", "partly_ready")
        )


_ORDER_COLS = (
    "order_id, code, version, first_name, promised_at, delay_note, hold_days, ready_at,"
    " pickup_by, checkin_at, collected_at, ended"
)


def _lines(conn: sqlite3.Connection, order_ids: list[str]) -> dict[str, list[LineView]]:
    out: dict[str, list[LineView]] = {o: [] for o in order_ids}
    if not order_ids:
        return out
    marks = ",".join("?" * len(order_ids))
    rows = conn.execute(
        "SELECT l.order_id, l.line, l.sku, coalesce(nullif(l.name, ''), c.name, l.sku), l.qty,"
        f" l.state, coalesce(c.shelf, '') FROM pickup_lines l LEFT JOIN catalog c ON c.sku = l.sku"
        f" WHERE l.order_id IN ({marks}) ORDER BY l.order_id, l.line",
        order_ids,
    )
    for order_id, *rest in rows:
        out[order_id].append(LineView(*rest))
    return out


def _views(conn: sqlite3.Connection, where: str, args: tuple) -> list[OrderView]:
    rows = conn.execute(f"SELECT {_ORDER_COLS} FROM pickup_orders WHERE {where}", args).fetchall()
    lines = _lines(conn, [r[0] for r in rows])
    return [
        OrderView(
            order_id=r[0],
            code=r[1] or "",
            version=r[2],
            first_name=r[3] or "",
            lines=tuple(lines[r[0]]),
            promised_at=parse_utc(r[4]),
            delay_note=r[5] or "",
            hold_days=r[6] or 7,
            ready_at=parse_utc(r[7]),
            pickup_by=parse_utc(r[8]),
            checkin_at=parse_utc(r[9]),
            collected_at=parse_utc(r[10]),
            ended=r[11],
        )
        for r in rows
    ]


def order_view(conn: sqlite3.Connection, order_id: str) -> OrderView | None:
    """One order by id, or None."""
    found = _views(conn, "order_id = ?", (order_id,))
    return found[0] if found else None


def order_by_code(conn: sqlite3.Connection, code: str) -> OrderView | None:
    """The order with this pick-up code (case and spaces as typed do not matter), or None."""
    found = _views(conn, "upper(code) = ?", (code.strip().upper(),))
    # Several versions of a code cannot exist (one row per order); an open one wins.
    found.sort(key=lambda v: v.ended is not None)
    return found[0] if found else None


def open_orders(conn: sqlite3.Connection) -> list[OrderView]:
    """Every open order (not collected, expired or cancelled), by promised time."""
    views = _views(conn, "ended IS NULL", ())
    never = datetime.max.replace(tzinfo=UTC)
    return sorted(views, key=lambda v: (v.promised_at or never, v.order_id))


def due_by(conn: sqlite3.Connection, until: datetime) -> list[OrderView]:
    """Open orders whose pick-up-by is at or before `until` (no-shows due), earliest first."""
    views = _views(
        conn, "ended IS NULL AND pickup_by IS NOT NULL AND pickup_by <= ?", (utc_iso(until),)
    )
    return sorted(views, key=lambda v: (v.pickup_by, v.order_id))


@dataclass(frozen=True)
class PutBack:
    """A line that went back to stock (no-show or cancellation): where it goes."""

    code: str
    line: LineView


def put_back(
    conn: sqlite3.Connection, order_id: str, lines: Sequence[int] | None, stamp: str
) -> None:
    """Put these lines (None: every open line) back; those in hand are marked to shelve."""
    where = "state NOT IN ('collected', 'put_back')"
    params: list = [stamp, order_id]
    if lines is not None:
        where += f" AND line IN ({', '.join('?' * len(lines))})"
        params += list(lines)
    conn.execute(
        "UPDATE pickup_lines SET state = 'put_back', to_shelf = state IN ('picked', 'ready'),"
        f" updated = ? WHERE order_id = ? AND {where}",
        params,
    )


def put_back_since(conn: sqlite3.Connection, since: datetime) -> list[PutBack]:
    """Lines put back since `since` that were in hand, by order code and line, to shelve."""
    rows = conn.execute(
        "SELECT o.code, l.line, l.sku, coalesce(nullif(l.name, ''), c.name, l.sku), l.qty,"
        " l.state, coalesce(c.shelf, '') FROM pickup_lines l"
        " JOIN pickup_orders o ON o.order_id = l.order_id"
        " LEFT JOIN catalog c ON c.sku = l.sku"
        " WHERE l.state = 'put_back' AND l.to_shelf = 1 AND l.updated >= ? ORDER BY o.code, l.line",
        (utc_iso(since),),
    )
    return [PutBack(code or "", LineView(*rest)) for code, *rest in rows]
