"""The bar on top of every shopper screen: greeting, language switch, start over."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Label


class KioskHeader(Horizontal):
    """Greeting on the left; the other language and "start over" as big buttons."""

    def __init__(self, *, back: bool = True) -> None:
        super().__init__(id="header")
        self.back = back

    def compose(self) -> ComposeResult:
        app = self.app
        profile = app.session.profile if app.session else None  # type: ignore[attr-defined]
        greeting = (
            app.tr("Welcome back, {name}!").format(name=profile.first_name)  # type: ignore[attr-defined]
            if profile
            else app.tr("Welcome")  # type: ignore[attr-defined]
        )
        yield Label(greeting, id="greeting")
        if self.back:
            yield Button(app.tr("Back"), id="back", classes="nav")  # type: ignore[attr-defined]
        yield Button(app.tr("Start over"), id="start-over", classes="nav")  # type: ignore[attr-defined]
        # The switch names the other language in that language, as shoppers look for it.
        other = "English" if app.translator.language == "nl" else "Nederlands"  # type: ignore[attr-defined]
        yield Button(other, id="language", classes="nav")
