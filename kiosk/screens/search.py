"""Search: results update as the shopper types, with price and availability, paged by buttons."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import Button, Input, Label

from kiosk.core.search import MIN_CHARS, SearchResult
from kiosk.core.service import Hit
from kiosk.screens.base import KioskScreen
from kiosk.widgets.header import KioskHeader
from kiosk.widgets.keyboard import OnScreenKeyboard, type_into
from kiosk.widgets.product_button import ProductButton


class SearchScreen(KioskScreen):
    """A search box, results as big buttons, paging buttons and an on-screen keyboard."""

    def __init__(
        self, query: str = "", wishlist: list[Hit] | None = None, recent: list[Hit] | None = None
    ) -> None:
        super().__init__()
        self.initial = query
        self.wishlist = wishlist or []
        self.recent = recent or []
        self.page_offset = 0
        self.result: SearchResult | None = None
        self._debounce: Timer | None = None

    def compose(self) -> ComposeResult:
        tr = self.app.tr  # type: ignore[attr-defined]
        yield KioskHeader(back=False)
        yield Input(self.initial, placeholder=tr("Type a product, brand or barcode"), id="query")
        yield Label("", id="search-status")
        yield Vertical(id="results")
        with Horizontal(id="paging"):
            yield Button(tr("Previous"), id="prev", classes="nav", disabled=True)
            yield Button(tr("Next"), id="next", classes="nav", disabled=True)
        yield OnScreenKeyboard(id="keyboard")

    def on_mount(self) -> None:
        self.query_one("#query", Input).focus()
        if self.initial:
            self.app.run_search(self.initial, 0)  # type: ignore[attr-defined]
        elif self.wishlist or self.recent:
            self._show_personal()

    def _show_personal(self) -> None:
        """A recognised shopper's wishlist and recently viewed products, until they type."""
        tr = self.app.tr  # type: ignore[attr-defined]
        page = self.app.settings.page_size  # type: ignore[attr-defined]
        widgets: list = []
        if self.wishlist:
            widgets.append(Label(tr("Your wishlist"), classes="list-title"))
            widgets += [ProductButton(self.app, h) for h in self.wishlist[:page]]
        if self.recent:
            widgets.append(Label(tr("Recently viewed"), classes="list-title"))
            widgets += [
                ProductButton(self.app, h) for h in self.recent[: max(0, page - len(widgets))]
            ]
        box = self.query_one("#results", Vertical)
        box.remove_children()
        box.mount_all(widgets)

    @on(OnScreenKeyboard.Typed)
    def typed(self, event: OnScreenKeyboard.Typed) -> None:
        type_into(self.query_one("#query", Input), event.key)

    @on(Input.Changed, "#query")
    def query_changed(self, event: Input.Changed) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self.page_offset = 0
        delay = self.app.settings.search_delay_ms / 1000  # type: ignore[attr-defined]
        if delay <= 0:
            self._search(event.value)
        else:
            self._debounce = self.set_timer(delay, lambda: self._search(event.value))

    def _search(self, query: str) -> None:
        if len(query.strip()) < MIN_CHARS:
            self.show_results(None, [])
            return
        self.app.run_search(query, self.page_offset)  # type: ignore[attr-defined]

    def show_results(self, result: SearchResult | None, hits: list[Hit]) -> None:
        """Replace the result list (called by the app when a search worker is done)."""
        current = self.query_one("#query", Input).value
        if result is not None and result.query != current:
            return  # an older search finished late: the shopper has typed on
        self.result = result
        tr = self.app.tr  # type: ignore[attr-defined]
        status = self.query_one("#search-status", Label)
        if result is None:
            status.update(tr("Type at least 3 letters"))
        elif not hits:
            status.update(tr("Nothing found. Try another word."))
        elif result.mode == "fuzzy":
            status.update(
                tr("Showing results for: {words}").format(words=" ".join(result.corrected))
            )
        else:
            status.update("")
        box = self.query_one("#results", Vertical)
        box.remove_children()
        box.mount_all([ProductButton(self.app, h) for h in hits])
        self.query_one("#prev", Button).disabled = not (result and result.offset > 0)
        self.query_one("#next", Button).disabled = not (result and result.has_more)

    @on(Button.Pressed, "#next")
    def next_page(self) -> None:
        if self.result:
            self.page_offset = self.result.offset + len(self.result.products)
            self.app.run_search(self.result.query, self.page_offset)  # type: ignore[attr-defined]

    @on(Button.Pressed, "#prev")
    def prev_page(self) -> None:
        if self.result:
            page = self.app.settings.page_size  # type: ignore[attr-defined]
            self.page_offset = max(0, self.result.offset - page)
            self.app.run_search(self.result.query, self.page_offset)  # type: ignore[attr-defined]

    @on(Button.Pressed, ".product")
    def open_product(self, event: Button.Pressed) -> None:
        self.app.open_product(event.button.sku)  # type: ignore[attr-defined]
