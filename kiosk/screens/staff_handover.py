"""Hand-over: check the shopper's pick-up code (scanned or typed), choose the ready lines
(all by default; fewer for a partial hand-over) and hand them over.

When some line is not ready (not found, or still to pick), a second button hands over the
chosen lines "without the missing items": the shopper agrees the rest is not coming,
those lines go back and the order ends collected."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label

from edge.pickup import ENDED
from edge.pickup_views import OrderView
from kiosk.screens.staff_base import StaffScreen
from kiosk.widgets.keyboard import OnScreenKeyboard, type_into
from kiosk.widgets.staff_bar import StaffBar


class StaffHandoverScreen(StaffScreen):
    """Check the code, choose lines, hand over."""

    def __init__(self, order: OrderView) -> None:
        super().__init__()
        self.order = order

    def compose(self) -> ComposeResult:
        tr, o = self.app.tr, self.order  # type: ignore[attr-defined]
        yield StaffBar()
        yield Label(
            tr("Hand over {code} to {name}").format(code=o.code, name=o.first_name or "-"),
            id="staff-title",
        )
        yield Label(tr("Scan the shopper's pick-up code or type it:"), id="handover-ask")
        yield Input(id="handover-code", placeholder=tr("Pick-up code"))
        with Vertical(id="handover-lines"):
            for ln in o.lines:
                if ln.state == "ready":
                    yield Checkbox(
                        tr("{line}. {name} × {qty}").format(line=ln.line, name=ln.name, qty=ln.qty),
                        True,
                        id=f"give-{ln.line}",
                    )
        missing = [ln for ln in o.lines if ln.state not in ("ready", *ENDED)]
        if missing:
            yield Label(
                tr("Not ready: {lines}").format(
                    lines=", ".join(f"{ln.line}. {ln.name}" for ln in missing)
                ),
                id="handover-missing",
            )
        with Horizontal(id="handover-actions"):
            yield Button(tr("Hand over"), id="handover", variant="primary")
            if missing:
                yield Button(
                    tr("Hand over without missing items"), id="handover-close", variant="warning"
                )
            yield Button(tr("Back"), id="staff-back", classes="nav")
        yield OnScreenKeyboard(id="keyboard")

    def on_mount(self) -> None:
        self.query_one("#handover-code", Input).focus()

    def on_on_screen_keyboard_typed(self, message: OnScreenKeyboard.Typed) -> None:
        type_into(self.query_one("#handover-code", Input), message.key.upper())

    def code_scanned(self, code: str) -> None:
        """A pick-up code read by the scanner fills in the code."""
        self.query_one("#handover-code", Input).value = code

    def _chosen(self) -> list[int]:
        return [
            int((box.id or "give-0").split("-")[1])
            for box in self.query(Checkbox).results(Checkbox)
            if box.value
        ]

    @on(Button.Pressed, "#handover")
    @on(Input.Submitted, "#handover-code")
    def handover(self) -> None:
        code = self.query_one("#handover-code", Input).value
        self.app.staff_handover(self.order.order_id, code, self._chosen())  # type: ignore[attr-defined]

    @on(Button.Pressed, "#handover-close")
    def handover_without_missing(self) -> None:
        """Hand over the chosen lines; the rest is not coming (as this screen showed it)."""
        code = self.query_one("#handover-code", Input).value
        shown = {ln.line: ln.state for ln in self.order.lines}
        self.app.staff_handover(self.order.order_id, code, self._chosen(), shown)  # type: ignore[attr-defined]

    @on(Button.Pressed, "#staff-back")
    def back(self) -> None:
        self.app.pop_screen()
