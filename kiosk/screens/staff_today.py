"""The store today: visitors and conversion, device health, and the sync backlog."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label

from kiosk.core.staff_service import StoreToday
from kiosk.i18n import N_
from kiosk.screens.staff_base import StaffScreen
from kiosk.widgets.staff_bar import StaffBar

DEVICE_WORDS = {
    "connected": N_("working"),
    "ok": N_("working"),
    "disconnected": N_("NOT CONNECTED"),
    "error": N_("ERROR"),
    "degraded": N_("DEGRADED"),
    "alarm": N_("ALARM"),
    "unknown": N_("no report yet"),
}
LINK_WORDS = {
    "connected": N_("connected to head office"),
    "offline": N_("OFFLINE: head office not reachable"),
    "stale": N_("the store agent is not running"),
    "not_started": N_("the store agent has not started yet"),
    "disabled": N_("sync is switched off"),
}


def age_text(tr, seconds: float) -> str:
    """An age as staff read it: 40 s, 12 min, 5 h, 3 d."""
    for unit, size in ((N_("{n} d"), 86400), (N_("{n} h"), 3600), (N_("{n} min"), 60)):
        if seconds >= size:
            return tr(unit).format(n=int(seconds // size))
    return tr(N_("{n} s")).format(n=int(seconds))


class StaffTodayScreen(StaffScreen):
    """Today's figures; loaded by a worker when shown."""

    def __init__(self) -> None:
        super().__init__()
        self.today: StoreToday | None = None

    def compose(self) -> ComposeResult:
        tr = self.app.tr  # type: ignore[attr-defined]
        yield StaffBar()
        yield Label(tr("The store today"), id="staff-title")
        with Vertical(id="today"):
            if self.today is None:
                yield Label(tr("Loading…"))
                return
            t = self.today
            yield Label(tr("Visitors: {n}").format(n=round(t.visitors)), id="today-visitors")
            yield Label(tr("Recognised visits: {n}").format(n=t.identified))
            yield Label(tr("Kiosk orders: {n}").format(n=t.kiosk_orders))
            yield Label(tr("Pick-up orders collected: {n}").format(n=t.pickups_collected))
            conversion = (
                f"{self.app.translator.decimal(t.conversion * 100)} %"  # type: ignore[attr-defined]
                if t.conversion is not None
                else "-"
            )
            yield Label(
                tr("Conversion (kiosk orders and pick-ups per visitor): {pct}").format(
                    pct=conversion
                ),
                id="today-conversion",
            )
            yield Label(tr("Devices"), classes="today-head")
            for name, state, detail in t.devices:
                word = tr(DEVICE_WORDS.get(state, DEVICE_WORDS["unknown"]))
                yield Label(f"  {name}: {word}" + (f" ({detail})" if detail else ""))
            if not t.devices:
                yield Label("  " + tr("no devices configured"))
            yield Label(tr("Sync with head office"), classes="today-head")
            yield Label("  " + tr(LINK_WORDS.get(t.uplink, LINK_WORDS["stale"])))
            wait = round(t.oldest_unsent_s or 0)
            yield Label(
                "  "
                + tr("{n} events waiting to be sent (oldest {s} s)").format(n=t.outbox, s=wait),
                id="today-backlog",
            )

    def on_mount(self) -> None:
        self.app.staff_load_today()  # type: ignore[attr-defined]

    async def show(self, today: StoreToday) -> None:
        """Fill in the figures."""
        self.today = today
        await self.recompose()
