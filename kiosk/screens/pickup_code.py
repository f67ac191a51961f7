""" "I'm here to collect": the shopper types the pick-up code from their e-mail."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Button, Input, Label

from kiosk.screens.base import KioskScreen
from kiosk.widgets.header import KioskHeader
from kiosk.widgets.keyboard import OnScreenKeyboard, type_into


class PickupCodeScreen(KioskScreen):
    """Type the code (or scan the QR at any time), then "I'm here"."""

    def compose(self) -> ComposeResult:
        tr = self.app.tr  # type: ignore[attr-defined]
        yield KioskHeader()
        with Vertical(id="pickup"):
            yield Label(tr("Collect an order"), id="pickup-title")
            yield Label(tr("Scan the QR code of your order, or type the pick-up code:"))
            yield Input(id="pickup-code", placeholder=tr("Pick-up code"))
            yield Button(tr("I'm here"), id="im-here", variant="primary")
        yield OnScreenKeyboard(id="keyboard")

    def on_mount(self) -> None:
        self.query_one("#pickup-code", Input).focus()

    def on_on_screen_keyboard_typed(self, message: OnScreenKeyboard.Typed) -> None:
        type_into(self.query_one("#pickup-code", Input), message.key.upper())

    @on(Button.Pressed, "#im-here")
    @on(Input.Submitted, "#pickup-code")
    def im_here(self) -> None:
        code = self.query_one("#pickup-code", Input).value.strip()
        if code:
            self.app.check_in(code, "code")  # type: ignore[attr-defined]
