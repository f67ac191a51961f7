"""What a scan at the kiosk means for the screen.

The code is classified by the store's own rules (`edge.classify`): loyalty cards
and app codes become a pseudonym there and the raw number goes no further than
this function's argument. The `scan` event it records is the privacy-safe one.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge.classify import ScanClassifier
from edge.events import ScanEvent


@dataclass(frozen=True)
class OpenProduct:
    """A product barcode: open that product (`sku` None: not in our catalog)."""

    gtin: str


@dataclass(frozen=True)
class Identify:
    """A loyalty card or a valid app code: look the shopper up."""

    pseudonym: str
    key_id: str


@dataclass(frozen=True)
class PickupStatus:
    """A click-&-collect pick-up code."""

    code: str


@dataclass(frozen=True)
class NotUnderstood:
    """A code the kiosk cannot use (unknown, refused app token, staff badge)."""

    reason: str


ScanAction = OpenProduct | Identify | PickupStatus | NotUnderstood


def scan_action(
    classifier: ScanClassifier, data: str, symbology: str, now: float
) -> tuple[ScanAction, ScanEvent]:
    """The action for a scanned code and the `scan` event to record (no raw identifier)."""
    event = classifier.classify(data, symbology, now, role="kiosk")
    if event.cls == "gtin" and event.code:
        return OpenProduct(event.code), event
    if event.cls in ("loyalty", "app_token") and event.pseudonym and event.key_id:
        return Identify(event.pseudonym, event.key_id), event
    if event.cls == "order_code" and event.code:
        return PickupStatus(event.code), event
    return NotUnderstood(event.rejected or event.cls), event
