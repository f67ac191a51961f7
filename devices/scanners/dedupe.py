"""Duplicate-scan suppression shared by the serial and camera scanners.

A scanner in continuous or presentation mode, or a camera seeing a code in every
frame, reports the same code many times for one scan. A repeat of the same
(symbology, data) within `window` seconds of the *last* sighting is a duplicate, so a
code held in front of the reader is one scan however long it stays there; it counts
again once it has been away for a full window.
"""

from __future__ import annotations

from collections import OrderedDict


class DuplicateFilter:
    """Sliding-window duplicate detector over (symbology, data) keys; counts what it drops."""

    def __init__(self, window: float) -> None:
        self.window = max(0.0, float(window))
        self.duplicates = 0
        # Keys in order of last sighting, so expiry only ever looks at the front.
        self._last_seen: OrderedDict[tuple[str, str], float] = OrderedDict()

    def is_duplicate(self, symbology: str, data: str, now: float) -> bool:
        """Record a sighting at monotonic `now`; True (and counted) if it repeats a recent one."""
        self._expire(now)
        key = (symbology, data)
        seen = key in self._last_seen
        if self.window > 0:
            self._last_seen[key] = now
            self._last_seen.move_to_end(key)
        if seen:
            self.duplicates += 1
        return seen

    def _expire(self, now: float) -> None:
        """Forget keys not seen for a full window; bounds memory to one window of scans."""
        while self._last_seen:
            key, last = next(iter(self._last_seen.items()))
            # `now < last` means the clock jumped back; forget rather than suppress forever.
            if now - last < self.window and now >= last:
                break
            del self._last_seen[key]
