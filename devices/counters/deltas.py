"""Cumulative sensor totals → `Crossing` deltas, with wrap-around and restart detection.

Door counters report running totals (in, out) that wrap at a modulus (65536 for the
Terabee's u16 fields, 2**32 for the ASCII line protocol) and restart at 0 when the
sensor loses power. `DeltaTracker` remembers the last totals per sensor and turns
each new pair into the crossings since then. Its `state` is a small JSON-able dict the
caller persists after every update, so neither a reconnect nor an agent restart ever
counts the same people twice.

Between two totals there are two explanations (docs/devices.md, "Deltas"):
*continuity* — the sensor kept counting, so each direction moved by
``(new - old) mod modulus`` — and *restart* — it lost power, so the new totals are the
crossings since. The true count is at least the delta of whichever explanation is
true, so the smaller of the two, per direction, can never count a crossing twice.

An explanation is *possible* when every direction's step under it is below a bound:
`listen_window` while the tracker has heard the sensor without a break since its last
totals (it reports after every crossing, so only a run of damaged frames can hide
crossings), and `wrap_window` across a break — the port lost and regained, or totals
restored after an agent restart — when the sensor may have counted (or restarted)
unheard. The port dropping is the one real signal: the sensors send nothing at boot
that tells a restart apart, and a UART-wired sensor can restart without the port
dropping.

1. No total went down: plain differences (which is also the smaller explanation).
2. Exactly one explanation is possible: take it (`wraps` / `resets`).
3. Both or neither: per direction the smaller delta, counted in `ambiguous` and
   described in `last_ambiguity` so the caller reports it: it can only undercount.
"""

from __future__ import annotations

import logging
from typing import Any

from devices.readings import Crossing, Reading, Rejected, Status, Totals

log = logging.getLogger(__name__)

STATE_VERSION = 1
AMBIGUOUS = "ambiguous_totals"


class DeltaTracker:
    """Turns `Totals` into `Crossing` deltas; pure, one instance per port."""

    def __init__(
        self,
        *,
        modulus: int = 65536,
        wrap_window: int | None = None,
        listen_window: int = 64,
        count_first: bool = False,
    ) -> None:
        if modulus < 2:
            raise ValueError("modulus must be at least 2")
        self.modulus = modulus
        # A sixteenth of the range: wide enough for a long outage, narrow enough that
        # most restarts fall outside it and are recognised for sure.
        self.wrap_window = wrap_window if wrap_window is not None else max(1, modulus // 16)
        self.listen_window = min(listen_window, self.wrap_window)
        self.count_first = count_first
        self.resets = 0
        self.wraps = 0
        self.ambiguous = 0
        self.last_ambiguity: str | None = None
        self._last: dict[str, tuple[int, int]] = {}
        # Sensors heard since the port last (re)connected: their next step is small.
        self._heard: set[str] = set()

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
        # Restored totals were not heard by this process: a break, by construction.
        return tracker

    def link_changed(self) -> None:
        """The port was lost or regained: the sensor may have counted or restarted unheard."""
        self._heard.clear()

    def update(self, totals: Totals) -> list[Crossing]:
        """Crossings since the sensor's previous totals (empty for the first baseline)."""
        new = (totals.total_in % self.modulus, totals.total_out % self.modulus)
        old = self._last.get(totals.sensor)
        heard = totals.sensor in self._heard
        self._last[totals.sensor] = new
        self._heard.add(totals.sensor)
        self.last_ambiguity = None
        if old is None:
            deltas = new if self.count_first else (0, 0)
        else:
            deltas = self._deltas(totals.sensor, old, new, heard)
        return [
            Crossing(direction=direction, count=count, sensor=totals.sensor, ts=totals.ts)
            for direction, count in zip(("in", "out"), deltas, strict=True)
            if count
        ]

    def process(self, reading: Reading) -> list[Reading]:
        """Reader post-processing hook: `Totals` become crossings, the rest pass through."""
        if isinstance(reading, Status) and reading.state in ("connected", "disconnected"):
            self.link_changed()
        if not isinstance(reading, Totals):
            return [reading]
        out: list[Reading] = list(self.update(reading))
        if self.last_ambiguity is not None:
            out.append(Rejected(reason=AMBIGUOUS, detail=self.last_ambiguity, ts=reading.ts))
        return out

    def _deltas(
        self, sensor: str, old: tuple[int, int], new: tuple[int, int], heard: bool
    ) -> tuple[int, int]:
        m = self.modulus
        continued = ((new[0] - old[0]) % m, (new[1] - old[1]) % m)
        if new[0] >= old[0] and new[1] >= old[1]:
            return continued
        bound = self.listen_window if heard else self.wrap_window
        wrap_ok = all(step < bound for step in continued)
        restart_ok = all(total < bound for total in new)
        if wrap_ok and not restart_ok:
            self.wraps += 1
            log.info("sensor %s: totals wrapped %s -> %s", sensor, old, new)
            return continued
        if restart_ok and not wrap_ok:
            self.resets += 1
            log.warning("sensor %s: totals went back %s -> %s: a sensor restart", sensor, old, new)
            return new
        # Either could be true (or neither fits): per direction the smaller delta is
        # never more than the truth, whichever explanation holds.
        deltas = (min(continued[0], new[0]), min(continued[1], new[1]))
        self.ambiguous += 1
        fits = "fit both" if wrap_ok else "fit neither"
        self.last_ambiguity = (
            f"sensor {sensor}: totals {old[0]}/{old[1]} -> {new[0]}/{new[1]} {fits} a wrap"
            f" (+{continued[0]}/+{continued[1]}) and a restart (+{new[0]}/+{new[1]});"
            f" counted +{deltas[0]}/+{deltas[1]}, possibly fewer than passed"
            + ("" if heard else " (the sensor was not heard throughout)")
        )
        log.warning("%s", self.last_ambiguity)
        return deltas
