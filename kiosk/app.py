"""The kiosk app: screens on top, the domain core's service below, workers in between.

- Built by `kiosk.factory.build_app` and handed its data source (`KioskService`).
- Every SQLite, serial and head-office call runs in a `@work(thread=True,
  exclusive=True)` worker that posts a message; the handlers below only update
  screens. Workers do not end the app when they fail (`exit_on_error=False`): their
  failures are handled in one place (`worker_failed`), a log line and a friendly word.
- Shopper mode: no command palette, no quit key (systemd stops the kiosk).
- Privacy on a shared screen: after `idle_s` without a touch or scan a countdown
  appears; at zero the session ends and every screen above the attract screen is
  removed (`wipe`), with the recognised profile, typed details and search.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable
from pathlib import Path

from textual import events, on, work
from textual.app import App
from textual.worker import Worker, WorkerState

from edge.config import KioskSection
from kiosk.core.orders import OrderError, OrderRequest
from kiosk.core.scans import Identify, NotUnderstood, OpenProduct, PickupStatus
from kiosk.core.service import KioskService, ProductPage
from kiosk.core.session import Session
from kiosk.core.staff_service import StaffService
from kiosk.i18n import N_, Translator
from kiosk.messages import (
    OrderDone,
    PickupFound,
    ProductLoaded,
    Recognised,
    ScanRead,
    ScanUnderstood,
    SearchDone,
)
from kiosk.screens.attract import AttractScreen
from kiosk.screens.confirm import ConfirmScreen
from kiosk.screens.countdown import CountdownScreen
from kiosk.screens.order import OrderScreen
from kiosk.screens.pickup import PickupScreen
from kiosk.screens.pickup_code import PickupCodeScreen
from kiosk.screens.product import ProductScreen
from kiosk.screens.search import SearchScreen
from kiosk.screens.staff_pin import StaffPinScreen
from kiosk.staff_mode import StaffMode

log = logging.getLogger(__name__)


class KioskApp(StaffMode, App):
    """The endless-aisle kiosk for shoppers."""

    CSS_PATH = Path(__file__).parent / "kiosk.tcss"
    ENABLE_COMMAND_PALETTE = False
    TITLE = ""

    def __init__(
        self,
        service: KioskService,
        settings: KioskSection,
        *,
        store_name: str = "",
        clock: Callable[[], float] = time.monotonic,
        scanner: Callable[[Callable[[ScanRead], None]], object] | None = None,
        staff: StaffService | None = None,
        staff_only: bool = False,
    ) -> None:
        super().__init__()
        self.staff = staff  # staff mode's data source; None: no staff mode here
        self.staff_only = staff_only and staff is not None
        self.service = service
        self.settings = settings
        self.store_name = store_name
        self.clock = clock
        self.translator = Translator(settings.language)
        self.session: Session | None = None
        self.last_activity = clock()
        self.countdown: CountdownScreen | None = None
        self._scanner_factory = scanner
        self._scanner = None
        self._wiping = False

    # -- language ------------------------------------------------------------------------

    def tr(self, message: str) -> str:
        """A message in the current language."""
        return self.translator.tr(message)

    def toggle_language(self) -> None:
        """Switch between Dutch and English for this session (and redraw the screen)."""
        self.touch()
        self.ensure_session()  # so the idle wipe brings the store's language back
        other = "en" if self.translator.language == "nl" else "nl"
        self.translator = Translator(other)
        self.call_later(self.screen.recompose)

    # -- lifecycle -----------------------------------------------------------------------

    def on_mount(self) -> None:
        self.push_screen(AttractScreen())
        if self.staff_only:  # a staff terminal: the PIN screen, never the shopper's
            self.push_screen(StaffPinScreen(can_cancel=False))
        self.set_interval(0.25, self.check_idle)
        self.warm_up()
        self.call_after_refresh(self._freeze_startup_objects)
        if self._scanner_factory is not None:
            self._scanner = self._scanner_factory(self.post_message)
            self._scanner.start()  # type: ignore[attr-defined]

    def _freeze_startup_objects(self) -> None:
        # Everything built at start lives as long as the kiosk: move it out of the
        # garbage collector's way, so a full collection never stalls a shopper's tap
        # (measured: ~100 ms pauses before a product page otherwise).
        gc.collect()
        gc.freeze()

    def on_unmount(self) -> None:
        gc.unfreeze()  # what this app built may be collected again once it is gone
        if self._scanner is not None:
            self._scanner.stop()  # type: ignore[attr-defined]
        if self.session is not None:
            self.session.end("shutdown")
            self.session = None

    async def action_quit(self) -> None:
        """Quit only outside shopper mode: a shopper must not be able to close the kiosk."""
        if not self.settings.shopper_mode:
            self.exit()

    def action_help_quit(self) -> None:
        """Ctrl+C: nothing in shopper mode (Textual would show its own quit hint)."""
        if not self.settings.shopper_mode:
            self.exit()

    # -- activity, idle and the wipe ----------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown | events.Click):
            self.touch()
        await super().on_event(event)

    def touch(self) -> None:
        """The shopper did something: restart the idle time, close a countdown."""
        self.last_activity = self.clock()
        if self.countdown is not None:
            countdown, self.countdown = self.countdown, None
            if countdown.is_current:
                self.pop_screen()

    def ensure_session(self) -> Session:
        """The current shopper's session, starting one at the first interaction."""
        if self.session is None:
            self.session = self.service.new_session()
        return self.session

    def check_idle(self) -> None:
        """Every 0.25 s: countdown after the idle time, wipe when it reaches zero."""
        if self.staff_signed_in or isinstance(self.screen, StaffPinScreen):
            # Staff mode has its own, longer idle time and no countdown.
            if self.clock() - self.last_activity >= self.settings.staff_idle_s:
                if self.staff_signed_in or not self.staff_only:
                    self.staff_sign_out("idle")
                self.last_activity = self.clock()
            return
        if isinstance(self.screen, AttractScreen) and self.session is None:
            self.last_activity = self.clock()
            return
        idle = self.clock() - self.last_activity
        if idle < self.settings.idle_s:
            return
        left = self.settings.idle_s + self.settings.countdown_s - idle
        if left <= 0:
            self.run_wipe("idle")
        elif self.countdown is None:
            self.countdown = CountdownScreen(int(left + 0.999))
            self.push_screen(self.countdown)
        else:
            self.countdown.tick(int(left + 0.999))

    def run_wipe(self, reason: str) -> None:
        """End the session and return to the attract screen with nothing personal left."""
        if not self._wiping:  # the idle check ticks on while a wipe is under way
            self._wiping = True
            self.run_worker(self.wipe(reason), group="wipe", exit_on_error=False)

    async def wipe(self, reason: str) -> None:
        """The wipe itself (awaitable, for tests)."""
        try:
            await self._wipe(reason)
        finally:
            self._wiping = False

    async def _wipe(self, reason: str) -> None:
        if self.session is not None:
            self.session.end(reason)
            self.session = None
        self.countdown = None
        self.clear_notifications()
        for screen in self.screen_stack:
            if isinstance(screen, OrderScreen):
                screen.clear()
        while len(self.screen_stack) > 2:
            await self.pop_screen()
        language_changed = self.translator.language != self.settings.language
        self.translator = Translator(self.settings.language)
        if language_changed:
            await self.screen.recompose()
        self.last_activity = self.clock()

    # -- navigation (called by screens) ----------------------------------------------------

    def open_search(self, query: str = "") -> None:
        """Show the search screen."""
        self.ensure_session()
        self.push_screen(SearchScreen(query))

    def open_product(self, sku: str) -> None:
        """Load and show a product."""
        self.ensure_session()
        self.load_product(sku)

    def open_order(self, page: ProductPage) -> None:
        """Show the order form for a product."""
        self.push_screen(OrderScreen(page))

    def open_pickup_code(self) -> None:
        """Show "collect an order": type the pick-up code."""
        self.ensure_session()
        self.push_screen(PickupCodeScreen())

    def record_nps(self, score: int, touchpoint: str = "kiosk") -> None:
        """The shopper's NPS answer (appending an event does not block)."""
        self.ensure_session().nps(score, touchpoint)

    # -- workers: blocking work off the UI thread, results as messages ------------------------

    @work(thread=True, exclusive=True, group="warm", exit_on_error=False)
    def warm_up(self) -> None:
        """Read the catalog once at start, off the UI thread."""
        self.service.warm_up()

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def run_search(self, query: str, offset: int) -> None:
        """Search the catalog."""
        result, hits = self.service.search(query, offset)
        self.post_message(SearchDone(result, hits))

    @work(thread=True, exclusive=True, group="product", exit_on_error=False)
    def load_product(self, sku: str) -> None:
        """Read a product page."""
        self.post_message(ProductLoaded(sku, self.service.product_page(sku)))

    @work(thread=True, exclusive=True, group="order", exit_on_error=False)
    def submit_order(self, req: OrderRequest) -> None:
        """Record an order (waits for its commit)."""
        session = self.ensure_session()
        try:
            placed = self.service.place_order(req, session)
        except OrderError as exc:
            self.post_message(OrderDone(None, exc.fields))
            return
        self.post_message(OrderDone(placed, []))

    @work(thread=True, exclusive=True, group="scan", exit_on_error=False)
    def understand_scan(self, data: str, symbology: str, read_at: float) -> None:
        """Classify a scan (the raw code goes no further) and look up what it points to."""
        action = self.service.scan(data, symbology)
        if isinstance(action, OpenProduct):
            sku = self.service.sku_for_gtin(action.gtin)
            page = self.service.product_page(sku) if sku else None
            self.post_message(ScanUnderstood(action, sku, read_at))
            if page is not None:
                self.post_message(ProductLoaded(page.product.sku, page))
        elif isinstance(action, Identify):
            self.post_message(ScanUnderstood(action, None, read_at))
            profile = self.service.recognise(action.pseudonym, action.key_id)
            wishlist = self.service.products(list(profile.wishlist)) if profile else []
            recent = self.service.products(list(profile.recently_viewed)) if profile else []
            self.post_message(
                Recognised(profile, (action.pseudonym, action.key_id), wishlist, recent)
            )
        elif isinstance(action, PickupStatus):
            self.post_message(PickupFound(action.code, self.service.checkin(action.code, "scan")))
        else:
            self.post_message(ScanUnderstood(action, None, read_at))

    @work(thread=True, exclusive=True, group="checkin", exit_on_error=False)
    def check_in(self, code: str, via: str) -> None:
        """The shopper is here for a typed pick-up code."""
        self.post_message(PickupFound(code.upper(), self.service.checkin(code, via)))

    @on(Worker.StateChanged)
    def worker_failed(self, event: Worker.StateChanged) -> None:
        """The one place worker errors end up: logged, and a friendly word to the shopper."""
        if event.state != WorkerState.ERROR:
            return
        log.error("kiosk worker %s failed: %s", event.worker.name, event.worker.error)
        self.notify(self.tr("Sorry, something went wrong. Please try again."), timeout=5)
        if isinstance(self.screen, OrderScreen):
            self.screen.query_one("#place").disabled = False

    # -- results --------------------------------------------------------------------------

    def on_search_done(self, message: SearchDone) -> None:
        if self.session is not None:
            self.session.searched(message.result.query, len(message.hits))
        if isinstance(self.screen, SearchScreen):
            self.screen.show_results(message.result, message.hits)

    def on_product_loaded(self, message: ProductLoaded) -> None:
        if message.page is None:
            self.notify(self.tr("Sorry, we cannot find this product."), timeout=5)
            return
        session = self.ensure_session()
        session.viewed(message.sku, message.page.product.stock.here)
        self.push_screen(ProductScreen(message.page))

    def on_order_done(self, message: OrderDone) -> None:
        screen = self.screen
        if message.order is None:
            if isinstance(screen, OrderScreen):
                screen.refused(message.bad_fields)
            return
        if isinstance(screen, OrderScreen):
            screen.clear()  # the typed details leave the screen now
        self.switch_screen(ConfirmScreen(message.order))

    def on_scan_read(self, message: ScanRead) -> None:
        self.touch()
        if self.staff_signed_in:
            self.staff_scan(message.data, message.symbology)
        else:
            self.understand_scan(message.data, message.symbology, message.read_at)

    def on_scan_understood(self, message: ScanUnderstood) -> None:
        action = message.action
        if isinstance(action, NotUnderstood) or (
            isinstance(action, OpenProduct) and message.sku is None
        ):
            text = (
                N_("Sorry, we do not sell this product.")
                if isinstance(action, OpenProduct)
                else N_("Sorry, we cannot read this code. Please try again or search.")
            )
            self.notify(self.tr(text), timeout=5)

    def on_recognised(self, message: Recognised) -> None:
        if self.session is not None and self.session.pseudonym not in (None, message.pseudonym):
            self.session.end("new_shopper")  # another card: a new shopper
            self.session = None
        session = self.ensure_session()
        session.identified(message.pseudonym, message.profile)
        # Recognised or not, the shopper goes on to search; only the greeting differs.
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.push_screen(SearchScreen(wishlist=message.wishlist, recent=message.recent))

    def on_pickup_found(self, message: PickupFound) -> None:
        self.ensure_session()
        if isinstance(self.screen, PickupCodeScreen | PickupScreen):
            self.pop_screen()
        self.push_screen(PickupScreen(message.code, message.order, self.service.tz))
