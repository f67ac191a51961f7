"""After an order: its code with a QR code for the till, then one tap of NPS."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label

from kiosk.core.orders import PlacedOrder
from kiosk.screens.base import KioskScreen
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
        with Vertical(id="nps"):
            yield Label(tr("How likely are you to recommend us to a friend?"), id="nps-question")
            with Horizontal(id="nps-scores"):
                for score in range(11):
                    yield Button(str(score), id=f"nps-{score}", classes="nps")
            with Horizontal(id="nps-scale"):
                yield Label(tr("Not likely"), id="nps-low")
                yield Label(tr("Very likely"), id="nps-high")
        yield Button(tr("Done"), id="done", variant="primary")

    @on(Button.Pressed, ".nps")
    def answer(self, event: Button.Pressed) -> None:
        score = int((event.button.id or "nps-0")[len("nps-") :])
        self.app.record_nps(score)  # type: ignore[attr-defined]
        self.query_one("#nps-question", Label).update(self.app.tr("Thank you for your answer!"))  # type: ignore[attr-defined]
        self.query_one("#nps-scores").display = False
        self.query_one("#nps-scale").display = False

    @on(Button.Pressed, "#done")
    def done(self) -> None:
        self.app.run_wipe("order_done")  # type: ignore[attr-defined]
