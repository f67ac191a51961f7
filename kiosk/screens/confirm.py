"""After an order: its code with a QR code for the till, then one tap of NPS."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label

from kiosk.core.orders import PlacedOrder
from kiosk.screens.base import KioskScreen
from kiosk.widgets.nps import NpsQuestion
from kiosk.widgets.qr import QrCode


class ConfirmScreen(KioskScreen):
    """The order code, how to pay, and "how likely are you to recommend us?"."""

    def __init__(self, order: PlacedOrder) -> None:
        super().__init__()
        self.order = order

    def compose(self) -> ComposeResult:
        tr, o = self.app.tr, self.order  # type: ignore[attr-defined]
        with Horizontal(id="confirm"):
            with Vertical(id="confirm-text"):
                yield Label(tr("Thank you! Your order is placed."), id="confirm-title")
                yield Label(tr("Order code: {code}").format(code=o.code), id="order-code")
                yield Label(
                    tr("Total: {price}").format(price=self.app.translator.price(o.total_cents)),  # type: ignore[attr-defined]
                    id="order-total",
                )
                yield Label(tr("Scan this code at the till to pay."), id="confirm-pay")
                if o.fulfilment == "delivery":
                    yield Label(tr("We deliver it to your home."), id="confirm-how")
                else:
                    yield Label(
                        tr("Pick it up in {store}; we let you know when it is ready.").format(
                            store=o.pickup_store
                        ),
                        id="confirm-how",
                    )
            yield QrCode(o.code, id="qr")
        yield NpsQuestion("kiosk")
        yield Button(tr("Done"), id="done", variant="primary")

    @on(Button.Pressed, "#done")
    def done(self) -> None:
        self.app.run_wipe("order_done")  # type: ignore[attr-defined]
