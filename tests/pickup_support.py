"""Click & collect test helpers: a settable clock, and orders fed through the real downlink."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from edge.clock import Clock
from edge.db import connect, open_store_db
from edge.eventlog import EventStamper
from edge.pickup_desk import PickupDesk
from sync import wire
from sync.downlink import DownlinkApplier

TZ = "Europe/Amsterdam"


class SetClock(Clock):
    """A wall clock the test sets (and moves); always NTP-synced."""

    def __init__(self, when: datetime) -> None:
        super().__init__()
        self.t = when.timestamp()

    def now(self) -> float:
        return self.t

    def synced(self) -> bool:
        return True

    def set(self, when: datetime) -> None:
        """Move the clock to `when`."""
        self.t = when.timestamp()


def order(
    order_id: str = "W-1",
    *,
    version: int = 1,
    status: str = "placed",
    lines: int = 3,
    promised: str = "2025-06-07T12:00:00+02:00",
    first_name: str = "Anna",
    hold_days: int = 7,
) -> wire.PickupOrder:
    """A web-shop order of `lines` lines as head office sends it."""
    return wire.PickupOrder(
        order=order_id,
        version=version,
        status=status,  # type: ignore[arg-type]
        code=f"TPO-{order_id.replace('-', '')}XYZ",
        lines=[
            wire.OrderLine(line=n, sku=f"SKU-{n}", qty=1, name=f"Product {n}")
            for n in range(1, lines + 1)
        ],
        promised_at=promised,
        first_name=first_name,
        hold_days=hold_days,
    )


def send(conn: sqlite3.Connection, applier: DownlinkApplier, *orders: wire.PickupOrder) -> None:
    """Apply a real `down/orders` payload through the store's downlink applier."""
    applier.handle(conn, "orders", wire.encode(wire.OrdersUpdate(v=1, orders=list(orders))))


def desk(db: Path, clock: Clock, device: str = "staff-1") -> PickupDesk:
    """A pick-up desk on its own connection to the store database (one screen)."""
    open_store_db(db).close()
    return PickupDesk(connect(db), stamper=EventStamper(clock, "boot"), tz=TZ, device=device)


def events(db: Path, prefix: str = "pickup.") -> list[tuple[str, dict]]:
    """The store's events whose type starts with `prefix`, in seq order."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT type, data FROM events WHERE type LIKE ? ORDER BY seq", (prefix + "%",)
        ).fetchall()
    finally:
        conn.close()
    return [(t, json.loads(d)) for t, d in rows]


def at(text: str) -> datetime:
    """An aware time from ISO text (UTC when no offset)."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
