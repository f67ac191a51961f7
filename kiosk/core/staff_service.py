"""Staff mode's data source: sign-in, the pick-up queue and its actions, the store today.

Blocking calls, made only from workers (like `KioskService`), on a connection of its
own to the store database. Pick-up changes go through `edge.pickup_desk` (compare-
and-set transactions with their events); a `PickupConflict` reaches the screen,
which tells staff what another screen did. Easy to drive from a test without Textual:
`StaffService(...).sign_in("4821")`, then `.queue()`, `.set_line(...)`, `.handover(...)`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from edge.config import StoreConfig
from edge.db import connect, open_store_db
from edge.eventlog import EventStamper
from edge.pickup_desk import PickupDesk
from edge.pickup_views import OrderView, PutBack
from edge.status import store_status
from edge.visits import day_bounds, format_ts
from kiosk.core.staff import SignedIn, SignInResult, StaffRegistry


class NotSignedIn(RuntimeError):
    """A staff action without a signed-in staff member (staff mode has ended)."""


@dataclass(frozen=True)
class StoreToday:
    """ "The store today": visitors and conversion, device health, sync backlog."""

    visitors: float
    identified: int
    kiosk_orders: int
    pickups_collected: int  # orders handed over in full (the last hand-over of an order)
    devices: tuple[tuple[str, str, str], ...]  # (name, state, detail)
    outbox: int
    oldest_unsent_s: float | None
    uplink: str  # connected, offline, stale, not_started, disabled

    @property
    def conversion(self) -> float | None:
        """Kiosk orders and collected pick-ups per visitor (the till's receipts are at HQ)."""
        if self.visitors <= 0:
            return None
        return (self.kiosk_orders + self.pickups_collected) / self.visitors


class StaffService:
    """Everything staff screens read and change, for one terminal."""

    def __init__(self, cfg: StoreConfig, *, key: bytes, stamper: EventStamper, device: str) -> None:
        db = cfg.database
        open_store_db(db.path, busy_timeout_ms=db.busy_timeout_ms).close()
        self.cfg = cfg
        self.conn = connect(db.path, busy_timeout_ms=db.busy_timeout_ms)
        self.registry = StaffRegistry(self.conn, key=key, store=cfg.store.id)
        self.desk = PickupDesk(self.conn, stamper=stamper, tz=cfg.store.timezone, device=device)
        self.staff: SignedIn | None = None
        self._lock = threading.Lock()

    @property
    def tz(self) -> str:
        """The store's time zone (pick-up-by, the shopper's texts)."""
        return self.cfg.store.timezone

    def _who(self) -> str:
        if self.staff is None:
            raise NotSignedIn("staff mode has ended")
        return self.staff.pseudonym

    def sign_in(self, pin: str) -> SignInResult:
        """Check a PIN (5 wrong ones lock staff mode for 5 minutes)."""
        clock = self.desk.clock
        now = clock.now()
        with self._lock:
            result = self.registry.sign_in(pin, now, clock.iso(now))
        self.staff = result if isinstance(result, SignedIn) else None
        return result

    def sign_out(self) -> None:
        """Leave staff mode: later actions are refused until the next sign-in."""
        self.staff = None

    def queue(self) -> list[OrderView]:
        """Open orders by promised time."""
        with self._lock:
            return self.desk.queue()

    def order(self, order_id: str) -> OrderView | None:
        """One order with its picking list."""
        with self._lock:
            return self.desk.order(order_id)

    def due_today(self) -> list[OrderView]:
        """No-shows due today (pick-up-by today or passed)."""
        with self._lock:
            return self.desk.due_today()

    def put_back_today(self) -> list[PutBack]:
        """Lines that went back to stock today (to return to their shelves)."""
        with self._lock:
            return self.desk.put_back_today()

    def set_line(self, order_id: str, line: int, expect: str, new: str) -> OrderView:
        """Mark a line picked or short (raises PickupConflict)."""
        with self._lock:
            return self.desk.set_line(order_id, line, expect, new, self._who())

    def mark_ready(self, order_id: str, expect: Mapping[int, str]) -> OrderView:
        """Picked lines become ready (raises PickupConflict)."""
        with self._lock:
            return self.desk.mark_ready(order_id, expect, self._who())

    def handover(
        self,
        order_id: str,
        code: str,
        lines: Sequence[int],
        without_missing: Mapping[int, str] | None = None,
    ) -> OrderView:
        """Hand over ready lines after checking the code (raises PickupConflict).

        `without_missing`: the lines' states as the screen showed them; the lines not
        handed over are not coming and go back, and the order ends collected.
        """
        with self._lock:
            return self.desk.handover(
                order_id,
                code,
                lines,
                self._who(),
                without_missing=without_missing is not None,
                expect=without_missing,
            )

    def store_today(self) -> StoreToday:
        """Today's visitors, kiosk orders and collected pick-ups, devices and backlog."""
        status: dict[str, Any] = store_status(self.cfg, self.desk.clock)
        counts = self._counts(status["day"])
        return StoreToday(
            visitors=status["visitors"],
            identified=status["identified_visits"],
            kiosk_orders=counts.get("order.placed", 0),
            pickups_collected=counts.get("pickup.handover", 0),
            devices=tuple(
                (name, d.get("state", "unknown"), d.get("detail", ""))
                for name, d in status["devices"].items()
            ),
            outbox=status["outbox"],
            oldest_unsent_s=status["oldest_unsent_s"],
            uplink=status["uplink_state"],
        )

    def _counts(self, day: str) -> dict[str, int]:
        lo, hi = day_bounds(date.fromisoformat(day), ZoneInfo(self.tz))
        with self._lock:
            rows = self.conn.execute(
                "SELECT type, count(*) FROM events WHERE (type = 'order.placed' OR"
                " (type = 'pickup.handover' AND NOT coalesce(json_extract(data, '$.partial'), 0)))"
                " AND ts >= ? AND ts < ? GROUP BY type",
                (format_ts(lo), format_ts(hi)),
            ).fetchall()
        return dict(rows)

    def close(self) -> None:
        """Release the connection."""
        self.conn.close()
