"""Scan classification: a decoded code becomes a privacy-safe `scan` event.

Order of the rules (first match wins): app token (signed, verified here), order
pick-up code, staff badge, loyalty card (config regex), product GTIN (valid GS1
check digit), else unknown. Loyalty numbers and app customer ids are turned into
pseudonyms before anything is returned; staff badge and unknown codes are not
kept at all, because they may identify a person and nothing needs them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from devices.scanners.checkdigits import gtin_valid
from edge.config import IdentitySection
from edge.configtree import SecretResolver
from edge.events import ScanEvent
from edge.identity import Pseudonymiser, TokenVerifier, looks_like_token, normalise_loyalty


@dataclass
class ScanClassifier:
    """Turns raw scans into `ScanEvent`s; counts refused app tokens by reason."""

    pseudonymiser: Pseudonymiser
    tokens: TokenVerifier | None
    loyalty_pattern: str = r"^(2\d{12}|\d{16,19})$"
    order_prefix: str = "TPO-"
    staff_prefix: str = "STAFF-"
    _loyalty: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._loyalty = re.compile(self.loyalty_pattern)

    def is_personal(self, text: str) -> bool:
        """Whether typed or scanned text is a loyalty number or an app token (never to be kept)."""
        t = text.strip()
        return looks_like_token(t) or bool(self._loyalty.match(t.replace(" ", "")))

    def classify(
        self, data: str, symbology: str, now: float, *, role: str = "door", door: str | None = None
    ) -> ScanEvent:
        """The `scan` event for one decoded code (never containing a raw identifier)."""
        base = {"symbology": symbology[:40], "role": role, "door": door}
        text = data.strip()
        if looks_like_token(text):
            if self.tokens is None:
                return ScanEvent(cls="app_token", rejected="tokens_disabled", **base)
            result = self.tokens.verify(text, now)
            if not result.valid or result.customer is None:
                return ScanEvent(cls="app_token", rejected=result.reason, **base)
            pseudonym, kid = self.pseudonymiser.pseudonym("app", result.customer)
            return ScanEvent(cls="app_token", pseudonym=pseudonym, key_id=kid, **base)
        if self.order_prefix and text.startswith(self.order_prefix):
            return ScanEvent(cls="order_code", code=text[:200], **base)
        if self.staff_prefix and text.startswith(self.staff_prefix):
            return ScanEvent(cls="staff_badge", **base)
        # The same normalisation as the pseudonym, so every printed form of a card
        # number is recognised and yields the one pseudonym head office computes.
        number = normalise_loyalty(text)
        if self._loyalty.match(number):
            pseudonym, kid = self.pseudonymiser.pseudonym("loyalty", number)
            return ScanEvent(cls="loyalty", pseudonym=pseudonym, key_id=kid, **base)
        if gtin_valid(text):
            return ScanEvent(cls="gtin", code=text, **base)
        return ScanEvent(cls="unknown", **base)


def classifier_from_config(ident: IdentitySection, secrets: SecretResolver) -> ScanClassifier:
    """The store's classifier: its chain keys, app-token key and code rules (agent and kiosk)."""
    keys = {k.id: secrets.read(k.file) for k in ident.keys}
    tokens = (
        TokenVerifier(secrets.read(ident.token_key_file), ident.token_step_s)
        if ident.token_key_file
        else None
    )
    return ScanClassifier(
        Pseudonymiser(keys, ident.active_key),
        tokens,
        loyalty_pattern=ident.loyalty_pattern,
        order_prefix=ident.order_prefix,
        staff_prefix=ident.staff_prefix,
    )
