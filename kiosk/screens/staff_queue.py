"""The pick-up queue (and the no-shows due today): orders by promised time, highlighted
when the shopper has checked in or the order is overdue. Refreshed every second."""

from __future__ import annotations

from datetime import UTC, datetime

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Button, Label

from edge.pickup_views import OrderView, PutBack
from kiosk.screens.staff_base import ORDER_WORDS, StaffScreen, local_time
from kiosk.widgets.staff_bar import StaffBar


class StaffQueueScreen(StaffScreen):
    """Open orders (`due`: only those whose pick-up-by is today or passed)."""

    def __init__(self, *, due: bool = False) -> None:
        super().__init__()
        self.due = due
        self.orders: list[OrderView] = []
        self._shown: list[tuple] | None = None
        self.loaded = False  # the first answer has been shown

    def compose(self) -> ComposeResult:
        tr = self.app.tr  # type: ignore[attr-defined]
        yield StaffBar()
        title = tr("Not collected: pick-up ends today") if self.due else tr("Pick-up queue")
        yield Label(title, id="staff-title")
        yield Label(tr("Loading…"), id="queue-empty")
        with VerticalScroll(id="queue"):
            yield Vertical(id="queue-rows")

    def on_mount(self) -> None:
        self.refresh_queue()
        self.set_interval(1.0, self.refresh_queue)

    def refresh_queue(self) -> None:
        """Ask for the queue again (a worker; `show` gets the answer)."""
        self.app.staff_load_queue(self.due)  # type: ignore[attr-defined]

    def _row_text(self, o: OrderView, now: datetime) -> str:
        tr, tz = self.app.tr, self.app.staff.tz  # type: ignore[attr-defined]
        when = local_time(o.pickup_by if self.due else o.promised_at, tz)
        parts = [when, o.code, o.first_name or "-", tr(ORDER_WORDS[o.state])]
        parts.append(
            tr("{ready} of {total} ready").format(ready=o.count("ready"), total=len(o.lines))
        )
        if o.checked_in:
            parts.append(tr("HERE NOW"))
        if o.overdue(now):
            parts.append(tr("overdue"))
        return "  ·  ".join(parts)

    def _put_back_text(self, p: PutBack) -> str:
        ln = self.app.tr("{line}. {name} × {qty}").format(  # type: ignore[attr-defined]
            line=p.line.line, name=p.line.name, qty=p.line.qty
        )
        shelf = self.app.tr("Shelf {shelf}").format(shelf=p.line.shelf or "?")  # type: ignore[attr-defined]
        return f"{p.code}  ·  {ln}  ·  {shelf}"

    async def show(self, orders: list[OrderView], put_back: list[PutBack] | None = None) -> None:
        """Redraw the rows (and, with `due`, the lines to shelve) when anything changed."""
        now = datetime.fromtimestamp(self.app.staff.desk.clock.now(), UTC)  # type: ignore[attr-defined]
        rows = [(o, self._row_text(o, now), o.checked_in, o.overdue(now)) for o in orders]
        shelve = [self._put_back_text(p) for p in put_back or []]
        key = [r[1:] for r in rows] + shelve
        self.orders, self.loaded = orders, True
        if key == self._shown:
            return
        self._shown = key
        tr = self.app.tr  # type: ignore[attr-defined]
        empty = self.query_one("#queue-empty", Label)
        empty.update(tr("No open orders.") if not orders else "")
        empty.display = not orders
        box = self.query_one("#queue-rows", Vertical)
        await box.remove_children()
        widgets: list = []
        for n, (_o, text, here, late) in enumerate(rows):
            classes = "queue-row" + (" checked-in" if here else "") + (" overdue" if late else "")
            widgets.append(Button(text, id=f"queue-{n}", classes=classes))
        if shelve:
            widgets.append(Label(tr("Back to the shelf (put back today)"), classes="today-head"))
            widgets += [Label(text, classes="put-back") for text in shelve]
        await box.mount_all(widgets)

    @on(Button.Pressed, ".queue-row")
    def open_order(self, event: Button.Pressed) -> None:
        n = int((event.button.id or "queue-0").split("-")[1])
        self.app.staff_open_order(self.orders[n].order_id)  # type: ignore[attr-defined]
