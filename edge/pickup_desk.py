"""The store's pick-up desk: picking, ready, check-in, hand-over and no-show expiry.

Every change is a compare-and-set in one `BEGIN IMMEDIATE` transaction on the store
database, and its event is inserted in that same transaction, so several screens (the
kiosk and one or two staff terminals, each a process of its own) can work on one
order: the first to commit wins, and the other is told why with a `PickupConflict`
(a line someone else just marked short, an order already handed over). Nothing is
written when a conflict is raised.

The clock is handed in (tests inject one), as is the store's time zone (pick-up-by
is the end of a local day).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from edge.clock import Clock
from edge.db import immediate
from edge.eventlog import EventStamper, insert_events
from edge.events import PickupCheckin, PickupHandover, PickupLine, PickupNoShow, PickupReady
from edge.pickup import close_out, pickup_by, staff_may_move, utc_iso
from edge.pickup_views import (
    OrderView,
    PutBack,
    due_by,
    open_orders,
    order_by_code,
    order_view,
    put_back,
    put_back_since,
)


class PickupConflict(Exception):
    """A change refused because the order is not (or no longer) as the screen showed it.

    `kind`: `unknown` (no such order), `ended` (collected, expired or cancelled),
    `changed` (a line is now `state`, set at another screen), `not_ready` (a line to
    hand over is not ready), `handed_over` (already collected, at another screen),
    `wrong_code` (the pick-up code does not match), `nothing` (no picked line to
    mark ready).
    """

    def __init__(self, kind: str, line: int | None = None, state: str | None = None) -> None:
        self.kind, self.line, self.state = kind, line, state
        where = f" (line {line}: {state})" if line is not None else ""
        super().__init__(f"{kind}{where}")


class PickupDesk:
    """Pick-up orders on one store database connection (autocommit, shared WAL file)."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        stamper: EventStamper,
        tz: ZoneInfo | str,
        device: str = "kiosk",
    ) -> None:
        self.conn = conn
        # An order that ends deletes the shopper's first name: overwrite the old bytes.
        conn.execute("PRAGMA secure_delete = ON")
        self.stamper = stamper
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        self.device = device

    @property
    def clock(self) -> Clock:
        """The clock events are stamped with; also the desk's idea of now."""
        return self.stamper.clock

    def now(self) -> datetime:
        """Now, as an aware UTC time from the injected clock."""
        return datetime.fromtimestamp(self.clock.now(), UTC)

    # -- reads ------------------------------------------------------------------------------

    def queue(self) -> list[OrderView]:
        """Open orders by promised time (the staff queue)."""
        return open_orders(self.conn)

    def order(self, order_id: str) -> OrderView | None:
        """One order with its lines and shelves."""
        return order_view(self.conn, order_id)

    def by_code(self, code: str) -> OrderView | None:
        """The order with this pick-up code."""
        return order_by_code(self.conn, code)

    def due_today(self) -> list[OrderView]:
        """Open orders whose pick-up-by ends today or has passed (the no-shows due)."""
        local = self.now().astimezone(self.tz)
        end = datetime.combine(local.date(), datetime.max.time(), tzinfo=self.tz)
        return due_by(self.conn, end)

    def put_back_today(self) -> list[PutBack]:
        """Lines put back since the start of the local day: to return to their shelves."""
        local = self.now().astimezone(self.tz)
        return put_back_since(self.conn, datetime.combine(local.date(), time(), tzinfo=self.tz))

    # -- writes -----------------------------------------------------------------------------

    def _emit(self, payload) -> None:
        insert_events(self.conn, [self.stamper.row(payload, self.device)])

    def _open(self, order_id: str) -> OrderView:
        view = order_view(self.conn, order_id)
        if view is None:
            raise PickupConflict("unknown")
        if view.ended is not None:
            raise PickupConflict("ended", state=view.ended)
        return view

    def _set_lines(self, order_id: str, lines: Sequence[int], state: str, stamp: str) -> None:
        self.conn.executemany(
            "UPDATE pickup_lines SET state = ?, updated = ? WHERE order_id = ? AND line = ?",
            [(state, stamp, order_id, n) for n in lines],
        )

    def set_line(
        self, order_id: str, line: int, expect: str, new: str, staff: str | None
    ) -> OrderView:
        """Mark a line picked or short, if it is still `expect` (what the screen showed)."""
        if not staff_may_move(expect, new):
            raise ValueError(f"staff cannot move a line from {expect} to {new}")
        with immediate(self.conn):
            view = self._open(order_id)
            current = {ln.line: ln.state for ln in view.lines}
            if line not in current:
                raise PickupConflict("unknown", line=line)
            if current[line] != expect:
                raise PickupConflict("changed", line=line, state=current[line])
            self._set_lines(order_id, [line], new, utc_iso(self.now()))
            self._emit(PickupLine(order=order_id, line=line, state=new, staff=staff))  # type: ignore[arg-type]
        return self._after(order_id)

    def mark_ready(self, order_id: str, expect: Mapping[int, str], staff: str | None) -> OrderView:
        """Move the picked lines to ready, if every line is as the screen showed it."""
        with immediate(self.conn):
            view = self._open(order_id)
            for ln in view.lines:
                if ln.line in expect and expect[ln.line] != ln.state:
                    raise PickupConflict("changed", line=ln.line, state=ln.state)
            picked = [ln.line for ln in view.lines if ln.state == "picked"]
            if not picked:
                raise PickupConflict("nothing")
            now = self.now()
            by = pickup_by(now, view.hold_days, self.tz)
            self._set_lines(order_id, picked, "ready", utc_iso(now))
            self.conn.execute(
                "UPDATE pickup_orders SET ready_at = ?, pickup_by = ? WHERE order_id = ?",
                (utc_iso(now), utc_iso(by), order_id),
            )
            promised = (
                view.promised_at.astimezone(self.tz).isoformat() if view.promised_at else None
            )
            self._emit(
                PickupReady(
                    order=order_id,
                    lines_ready=view.count("ready") + len(picked),
                    lines_total=len(view.lines),
                    promised_at=promised,
                    pickup_by=by.isoformat(),
                    staff=staff,
                )
            )
        return self._after(order_id)

    def checkin(self, code: str, via: str) -> OrderView | None:
        """The shopper says "I'm here" (scanned or typed code): None for no open order."""
        with immediate(self.conn):
            view = order_by_code(self.conn, code)
            if view is None or view.ended is not None:
                return view
            self.conn.execute(
                "UPDATE pickup_orders SET checkin_at = ? WHERE order_id = ?",
                (utc_iso(self.now()), view.order_id),
            )
            self._emit(PickupCheckin(order=view.order_id, by="shopper", via=via))  # type: ignore[arg-type]
        return self._after(view.order_id)

    def handover(
        self,
        order_id: str,
        code: str,
        lines: Sequence[int],
        staff: str | None,
        *,
        without_missing: bool = False,
        expect: Mapping[int, str] | None = None,
    ) -> OrderView:
        """Hand over these ready lines after checking the code the shopper showed.

        `without_missing`: the shopper takes these lines and the rest is not coming (not
        found, or not wanted after all): every other open line is put back and the order
        ends `collected`; the event names them in `missing`. Otherwise lines still open
        wait for a later visit (a partial hand-over). `expect`: the lines' states as the
        screen showed them; a line since changed elsewhere (a short line found and made
        ready at another terminal) refuses the hand-over rather than put it back.
        """
        with immediate(self.conn):
            view = self._open(order_id)
            if code.strip().upper() != view.code.upper():
                raise PickupConflict("wrong_code")
            current = {ln.line: ln.state for ln in view.lines}
            for n, shown in (expect or {}).items():
                if n in current and current[n] != shown:
                    raise PickupConflict("changed", line=n, state=current[n])
            if not lines:
                raise PickupConflict("nothing")
            for n in lines:
                state = current.get(n)
                if state == "collected":
                    raise PickupConflict("handed_over", line=n, state=state)
                if state != "ready":
                    raise PickupConflict("not_ready", line=n, state=state)
            now = self.now()
            self._set_lines(order_id, lines, "collected", utc_iso(now))
            left = close_out(current, lines)
            missing = left if without_missing else []
            if missing:
                put_back(self.conn, order_id, missing, utc_iso(now))
                left = []
            wait = (now - view.checkin_at).total_seconds() if view.checkin_at else None
            # The check-in belonged to this visit: a later visit for the rest checks in anew.
            self.conn.execute(
                "UPDATE pickup_orders SET collected_at = ?, checkin_at = NULL WHERE order_id = ?",
                (utc_iso(now), order_id),
            )
            if not left:
                self._end(order_id, "collected")
            self._emit(
                PickupHandover(
                    order=order_id,
                    lines=sorted(lines),
                    partial=bool(left),
                    missing=missing,
                    wait_s=None if wait is None else round(max(wait, 0.0), 3),
                    staff=staff,
                )
            )
        return self._after(order_id)

    def expire_due(self) -> list[str]:
        """Put back the lines of orders past their pick-up-by; one `pickup.no_show` each."""
        expired = []
        for view in due_by(self.conn, self.now()):
            with immediate(self.conn):
                fresh = order_view(self.conn, view.order_id)
                if fresh is None or fresh.ended is not None or fresh.pickup_by is None:
                    continue
                if fresh.pickup_by >= self.now():
                    continue
                back = [ln.line for ln in fresh.lines if ln.state in ("ready", "picked")]
                put_back(self.conn, view.order_id, None, utc_iso(self.now()))
                self._end(view.order_id, "collected" if fresh.count("collected") else "expired")
                self._emit(PickupNoShow(order=view.order_id, by="system", lines=back))
                expired.append(view.order_id)
        return expired

    def _end(self, order_id: str, how: str) -> None:
        # The order is over: the shopper's first name has done its job (personal data).
        self.conn.execute(
            "UPDATE pickup_orders SET ended = ?, first_name = '' WHERE order_id = ?",
            (how, order_id),
        )

    def _after(self, order_id: str) -> OrderView:
        view = order_view(self.conn, order_id)
        assert view is not None  # orders are never deleted while open
        return view
