"""The product page: price, rating, where to get it (here, nearby, online), alternatives."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label

from kiosk.core.service import Hit, ProductPage
from kiosk.screens.base import KioskScreen
from kiosk.widgets.header import KioskHeader
from kiosk.widgets.product_button import ProductButton


def price_text(translator, p) -> str:
    """The price; during a sale the sale price, then the usual one struck through."""
    if p.sale_price_cents is None or p.sale_price_cents >= p.price_cents:
        return translator.price(p.current_price_cents)
    return f"{translator.price(p.sale_price_cents)}  [strike]{translator.price(p.price_cents)}[/strike]"


def stock_lines(app, page: ProductPage) -> list[str]:
    """Where the product can be had, in the shopper's language (real counts only)."""
    tr, a = app.tr, page.availability
    lines = []
    if a.here is None:
        lines.append(tr("Stock in this store is not known right now."))
    elif a.low_stock is not None:
        lines.append(tr("Only {n} left in this store").format(n=a.low_stock))
    elif a.here > 0:
        lines.append(tr("In stock in this store: {n}").format(n=a.here))
    else:
        lines.append(tr("Sold out in this store"))
    for n in a.nearby:
        if n.quantity <= 0:
            continue
        where = f"{n.store} ({app.translator.km(n.km)})" if n.km is not None else n.store
        lines.append(tr("In store {store}: {n}").format(store=where, n=n.quantity))
    lines.append(
        tr("Online: {n}").format(n=a.online) if a.online > 0 else tr("Not available online")
    )
    return lines


class ProductScreen(KioskScreen):
    """One product, and the way to order it."""

    def __init__(self, page: ProductPage) -> None:
        super().__init__()
        self.page = page

    def compose(self) -> ComposeResult:
        app, p = self.app, self.page.product
        tr = app.tr  # type: ignore[attr-defined]
        yield KioskHeader()
        with Vertical(id="product"):
            yield Label(p.name, id="product-name")
            yield Label(" · ".join(x for x in (p.brand, p.category) if x), id="product-brand")
            yield Label(price_text(app.translator, p), id="product-price")  # type: ignore[attr-defined]
            if p.rating is not None:
                stars = f"★ {app.translator.decimal(p.rating)}"  # type: ignore[attr-defined]
                reviews = app.translator.ntr("{n} review", "{n} reviews", p.reviews)  # type: ignore[attr-defined]
                yield Label(f"{stars}  ({reviews.format(n=p.reviews)})", id="product-rating")
            if p.description:
                yield Label(p.description[:300], id="product-description")
            yield Label("\n".join(stock_lines(app, self.page)), id="product-stock")
            if self.page.alternatives:
                yield Label(tr("Available instead:"), id="alternatives-title")
                with Vertical(id="alternatives"):
                    for alt, avail in self.page.alternatives:
                        yield ProductButton(app, Hit(alt, avail))
            with Horizontal(id="product-actions"):
                if self.page.availability.in_stock_anywhere:
                    yield Button(tr("Order"), id="order", variant="primary")

    @on(Button.Pressed, "#order")
    def order(self) -> None:
        self.app.open_order(self.page)  # type: ignore[attr-defined]

    @on(Button.Pressed, ".product")
    def open_alternative(self, event: Button.Pressed) -> None:
        self.app.open_product(event.button.sku)  # type: ignore[attr-defined]
