"""The attract screen: what a passer-by sees; any tap starts a search."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.widgets import Button, Label

from kiosk.screens.base import KioskScreen


class AttractScreen(KioskScreen):
    """Scan your card or search."""

    def compose(self) -> ComposeResult:
        tr = self.app.tr  # type: ignore[attr-defined]
        with Vertical(id="attract"):
            yield Label(self.app.store_name, id="store-name")  # type: ignore[attr-defined]
            yield Label(tr("Scan your card or search"), id="attract-title")
            yield Label(
                tr("The whole assortment: in this store, in our other stores and online."),
                id="attract-sub",
            )
            with Center():
                yield Button(tr("Search products"), id="start-search", variant="primary")
            with Center():
                yield Button(tr("Collect an order"), id="collect", classes="nav")
            with Center():
                other = "English" if self.app.translator.language == "nl" else "Nederlands"  # type: ignore[attr-defined]
                yield Button(other, id="language", classes="nav")
            if self.app.staff is not None:  # type: ignore[attr-defined]
                with Center():
                    yield Button(tr("Staff"), id="open-staff", classes="staff-door")

    @on(Button.Pressed, "#start-search")
    def start_search(self) -> None:
        self.app.open_search()  # type: ignore[attr-defined]

    @on(Button.Pressed, "#collect")
    def collect(self) -> None:
        self.app.open_pickup_code()  # type: ignore[attr-defined]

    @on(Button.Pressed, "#open-staff")
    def open_staff(self) -> None:
        self.app.open_staff()  # type: ignore[attr-defined]
