"""What every staff screen shares: the bar's buttons, and staff words for states."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from textual import on
from textual.screen import Screen
from textual.widgets import Button

from edge.pickup_desk import PickupConflict
from kiosk.i18n import N_

# Line and order states in staff words (system values never reach the screen).
LINE_WORDS = {
    "to_pick": N_("To pick"),
    "picked": N_("Picked"),
    "short": N_("Not found"),
    "ready": N_("Ready"),
    "collected": N_("Collected"),
    "put_back": N_("Put back"),
}
ORDER_WORDS = {
    "preparing": N_("Being picked"),
    "partly_ready": N_("Partly ready"),
    "ready": N_("Ready"),
    "partly_collected": N_("Partly collected"),
    "collected": N_("Collected"),
    "expired": N_("Expired"),
    "cancelled": N_("Cancelled"),
}
CONFLICTS = {
    "unknown": N_("This order is not known at this store."),
    "ended:collected": N_("This order has already been handed over at another screen."),
    "ended:expired": N_("This order has expired: its items go back to the shelf."),
    "ended:cancelled": N_("Head office cancelled this order."),
    "changed": N_("Line {line} was just set to '{state}' at another screen. Check and try again."),
    "not_ready": N_("Line {line} is not ready to hand over."),
    "handed_over": N_("Line {line} has already been handed over at another screen."),
    "wrong_code": N_("The pick-up code does not match this order."),
    "nothing": N_("Nothing to do: pick a line first, or choose a ready line."),
}


def conflict_text(tr, conflict: PickupConflict) -> str:
    """What staff are told when another screen got there first."""
    key = f"{conflict.kind}:{conflict.state}" if conflict.kind == "ended" else conflict.kind
    state = tr(LINE_WORDS.get(conflict.state or "", "")) if conflict.state else ""
    return tr(CONFLICTS.get(key, CONFLICTS["unknown"])).format(line=conflict.line, state=state)


def local_time(moment: datetime | None, tz: str) -> str:
    """A time as staff read it: "14-06 18:00" (local), or "-" without one."""
    return moment.astimezone(ZoneInfo(tz)).strftime("%d-%m %H:%M") if moment else "-"


class StaffScreen(Screen):
    """Base of the staff screens: the bar's buttons work the same everywhere."""

    @on(Button.Pressed, "#nav-queue")
    def nav_queue(self) -> None:
        self.app.staff_show("queue")  # type: ignore[attr-defined]

    @on(Button.Pressed, "#nav-noshows")
    def nav_noshows(self) -> None:
        self.app.staff_show("noshows")  # type: ignore[attr-defined]

    @on(Button.Pressed, "#nav-today")
    def nav_today(self) -> None:
        self.app.staff_show("today")  # type: ignore[attr-defined]

    @on(Button.Pressed, "#staff-sign-out")
    def sign_out(self) -> None:
        self.app.staff_sign_out("button")  # type: ignore[attr-defined]
