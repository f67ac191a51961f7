"""The shopper's pick-up status after "I'm here" (a scanned QR or a typed code).

The status is `edge.pickup.shopper_text`: the same plain words head office serves
for the web shop's track & trace, never a system state.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Button, Label

from edge.pickup import shopper_text
from edge.pickup_views import OrderView
from kiosk.screens.base import KioskScreen
from kiosk.widgets.header import KioskHeader
from kiosk.widgets.nps import NpsQuestion


class PickupScreen(KioskScreen):
    """The status of one pick-up order, and that staff know the shopper is here."""

    def __init__(self, code: str, order: OrderView | None, tz: str) -> None:
        super().__init__()
        self.code, self.order, self.tz = code, order, tz

    def compose(self) -> ComposeResult:
        tr = self.app.tr  # type: ignore[attr-defined]
        lang = self.app.translator.language  # type: ignore[attr-defined]
        o = self.order
        yield KioskHeader(back=False)
        with Vertical(id="pickup"):
            yield Label(tr("Your order {code}").format(code=self.code), id="pickup-title")
            if o is None:
                yield Label(
                    tr("We cannot find this order yet. Please ask at the counter."),
                    id="pickup-status",
                )
            else:
                if o.first_name and o.ended is None:
                    yield Label(tr("Hello {name}!").format(name=o.first_name), id="pickup-hello")
                yield Label(shopper_text(o.summary, lang, self.tz), id="pickup-status")
                if o.checked_in and o.count("ready"):
                    yield Label(
                        tr("We know you are here: a colleague is coming to the service desk."),
                        id="pickup-here",
                    )
                if o.delay_note and o.ended is None:
                    yield Label(o.delay_note, id="pickup-delay")
        if o is not None and o.count("collected"):
            yield NpsQuestion("click_collect")  # after a pick-up, for click & collect's NPS
        yield Button(tr("Done"), id="done", variant="primary")

    @on(Button.Pressed, "#done")
    def done(self) -> None:
        self.app.run_wipe("pickup_done")  # type: ignore[attr-defined]
