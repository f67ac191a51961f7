"""The picking list of one order: shelf, quantity and state per line; mark lines picked
or not found, then ready; on to the hand-over. Every change is checked against what
this screen showed (another screen may have changed the order meanwhile)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label

from edge.pickup import staff_may_move
from edge.pickup_views import OrderView
from kiosk.screens.staff_base import LINE_WORDS, ORDER_WORDS, StaffScreen, local_time
from kiosk.widgets.staff_bar import StaffBar


class StaffOrderScreen(StaffScreen):
    """One order's picking list."""

    def __init__(self, order: OrderView) -> None:
        super().__init__()
        self.order = order

    def compose(self) -> ComposeResult:
        tr, o = self.app.tr, self.order  # type: ignore[attr-defined]
        tz = self.app.staff.tz  # type: ignore[attr-defined]
        yield StaffBar()
        yield Label(
            tr("Order {code} for {name}").format(code=o.code, name=o.first_name or "-"),
            id="staff-title",
        )
        yield Label(
            tr("Promised: {when}  ·  Pick up by: {by}  ·  {state}").format(
                when=local_time(o.promised_at, tz),
                by=local_time(o.pickup_by, tz),
                state=tr(ORDER_WORDS[o.state]),
            ),
            id="order-times",
        )
        with Vertical(id="pick-lines"):
            for ln in o.lines:
                with Horizontal(classes=f"pick-line state-{ln.state}"):
                    yield Label(
                        tr("{line}. {name} × {qty}").format(line=ln.line, name=ln.name, qty=ln.qty),
                        classes="pick-name",
                    )
                    yield Label(
                        tr("Shelf {shelf}").format(shelf=ln.shelf or "?"), classes="pick-shelf"
                    )
                    yield Label(tr(LINE_WORDS[ln.state]), classes="pick-state")
                    with Horizontal(classes="pick-actions"):
                        if staff_may_move(ln.state, "picked"):
                            yield Button(tr("Picked"), id=f"line-{ln.line}-picked", classes="pick")
                        if staff_may_move(ln.state, "short"):
                            yield Button(
                                tr("Not found"), id=f"line-{ln.line}-short", classes="pick"
                            )
        with Horizontal(id="order-actions"):
            yield Button(
                tr("Mark ready"),
                id="mark-ready",
                variant="primary",
                disabled=not o.count("picked"),
            )
            yield Button(tr("Hand over"), id="to-handover", disabled=not o.count("ready"))
            yield Button(tr("Back to the queue"), id="nav-queue", classes="nav")

    @on(Button.Pressed, ".pick")
    def pick(self, event: Button.Pressed) -> None:
        _, line, new = (event.button.id or "").split("-")
        current = {ln.line: ln.state for ln in self.order.lines}[int(line)]
        self.app.staff_set_line(self.order.order_id, int(line), current, new)  # type: ignore[attr-defined]

    @on(Button.Pressed, "#mark-ready")
    def mark_ready(self) -> None:
        shown = {ln.line: ln.state for ln in self.order.lines}
        self.app.staff_mark_ready(self.order.order_id, shown)  # type: ignore[attr-defined]

    @on(Button.Pressed, "#to-handover")
    def to_handover(self) -> None:
        self.app.staff_open_handover(self.order)  # type: ignore[attr-defined]

    async def show(self, order: OrderView) -> None:
        """The order as it is now (after a change here or elsewhere)."""
        self.order = order
        await self.recompose()
