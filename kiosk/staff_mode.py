"""Staff mode of the kiosk app: PIN sign-in, the pick-up screens, and their workers.

A mixin of `KioskApp`, so the shopper's app stays readable. Staff screens sit above the
attract screen; signing out (a button, or `staff_idle_s` without a touch) removes
them all, and a staff-only terminal (`touchpoint kiosk --staff`) shows the PIN screen
again. Every database call runs in a thread worker that posts a message
(kiosk/staff_messages.py); a change another screen got to first comes back as a
`PickupConflict`, told to staff in words.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from textual import work

from edge.pickup_desk import PickupConflict
from edge.pickup_views import OrderView
from kiosk.core.scans import PickupStatus
from kiosk.core.staff import SignedIn
from kiosk.core.staff_service import StaffService
from kiosk.screens.staff_base import conflict_text
from kiosk.screens.staff_handover import StaffHandoverScreen
from kiosk.screens.staff_order import StaffOrderScreen
from kiosk.screens.staff_pin import StaffPinScreen
from kiosk.screens.staff_queue import StaffQueueScreen
from kiosk.screens.staff_today import StaffTodayScreen
from kiosk.staff_messages import (
    StaffCodeScanned,
    StaffOrderLoaded,
    StaffQueueLoaded,
    StaffSignInDone,
    StaffTodayLoaded,
)

log = logging.getLogger(__name__)
BASE = 2  # the default screen and the attract screen stay below staff mode


class StaffMode:
    """Staff sign-in, navigation and workers (mixed into `KioskApp`)."""

    staff: StaffService | None
    staff_only: bool

    # -- entering and leaving ---------------------------------------------------------------

    @property
    def staff_signed_in(self) -> bool:
        """Whether a staff member is signed in on this terminal."""
        return self.staff is not None and self.staff.staff is not None

    def open_staff(self) -> None:
        """The PIN screen (from the attract screen's staff button)."""
        if self.staff is not None:
            self.push_screen(StaffPinScreen(can_cancel=not self.staff_only))  # type: ignore[attr-defined]

    def staff_sign_out(self, reason: str) -> None:
        """Leave staff mode: every staff screen goes, and with it what they showed."""
        if self.staff is not None:
            self.staff.sign_out()
        log.info("staff mode ended (%s)", reason)
        self._to_base()
        if self.staff_only:
            self.push_screen(StaffPinScreen(can_cancel=False))  # type: ignore[attr-defined]

    def _to_base(self) -> None:
        while len(self.screen_stack) > BASE:  # type: ignore[attr-defined]
            self.pop_screen()  # type: ignore[attr-defined]

    def staff_show(self, kind: str) -> None:
        """One of the staff screens reached from the bar: queue, noshows, today."""
        screen = {
            "queue": lambda: StaffQueueScreen(),
            "noshows": lambda: StaffQueueScreen(due=True),
            "today": lambda: StaffTodayScreen(),
        }[kind]()
        while len(self.screen_stack) > BASE + 1:  # type: ignore[attr-defined]
            self.pop_screen()  # type: ignore[attr-defined]
        self.switch_screen(screen)  # type: ignore[attr-defined]

    def staff_open_handover(self, order: OrderView) -> None:
        """The hand-over screen for an order."""
        self.push_screen(StaffHandoverScreen(order))  # type: ignore[attr-defined]

    # -- workers --------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="staff-pin", exit_on_error=False)
    def staff_sign_in(self, pin: str) -> None:
        """Check a PIN (scrypt: tens of milliseconds a staff member)."""
        assert self.staff is not None
        self.post_message(StaffSignInDone(self.staff.sign_in(pin)))  # type: ignore[attr-defined]

    @work(thread=True, exclusive=True, group="staff-queue", exit_on_error=False)
    def staff_load_queue(self, due: bool) -> None:
        """The open orders, or the no-shows due today."""
        assert self.staff is not None
        if due:
            loaded = StaffQueueLoaded(self.staff.due_today(), True, self.staff.put_back_today())
        else:
            loaded = StaffQueueLoaded(self.staff.queue())
        self.post_message(loaded)  # type: ignore[attr-defined]

    @work(thread=True, exclusive=True, group="staff-order", exit_on_error=False)
    def staff_open_order(self, order_id: str) -> None:
        """Load an order's picking list."""
        assert self.staff is not None
        self.post_message(StaffOrderLoaded(self.staff.order(order_id)))  # type: ignore[attr-defined]

    def _change(self, order_id: str, action) -> None:
        assert self.staff is not None
        try:
            self.post_message(StaffOrderLoaded(action()))  # type: ignore[attr-defined]
        except PickupConflict as conflict:
            fresh = self.staff.order(order_id)
            self.post_message(StaffOrderLoaded(fresh, conflict))  # type: ignore[attr-defined]

    @work(thread=True, exclusive=True, group="staff-change", exit_on_error=False)
    def staff_set_line(self, order_id: str, line: int, expect: str, new: str) -> None:
        """Mark a line picked or not found."""
        assert self.staff is not None
        staff = self.staff
        self._change(order_id, lambda: staff.set_line(order_id, line, expect, new))

    @work(thread=True, exclusive=True, group="staff-change", exit_on_error=False)
    def staff_mark_ready(self, order_id: str, shown: Mapping[int, str]) -> None:
        """Mark the picked lines ready."""
        assert self.staff is not None
        staff = self.staff
        self._change(order_id, lambda: staff.mark_ready(order_id, shown))

    @work(thread=True, exclusive=True, group="staff-change", exit_on_error=False)
    def staff_handover(
        self,
        order_id: str,
        code: str,
        lines: Sequence[int],
        without_missing: Mapping[int, str] | None = None,
    ) -> None:
        """Hand over the chosen ready lines; `without_missing` (the lines as the screen
        showed them): the rest is not coming, and the order ends."""
        assert self.staff is not None
        try:
            order = self.staff.handover(order_id, code, lines, without_missing)
        except PickupConflict as conflict:
            fresh = self.staff.order(order_id)
            self.post_message(StaffOrderLoaded(fresh, conflict))  # type: ignore[attr-defined]
            return
        self.post_message(StaffOrderLoaded(order, handed_over=len(lines)))  # type: ignore[attr-defined]

    @work(thread=True, exclusive=True, group="staff-today", exit_on_error=False)
    def staff_load_today(self) -> None:
        """Today's figures, devices and backlog."""
        assert self.staff is not None
        self.post_message(StaffTodayLoaded(self.staff.store_today()))  # type: ignore[attr-defined]

    @work(thread=True, exclusive=True, group="scan", exit_on_error=False)
    def staff_scan(self, data: str, symbology: str) -> None:
        """A scan in staff mode: a pick-up code opens its order or fills in the hand-over."""
        assert self.staff is not None
        action = self.service.scan(data, symbology)  # type: ignore[attr-defined]
        if isinstance(action, PickupStatus):
            order = self.staff.desk.by_code(action.code)
            self.post_message(StaffCodeScanned(action.code, order))  # type: ignore[attr-defined]

    # -- results ----------------------------------------------------------------------------------

    def on_staff_sign_in_done(self, message: StaffSignInDone) -> None:
        screen = self.screen  # type: ignore[attr-defined]
        if isinstance(message.result, SignedIn):
            self.touch()  # type: ignore[attr-defined]
            self.switch_screen(StaffQueueScreen())  # type: ignore[attr-defined]
        elif isinstance(screen, StaffPinScreen):
            screen.show_result(message.result)

    async def on_staff_queue_loaded(self, message: StaffQueueLoaded) -> None:
        screen = self.screen  # type: ignore[attr-defined]
        if isinstance(screen, StaffQueueScreen) and screen.due == message.due:
            was_loaded = screen.loaded
            before = {o.order_id for o in screen.orders if o.checked_in}
            await screen.show(message.orders, message.put_back)
            arrived = {o.order_id for o in message.orders if o.checked_in} - before
            # A shopper who checks in while staff look at the queue: ring (not on opening).
            if arrived and was_loaded and self.settings.staff_bell:  # type: ignore[attr-defined]
                self.bell()  # type: ignore[attr-defined]

    async def on_staff_order_loaded(self, message: StaffOrderLoaded) -> None:
        tr = self.tr  # type: ignore[attr-defined]
        if message.conflict is not None:
            self.notify(conflict_text(tr, message.conflict), severity="warning", timeout=8)  # type: ignore[attr-defined]
        order = message.order
        if order is None:
            return
        screen = self.screen  # type: ignore[attr-defined]
        if message.conflict is not None and order.ended is not None:
            self.staff_show("queue")  # collected, expired or cancelled elsewhere: nothing to do
        elif message.handed_over:
            self.notify(tr("Handed over: {n} item(s).").format(n=message.handed_over), timeout=5)  # type: ignore[attr-defined]
            self.staff_show("queue")
        elif isinstance(screen, StaffOrderScreen):
            await screen.show(order)
        elif isinstance(screen, StaffHandoverScreen):
            screen.order = order
        elif isinstance(screen, StaffQueueScreen):
            self.push_screen(StaffOrderScreen(order))  # type: ignore[attr-defined]

    async def on_staff_today_loaded(self, message: StaffTodayLoaded) -> None:
        if isinstance(self.screen, StaffTodayScreen):  # type: ignore[attr-defined]
            await self.screen.show(message.today)  # type: ignore[attr-defined]

    def on_staff_code_scanned(self, message: StaffCodeScanned) -> None:
        screen = self.screen  # type: ignore[attr-defined]
        if isinstance(screen, StaffHandoverScreen):
            screen.code_scanned(message.code)
        elif message.order is not None:
            self.push_screen(StaffOrderScreen(message.order))  # type: ignore[attr-defined]
        else:
            self.notify(self.tr("No order with this pick-up code."), timeout=5)  # type: ignore[attr-defined]
