"""A search result or alternative: one big button with name, price and availability."""

from __future__ import annotations

from textual.widgets import Button

from kiosk.core.service import Hit


def badge_text(app, hit: Hit) -> str:
    """The availability badge in the shopper's language."""
    a = hit.availability
    if a.badge == "here":
        return app.tr("In stock here")
    if a.badge == "nearby":
        return app.tr("In another store")
    if a.badge == "online":
        return app.tr("Available online")
    if a.badge == "sold_out":
        return app.tr("Sold out")
    return app.tr("Stock unknown")


class ProductButton(Button):
    """Opens the product page of `hit` when tapped."""

    def __init__(self, app, hit: Hit, **kwargs) -> None:
        p = hit.product
        label = (
            f"{p.name}\n{app.translator.price(p.current_price_cents)}  ·  {badge_text(app, hit)}"
        )
        super().__init__(label, classes=f"product badge-{hit.availability.badge}", **kwargs)
        self.sku = p.sku
