"""A scanned pick-up code: the order's status in words a shopper understands.

A placeholder until the click & collect issue fills in the flow (check-in, staff).
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Button, Label

from kiosk.core.service import PickupInfo
from kiosk.i18n import N_
from kiosk.screens.base import KioskScreen
from kiosk.widgets.header import KioskHeader

# Machine statuses from head office mapped to shopper texts (never shown raw).
STATUS_TEXT = {
    "placed": N_("We have your order and are preparing it."),
    "ready": N_("Your order is ready. Please go to the pick-up point."),
    "handed_over": N_("This order has been collected."),
    "cancelled": N_("This order has been cancelled."),
}
ASK_AT_COUNTER = N_("Please ask at the counter.")


class PickupScreen(KioskScreen):
    """The status of one pick-up order."""

    def __init__(self, code: str, info: PickupInfo | None) -> None:
        super().__init__()
        self.code, self.info = code, info

    def compose(self) -> ComposeResult:
        tr = self.app.tr  # type: ignore[attr-defined]
        yield KioskHeader(back=False)
        with Vertical(id="pickup"):
            yield Label(tr("Your order {code}").format(code=self.code), id="pickup-title")
            if self.info is None:
                text = tr("We cannot find this order yet. Please ask at the counter.")
            else:
                text = tr(STATUS_TEXT.get(self.info.status, ASK_AT_COUNTER))
            yield Label(text, id="pickup-status")
            if self.info is not None and self.info.delay_note:
                yield Label(self.info.delay_note, id="pickup-delay")
            yield Button(tr("Done"), id="done", variant="primary")

    @on(Button.Pressed, "#done")
    def done(self) -> None:
        self.app.run_wipe("pickup_done")  # type: ignore[attr-defined]
