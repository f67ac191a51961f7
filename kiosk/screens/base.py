"""What every shopper screen shares: the header's buttons and a friendly message line."""

from __future__ import annotations

from textual import on
from textual.screen import Screen
from textual.widgets import Button


class KioskScreen(Screen):
    """Base of the shopper screens; the header's buttons work the same everywhere."""

    @on(Button.Pressed, "#back")
    def go_back(self) -> None:
        self.app.pop_screen()

    @on(Button.Pressed, "#start-over")
    def start_over(self) -> None:
        self.app.run_wipe("start_over")  # type: ignore[attr-defined]

    @on(Button.Pressed, "#language")
    def switch_language(self) -> None:
        self.app.toggle_language()  # type: ignore[attr-defined]
