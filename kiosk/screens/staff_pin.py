"""Staff mode's door: a PIN on a keypad (5 wrong ones lock it for 5 minutes)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Center, Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Input, Label

from kiosk.core.staff import Locked, SignInResult, WrongPin

KEYPAD = ("123", "456", "789")
BACK = "⌫"


class StaffPinScreen(Screen):
    """Type a PIN; the app checks it in a worker and answers with `show_result`."""

    def __init__(self, *, can_cancel: bool = True) -> None:
        super().__init__()
        self.can_cancel = can_cancel

    def compose(self) -> ComposeResult:
        tr = self.app.tr  # type: ignore[attr-defined]
        with Vertical(id="staff-pin"):
            yield Label(tr("Staff mode"), id="staff-pin-title")
            yield Label(tr("Enter your PIN"), id="staff-pin-ask")
            with Center():
                yield Input(password=True, max_length=8, id="pin", restrict=r"\d*")
            for row in KEYPAD:
                with Horizontal(classes="pin-row"):
                    for digit in row:
                        yield self._key(digit)
            with Horizontal(classes="pin-row"):
                yield self._key(BACK)
                yield self._key("0")
                yield Button(tr("OK"), id="pin-ok", variant="primary", classes="pin-key")
            yield Label("", id="pin-message")
            if self.can_cancel:
                with Center():
                    yield Button(tr("Back to the kiosk"), id="staff-cancel", classes="nav")

    def _key(self, text: str) -> Button:
        key = Button(text, classes="pin-key pin-digit")
        key.can_focus = False
        key.active_effect_duration = 0
        return key

    @on(Button.Pressed, ".pin-digit")
    def typed(self, event: Button.Pressed) -> None:
        pin = self.query_one("#pin", Input)
        key = str(event.button.label)
        pin.value = pin.value[:-1] if key == BACK else (pin.value + key)[:8]

    @on(Button.Pressed, "#pin-ok")
    @on(Input.Submitted, "#pin")
    def submit(self) -> None:
        pin = self.query_one("#pin", Input)
        value, pin.value = pin.value, ""  # the PIN leaves the screen at once
        self.app.staff_sign_in(value)  # type: ignore[attr-defined]

    @on(Button.Pressed, "#staff-cancel")
    def cancel(self) -> None:
        self.app.pop_screen()

    def show_result(self, result: SignInResult) -> None:
        """A wrong PIN or the lock, in words."""
        tr = self.app.tr  # type: ignore[attr-defined]
        if isinstance(result, WrongPin):
            text = tr("Wrong PIN. {n} tries left before staff mode locks.").format(
                n=result.tries_left
            )
        elif isinstance(result, Locked):
            text = tr("Too many wrong PINs: staff mode is locked for {m} min.").format(
                m=(result.seconds_left + 59) // 60
            )
        else:
            text = ""
        self.query_one("#pin-message", Label).update(text)
