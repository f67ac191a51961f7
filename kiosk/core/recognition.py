"""Recognising a shopper at the kiosk: a pseudonym in, a profile summary (or nothing) out.

The kiosk asks with a pseudonym (never the card number) and waits at most the
configured time (1 s). Head office answers only for a profile with in-store
recognition consent, and only with what may be shown on a shared screen: a first
name, wishlist and recently viewed SKUs, open pick-up order codes. No answer in
time, offline, or no consent all look the same to the shopper: the kiosk carries
on without personal content and does not say why.

`OfflineRecognition` always answers None: the kiosk without MQTT, or with
`[kiosk] recognition = false`. `kiosk.core.mqtt_recognition.MqttRecognition` asks
head office (`up/lookup` / `down/lookup/{request}`, docs/wire.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class ProfileSummary:
    """What a recognised shopper's screen may show; nothing that identifies them elsewhere."""

    first_name: str
    wishlist: tuple[str, ...] = ()
    recently_viewed: tuple[str, ...] = ()
    open_orders: tuple[str, ...] = ()


class Recognition(Protocol):
    """Looks a pseudonymised shopper up; must return within `timeout_s`."""

    def lookup(self, pseudonym: str, key_id: str, timeout_s: float) -> ProfileSummary | None:
        """The profile summary, or None (unknown, no consent, offline, too slow)."""
        ...


class OfflineRecognition:
    """No head office to ask: nobody is recognised."""

    def lookup(self, pseudonym: str, key_id: str, timeout_s: float) -> ProfileSummary | None:
        """Always None, at once."""
        return None
