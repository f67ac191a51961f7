"""Staff-mode test set-up: a kiosk on Amsterdam time with staff, shelves and two orders
that head office sent through the real downlink."""

from __future__ import annotations

from datetime import datetime

import msgspec

from edge.db import connect
from kiosk.core.staff import StaffRegistry
from kiosk.factory import Kiosk
from sync import wire
from sync.downlink import DownlinkApplier
from tests.edge.agent_support import CHAIN_KEY
from tests.kiosk.app_support import make_kiosk
from tests.kiosk.conftest import CATALOG
from tests.pickup_support import TZ, SetClock, at, send

PIN = "4821"
SHELVES = {"DRILL-2": "B04-2", "JACKET-1": "K12-1", "CAFE-1": "F01-3", "DRILL-3": "B04-5"}
CATALOG_WITH_SHELVES = [msgspec.structs.replace(c, shelf=SHELVES.get(c.sku, "")) for c in CATALOG]
NOW = "2025-06-07T10:00:00+02:00"  # a Saturday morning in the store


def web_order(order_id: str, skus: list[str], promised: str, version: int = 1, **kw):
    """A web-shop order as head office sends it on `down/orders`."""
    return wire.PickupOrder(
        order=order_id,
        version=version,
        status=kw.pop("status", "placed"),
        code=f"TPO-{order_id[-4:]}KQ2M",
        lines=[wire.OrderLine(line=n, sku=s, qty=1) for n, s in enumerate(skus, 1)],
        promised_at=promised,
        first_name=kw.pop("first_name", "Anna"),
        **kw,
    )


ORDERS = [
    web_order("W-1001", ["DRILL-2", "JACKET-1", "CAFE-1"], "2025-06-07T12:00:00+02:00"),
    web_order("W-1002", ["DRILL-3"], "2025-06-07T09:00:00+02:00", first_name="Bram"),
]


def staff_kiosk(tmp, *, wall: SetClock | None = None, staff_only: bool = True, **kw) -> Kiosk:
    """The real kiosk (factory) with staff Noor (PIN 4821) and the two orders.

    `wall` is the wall clock (events, pick-up times); `clock` in `kw` the idle timer.
    Called again on the same directory, it opens the same store (a restart).
    """
    k = make_kiosk(
        tmp,
        timezone=TZ,
        catalog=CATALOG_WITH_SHELVES,
        staff_only=staff_only,
        wall_clock=wall or SetClock(at(NOW)),
        **kw,
    )
    db = k.service.desk.conn
    if not StaffRegistry(db, key=CHAIN_KEY, store="s1").names():
        StaffRegistry(db, key=CHAIN_KEY, store="s1").add("Noor", PIN, "t")
        send(db, DownlinkApplier(k.service.desk.stamper), *ORDERS)
    return k


def other_screen(k: Kiosk):
    """Another terminal's pick-up desk on the same store database (its own connection)."""
    from edge.pickup_desk import PickupDesk

    return PickupDesk(
        connect(k.service.desk.conn.execute("PRAGMA database_list").fetchone()[2]),
        stamper=k.service.desk.stamper,
        tz=TZ,
        device="staff-2",
    )


def local(text: str) -> datetime:
    """An Amsterdam wall-clock time."""
    return at(text + "+02:00")
