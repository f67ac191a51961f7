"""Ordering: pick-up here, at another store, or home delivery; details on an on-screen keyboard.

The typed details live only in this screen's inputs: they are cleared when the order
is placed, and the screen is replaced by the confirmation (and wiped with the session).
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label

from kiosk.core.orders import Contact, Fulfilment, OrderRequest
from kiosk.core.service import ProductPage
from kiosk.screens.base import KioskScreen
from kiosk.widgets.header import KioskHeader
from kiosk.widgets.keyboard import OnScreenKeyboard, type_into

FIELDS = ("name", "email", "street", "postcode", "city")
ADDRESS = ("street", "postcode", "city")


class OrderScreen(KioskScreen):
    """Choose how to get the product, type the details, place the order."""

    def __init__(self, page: ProductPage) -> None:
        super().__init__()
        self.page = page
        a = page.availability
        self.choices: list[tuple[str, Fulfilment, str | None]] = []
        if (a.here or 0) > 0:
            self.choices.append(("pickup_here", "pickup_here", None))
        for n in a.nearby:
            if n.quantity > 0 and len(self.choices) < 4:
                self.choices.append((f"pickup-{n.store}", "pickup_other", n.store))
        if a.online > 0:
            self.choices.append(("delivery", "delivery", None))
        self.choice = self.choices[0] if self.choices else None

    def compose(self) -> ComposeResult:
        tr = self.app.tr  # type: ignore[attr-defined]
        yield KioskHeader()
        yield Label(tr("Order: {name}").format(name=self.page.product.name), id="order-title")
        with Horizontal(id="fulfilment"):
            for key, kind, store in self.choices:
                if kind == "pickup_here":
                    label = tr("Pick up here")
                elif kind == "pickup_other":
                    label = tr("Pick up in {store}").format(store=store)
                else:
                    label = tr("Home delivery")
                yield Button(label, id=f"how-{key}", classes="how")
        labels = {
            "name": tr("Name"),
            "email": tr("E-mail"),
            "street": tr("Street and number"),
            "postcode": tr("Postcode"),
            "city": tr("City"),
        }
        with Vertical(id="form"):
            for f in FIELDS:
                yield Input(placeholder=labels[f], id=f"field-{f}", classes="field")
        yield Label("", id="order-problems")
        yield Button(tr("Place order"), id="place", variant="primary")
        yield OnScreenKeyboard(id="keyboard")

    def on_mount(self) -> None:
        self._select(self.choice)
        self.query_one("#field-name", Input).focus()

    def _select(self, choice) -> None:
        self.choice = choice
        for button in self.query(".how"):
            button.set_class(choice is not None and button.id == f"how-{choice[0]}", "chosen")
        delivery = choice is not None and choice[1] == "delivery"
        for f in ADDRESS:
            self.query_one(f"#field-{f}", Input).display = delivery

    @on(Button.Pressed, ".how")
    def choose(self, event: Button.Pressed) -> None:
        key = (event.button.id or "")[len("how-") :]
        self._select(next(c for c in self.choices if c[0] == key))

    @on(OnScreenKeyboard.Typed)
    def typed(self, event: OnScreenKeyboard.Typed) -> None:
        focused = self.focused if isinstance(self.focused, Input) else None
        type_into(focused or self.query_one("#field-name", Input), event.key)

    def contact(self) -> Contact:
        """What has been typed so far."""
        return Contact(**{f: self.query_one(f"#field-{f}", Input).value for f in FIELDS})

    @on(Button.Pressed, "#place")
    def place(self) -> None:
        if self.choice is None:
            return
        _key, kind, store = self.choice
        req = OrderRequest(((self.page.product, 1),), kind, self.contact(), pickup_store=store)
        self.query_one("#place", Button).disabled = True
        self.app.submit_order(req)  # type: ignore[attr-defined]

    def refused(self, fields: list[str]) -> None:
        """Mark what the shopper must fix (called by the app)."""
        tr = self.app.tr  # type: ignore[attr-defined]
        for f in FIELDS:
            self.query_one(f"#field-{f}", Input).set_class(f in fields, "invalid")
        self.query_one("#order-problems", Label).update(tr("Please check the marked fields."))
        self.query_one("#place", Button).disabled = False

    def clear(self) -> None:
        """Wipe every typed detail from the screen."""
        for f in FIELDS:
            self.query_one(f"#field-{f}", Input).value = ""
