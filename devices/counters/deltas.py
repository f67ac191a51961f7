"""Cumulative sensor totals → `Crossing` deltas, with wrap-around and reset detection.

Door counters report running totals (in, out) that wrap at a modulus (65536 for the
Terabee's u16 fields, 2**32 for the ASCII line protocol) and restart at 0 when the
sensor loses power. `DeltaTracker` remembers the last totals per sensor and turns
each new pair into the crossings since then. Its `state` is a small JSON-able dict the
caller persists after every update, so neither a reconnect nor an agent restart ever
counts the same people twice.

When a total goes *down*, it either wrapped past the modulus or the sensor restarted
from zero. Totals alone cannot always tell; the rule (docs/devices.md, "Deltas") is:

1. No total went down: plain differences.
2. A total went down and that fall is not a plausible wrap — the old value was not in
   the top `wrap_window` of the range or the new one is not in the bottom window —
   so the sensor restarted: the new totals are the crossings since the restart, in
   both directions (a power loss zeroes both).
3. Every fall looks like a wrap (old near the top, new near zero), which a restart
   near the top also looks like: take the explanation that needs fewer crossings
   (Occam's razor; a device reporting every crossing makes the true step tiny).
   A single-direction wrap while the other total is still counting is recognised,
   since a restart would have zeroed the other total too.

Known blind spots, both needing the link down while the sensor keeps counting:
a restart followed by more crossings than the old totals before we next hear from the
sensor reads as continuity (undercount); both totals wrapping during one outage reads
as a restart (undercount of the crossings before the wrap).
"""

from __future__ import annotations

import logging
from typing import Any

from devices.readings import Crossing, Reading, Totals

log = logging.getLogger(__name__)

STATE_VERSION = 1


class DeltaTracker:
    """Turns `Totals` into `Crossing` deltas; pure, one instance per port."""

    def __init__(
        self,
        *,
        modulus: int = 65536,
        wrap_window: int | None = None,
        count_first: bool = False,
    ) -> None:
        if modulus < 2:
            raise ValueError("modulus must be at least 2")
        self.modulus = modulus
        # A sixteenth of the range: wide enough for a long outage, narrow enough that
        # most restarts fall outside it and are recognised for sure.
        self.wrap_window = wrap_window if wrap_window is not None else max(1, modulus // 16)
        self.count_first = count_first
        self.resets = 0
        self.wraps = 0
        self._last: dict[str, tuple[int, int]] = {}

    @property
    def state(self) -> dict[str, Any]:
        """The last totals per sensor, as a JSON-able dict to persist."""
        return {
            "v": STATE_VERSION,
            "modulus": self.modulus,
            "sensors": {s: {"in": i, "out": o} for s, (i, o) in self._last.items()},
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], **kwargs: Any) -> DeltaTracker:
        """Rebuild a tracker from a persisted `state`; raises ValueError if malformed."""
        if not isinstance(state, dict) or state.get("v") != STATE_VERSION:
            raise ValueError(f"unsupported delta state: {state!r:.80}")
        tracker = cls(modulus=int(state.get("modulus", 65536)), **kwargs)
        sensors = state.get("sensors", {})
        if not isinstance(sensors, dict):
            raise ValueError("delta state: sensors must be an object")
        for sensor, totals in sensors.items():
            try:
                pair = (int(totals["in"]), int(totals["out"]))
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"delta state: sensors.{sensor}: {exc}") from exc
            if not all(0 <= v < tracker.modulus for v in pair):
                raise ValueError(f"delta state: sensors.{sensor}: totals out of range")
            tracker._last[str(sensor)] = pair
        return tracker

    def update(self, totals: Totals) -> list[Crossing]:
        """Crossings since the sensor's previous totals (empty for the first baseline)."""
        new = (totals.total_in % self.modulus, totals.total_out % self.modulus)
        old = self._last.get(totals.sensor)
        self._last[totals.sensor] = new
        if old is None:
            deltas = new if self.count_first else (0, 0)
        else:
            deltas = self._deltas(totals.sensor, old, new)
        return [
            Crossing(direction=direction, count=count, sensor=totals.sensor, ts=totals.ts)
            for direction, count in zip(("in", "out"), deltas, strict=True)
            if count
        ]

    def process(self, reading: Reading) -> list[Reading]:
        """Reader post-processing hook: `Totals` become crossings, the rest pass through."""
        if isinstance(reading, Totals):
            return list(self.update(reading))
        return [reading]

    def _deltas(self, sensor: str, old: tuple[int, int], new: tuple[int, int]) -> tuple[int, int]:
        m = self.modulus
        falls = [(o, n) for o, n in zip(old, new, strict=True) if n < o]
        if not falls:
            return (new[0] - old[0], new[1] - old[1])
        wrapped = ((new[0] - old[0]) % m, (new[1] - old[1]) % m)
        plausible_wrap = all(o >= m - self.wrap_window and n < self.wrap_window for o, n in falls)
        if plausible_wrap and sum(wrapped) <= sum(new):
            self.wraps += 1
            log.info("sensor %s: totals wrapped %s -> %s", sensor, old, new)
            return wrapped
        self.resets += 1
        log.warning(
            "sensor %s: totals went back from %s to %s: counted as a sensor restart",
            sensor,
            old,
            new,
        )
        return new
