"""Snapshots of the staff screens and the shopper's pick-up status, in Dutch.

The store: W-1002 (promised 09:00, overdue at 10:00) has its shopper checked in;
W-1001 is partly ready (one line not found); W-0999 was ready a week ago and must
be collected today; W-0998 was cancelled after picking (its line goes back). Update after an intended change: `pytest
tests/kiosk/test_staff_snapshots.py --snapshot-update`, then look at the SVGs.
"""

from __future__ import annotations

import pytest
from textual.widgets import Input

from edge.events import DoorCount
from sync.downlink import DownlinkApplier
from tests.kiosk.app_support import SIZE, settle
from tests.kiosk.staff_support import NOW, PIN, other_screen, staff_kiosk, web_order
from tests.pickup_support import SetClock, at, send


def prepare(k, wall: SetClock) -> None:
    """The store's morning: a week-old ready order, picking under way, a shopper waiting."""
    desk = other_screen(k)
    wall.set(at("2025-05-31T16:00:00+02:00"))
    send(
        desk.conn,
        DownlinkApplier(desk.stamper),
        web_order("W-0999", ["DRILL-3"], "", first_name="Cas"),
    )
    desk.set_line("W-0999", 1, "to_pick", "picked", None)
    desk.mark_ready("W-0999", {}, None)
    wall.set(at(NOW))
    desk.set_line("W-1001", 1, "to_pick", "picked", None)
    desk.set_line("W-1001", 3, "to_pick", "short", None)
    desk.mark_ready("W-1001", {}, None)
    desk.checkin("TPO-1002KQ2M", "scan")
    # Head office cancels an order already picked: its line goes back to the shelf.
    applier = DownlinkApplier(desk.stamper)
    send(desk.conn, applier, web_order("W-0998", ["JACKET-1"], "", first_name="Dirk"))
    desk.set_line("W-0998", 1, "to_pick", "picked", None)
    send(desk.conn, applier, web_order("W-0998", ["JACKET-1"], "", version=2, status="cancelled"))
    for direction, n in (("in", 41), ("out", 29)):
        k.eventlog.append(DoorCount(door="main", direction=direction, count=n, sensor="t"), "door")
    k.eventlog.flush()


@pytest.fixture
def kiosk(tmp_path):
    wall = SetClock(at(NOW))
    k = staff_kiosk(tmp_path, wall=wall)
    prepare(k, wall)
    yield k
    k.close()


async def sign_in(pilot, pin=PIN):
    await settle(pilot, pilot.app)
    pilot.app.screen.query_one("#pin", Input).value = pin
    await pilot.click("#pin-ok")
    await settle(pilot, pilot.app)


def signed_in_then(*buttons: str):
    """A `run_before` that signs in, then taps `buttons` in turn."""

    async def before(pilot):
        await sign_in(pilot)
        for button in buttons:
            await pilot.click(button)
            await settle(pilot, pilot.app)

    return before


SCREENS = {
    "queue": (),
    "picking_list": ("#queue-1",),
    "handover": ("#queue-1", "#to-handover"),
    "noshows_due_today": ("#nav-noshows",),
    "store_today": ("#nav-today",),
}


@pytest.mark.parametrize("name", SCREENS)
def test_staff_screen(kiosk, snap_compare, name):
    assert snap_compare(kiosk.app, terminal_size=SIZE, run_before=signed_in_then(*SCREENS[name]))


def test_staff_pin_wrong(kiosk, snap_compare):
    assert snap_compare(kiosk.app, terminal_size=SIZE, run_before=lambda p: sign_in(p, "1234"))


def test_shopper_pickup_status_partly_ready(tmp_path, snap_compare):
    wall = SetClock(at(NOW))
    k = staff_kiosk(tmp_path, wall=wall, staff_only=False)
    prepare(k, wall)

    async def before(pilot):
        await settle(pilot, pilot.app)
        await pilot.click("#collect")
        await settle(pilot, pilot.app)
        pilot.app.screen.query_one("#pickup-code", Input).value = "TPO-1001KQ2M"
        await pilot.click("#im-here")
        await settle(pilot, pilot.app)

    try:
        assert snap_compare(k.app, terminal_size=SIZE, run_before=before)
    finally:
        k.close()
