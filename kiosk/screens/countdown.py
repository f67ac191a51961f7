"""The idle countdown: "Are you still there?" before everything is wiped."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label


class CountdownScreen(ModalScreen[None]):
    """Shown after the idle time; any tap keeps the session, else it is wiped at zero."""

    def __init__(self, seconds: int) -> None:
        super().__init__()
        self.seconds = seconds

    def compose(self) -> ComposeResult:
        tr = self.app.tr  # type: ignore[attr-defined]
        with Vertical(id="countdown"):
            yield Label(tr("Are you still there?"), id="countdown-title")
            yield Label(self._text(), id="countdown-left")
            yield Button(tr("Yes, I am still here"), id="still-here", variant="primary")

    def _text(self) -> str:
        tr = self.app.tr  # type: ignore[attr-defined]
        return tr("For your privacy everything is cleared in {n} seconds.").format(n=self.seconds)

    def tick(self, seconds: int) -> None:
        """Show the seconds left (called by the app's idle check)."""
        self.seconds = seconds
        for label in self.query("#countdown-left").results(Label):  # none before compose
            label.update(self._text())

    @on(Button.Pressed, "#still-here")
    def still_here(self) -> None:
        self.app.touch()  # type: ignore[attr-defined]
