"""One shopper's session at the kiosk, and the events it leaves behind.

A session starts with the first touch or scan and ends with an order's goodbye or
the idle wipe. Everything personal (the recognised profile and its pseudonym, the
basket, the typed details, the search) lives on this object only, so ending the
session and dropping the object is the wipe.

`kiosk.search` is recorded once per search the shopper settled on, not per key:
typing on ("boo", "boor", "boorm") refines one search; a search is recorded when
the shopper opens a product, starts a different search, or the session ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import uuid_utils

from edge.events import KioskProductView, KioskSearch, KioskSession, NpsResponse, Payload
from kiosk.core.recognition import ProfileSummary

Emit = Callable[[Payload], None]


@dataclass
class Session:
    """The state of one shopper's visit to the kiosk."""

    emit: Emit
    clock: Callable[[], float] = time.monotonic
    # True for text that must never be kept (a loyalty number typed into the search).
    personal: Callable[[str], bool] = lambda _text: False
    id: str = field(default_factory=lambda: str(uuid_utils.uuid7()))
    started: float = 0.0
    profile: ProfileSummary | None = None
    pseudonym: tuple[str, str] | None = None
    basket: list[tuple[str, int]] = field(default_factory=list)
    _pending_search: tuple[str, int] | None = None
    ended: bool = False

    def __post_init__(self) -> None:
        self.started = self.clock()
        self.emit(KioskSession(session=self.id, action="start"))

    def searched(self, query: str, results: int) -> None:
        """Note a search; the previous one is recorded unless this one refines it."""
        q = query.strip()[:100]
        pending = self._pending_search
        if pending and not q.casefold().startswith(pending[0].casefold()):
            self._flush_search()
        self._pending_search = (q, results)

    def viewed(self, sku: str, in_stock_here: int | None) -> None:
        """A product was opened: the search that led here is settled."""
        self._flush_search()
        self.emit(KioskProductView(session=self.id, sku=sku, in_stock_here=in_stock_here))

    def identified(self, pseudonym: tuple[str, str], profile: ProfileSummary | None) -> None:
        """A loyalty card or app code was scanned (profile None: carry on generic)."""
        self.pseudonym = pseudonym
        self.profile = profile

    def nps(self, score: int, touchpoint: str = "kiosk") -> None:
        """The shopper's 0..10 answer."""
        self.emit(NpsResponse(score=score, touchpoint=touchpoint, session=self.id))

    def end(self, reason: str) -> None:
        """Record the end and forget everything personal."""
        if self.ended:
            return
        self._flush_search()
        self.emit(
            KioskSession(
                session=self.id,
                action="end",
                identified=self.pseudonym is not None,
                duration_s=round(max(0.0, self.clock() - self.started), 3),
                reason=reason,
            )
        )
        self.ended = True
        self.profile = None
        self.pseudonym = None
        self.basket.clear()

    def _flush_search(self) -> None:
        if self._pending_search and len(self._pending_search[0]) >= 3:
            q, n = self._pending_search
            # A card number typed into the search is recorded as a search, not its digits.
            self.emit(KioskSearch(session=self.id, query="" if self.personal(q) else q, results=n))
        self._pending_search = None
