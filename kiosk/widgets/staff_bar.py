"""The bar on top of every staff screen: who is signed in, the staff screens, sign out."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Label


class StaffBar(Horizontal):
    """Signed-in staff member on the left; the staff screens and "sign out" as buttons."""

    def __init__(self) -> None:
        super().__init__(id="staff-bar")

    def compose(self) -> ComposeResult:
        app = self.app
        tr = app.tr  # type: ignore[attr-defined]
        staff = app.staff.staff  # type: ignore[attr-defined]
        name = staff.name if staff else ""
        yield Label(tr("Staff: {name}").format(name=name), id="staff-name")
        yield Button(tr("Queue"), id="nav-queue", classes="nav")
        yield Button(tr("Not collected"), id="nav-noshows", classes="nav")
        yield Button(tr("The store today"), id="nav-today", classes="nav")
        yield Button(tr("Sign out"), id="staff-sign-out", classes="nav")
