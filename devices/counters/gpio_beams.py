"""Two IR break-beams on Raspberry Pi GPIO: pin edges → `Crossing` readings.

Layout: beams A and B cross the doorway a few centimetres apart, closer together
than a body is deep, so a walker breaks both for a moment (wiring in docs/devices.md,
"GPIO beams"). Someone walking A→B breaks A, then B, clears A, then B. The beam
that broke first gives the direction; the crossing counts only if the walker left
on the far side (the last beam to clear is not the first to break). Both beams
must stay clear for a short settle time before a crossing is judged, so a gap
between arm and body, or a narrow object that clears A just before it breaks B,
does not split one walk in two.

`BeamSequencer` is the pure state machine (edges with monotonic times in, readings
out). `BeamPairCounter` is the thin shell that owns the pins through gpiozero.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Literal

from devices.protocol import ReadingSink
from devices.readings import Crossing, Reading, Rejected, Status, stamp

log = logging.getLogger(__name__)

Beam = Literal["a", "b"]
_OTHER: dict[str, Beam] = {"a": "b", "b": "a"}


class BeamSequencer:
    """Debounced two-beam crossing detector; never raises on odd edge sequences."""

    def __init__(
        self,
        *,
        sensor: str = "beams",
        in_order: str = "ab",
        debounce: float = 0.02,
        timeout: float = 3.0,
        settle: float = 0.2,
        blocked_after: float = 30.0,
    ) -> None:
        if in_order not in ("ab", "ba"):
            raise ValueError(f"in_order must be 'ab' or 'ba', not {in_order!r}")
        self.sensor = sensor
        self.in_first: Beam = "a" if in_order == "ab" else "b"
        self.debounce = max(0.0, float(debounce))
        self.timeout = float(timeout)
        self.settle = max(0.0, float(settle))
        self.blocked_after = float(blocked_after)
        # Raw level as last reported by the pin, and when it last changed.
        self._raw: dict[str, bool] = {"a": False, "b": False}
        self._raw_since: dict[str, float] = {"a": 0.0, "b": 0.0}
        # Debounced level (what the crossing logic sees), and since when.
        self._stable: dict[str, bool] = {"a": False, "b": False}
        self._stable_since: dict[str, float] = {"a": 0.0, "b": 0.0}
        self._blocked_reported: dict[str, bool] = {"a": False, "b": False}
        # idle: both clear; active: a crossing in progress; blocked: wait for both clear.
        self._phase: Literal["idle", "active", "blocked"] = "idle"
        self._first: Beam = "a"
        self._seen: set[str] = set()
        self._last_cleared: str = ""
        self._last_change = 0.0
        # While active: when both beams went clear (None while either is broken).
        self._clear_since: float | None = None
        self.counts: dict[str, int] = {"in": 0, "out": 0}
        self.rejected: dict[str, int] = {}
        self.glitches = 0

    def reset(self, a_broken: bool, b_broken: bool, now: float) -> None:
        """Start from the levels read at start-up; a beam already broken is not a crossing."""
        for beam, broken in (("a", a_broken), ("b", b_broken)):
            self._raw[beam] = self._stable[beam] = broken
            self._raw_since[beam] = self._stable_since[beam] = now
            self._blocked_reported[beam] = False
        self._phase = "blocked" if (a_broken or b_broken) else "idle"
        self._seen = set()
        self._last_cleared = ""
        self._clear_since = None

    def edge(self, beam: str, broken: bool, now: float) -> list[Reading]:
        """A pin reported `beam` broken/clear at monotonic `now`; return finished readings."""
        if beam not in _OTHER:
            return []
        out = self.poll(now)
        if broken == self._raw[beam]:
            return out  # a repeated level (edge lost or reported twice) changes nothing
        self._raw[beam] = broken
        self._raw_since[beam] = now
        if broken == self._stable[beam]:
            # It went back within the debounce time: a glitch, not a change.
            self.glitches += 1
            return out
        if self.debounce == 0:
            out += self._apply(beam)
        return out

    def poll(self, now: float) -> list[Reading]:
        """Confirm edges that outlasted the debounce time, then apply the timeouts."""
        out: list[Reading] = []
        # Apply confirmed changes in the order they happened: that order is the direction.
        pending = sorted(
            (self._raw_since[b], b)
            for b in ("a", "b")
            if self._raw[b] != self._stable[b] and now - self._raw_since[b] >= self.debounce
        )
        for _, beam in pending:
            out += self._apply(beam)
        out += self._advance(now)
        out += self._check_blocked(now)
        return out

    def _apply(self, beam: str) -> list[Reading]:
        """Make a confirmed change of `beam` visible to the crossing logic."""
        t = self._raw_since[beam]
        out = self._advance(t)
        broken = self._raw[beam]
        self._stable[beam] = broken
        self._stable_since[beam] = t
        if not broken and self._blocked_reported[beam]:
            self._blocked_reported[beam] = False
            out.append(Status(state="connected", detail=f"beam {beam} clear", device=self.sensor))
        if self._phase == "idle":
            if broken:
                self._phase = "active"
                self._first = beam  # type: ignore[assignment]
                self._seen = {beam}
                self._last_cleared = ""
                self._last_change = t
            return out
        if self._phase == "blocked":
            if not (self._stable["a"] or self._stable["b"]):
                self._phase = "idle"
            return out
        self._last_change = t
        if broken:
            self._seen.add(beam)
            self._clear_since = None  # broken again within the settle time: same walk
            return out
        self._last_cleared = beam
        if self._stable["a"] or self._stable["b"]:
            return out
        self._clear_since = t
        return out + self._advance(t)

    def _complete(self) -> Reading:
        """Both beams are clear again: decide what the walker did."""
        if len(self._seen) < 2:
            return self._reject("half_crossing", f"only beam {self._first} broke")
        if self._last_cleared == self._first:
            return self._reject("reversal", f"entered and left by beam {self._first}")
        direction = "in" if self._first == self.in_first else "out"
        self.counts[direction] += 1
        return Crossing(direction=direction, count=1, sensor=self.sensor)

    def _advance(self, now: float) -> list[Reading]:
        """Time-driven steps: judge a walk once both beams settled clear; expire stalled walks."""
        if self._phase != "active":
            return []
        if self._clear_since is not None:
            if now - self._clear_since < self.settle:
                return []
            self._phase = "idle"
            self._clear_since = None
            return [self._complete()]
        if now - self._last_change <= self.timeout:
            return []
        # No change for `timeout` seconds with a beam still broken: abandoned, uncounted.
        any_broken = self._stable["a"] or self._stable["b"]
        self._phase = "blocked" if any_broken else "idle"
        beams = "+".join(sorted(self._seen))
        return [self._reject("half_crossing", f"timed out after beam {beams} broke")]

    def _check_blocked(self, now: float) -> list[Reading]:
        """Report a beam broken for too long (misaligned, or something left in the door)."""
        out: list[Reading] = []
        for beam in ("a", "b"):
            if (
                self._stable[beam]
                and not self._blocked_reported[beam]
                and now - self._stable_since[beam] >= self.blocked_after
            ):
                self._blocked_reported[beam] = True
                detail = f"beam {beam} blocked for {self.blocked_after:g} s"
                out.append(Status(state="degraded", detail=detail, device=self.sensor))
        return out

    def _reject(self, reason: str, detail: str) -> Rejected:
        """Count and build a rejection so uncounted walks are visible, not silent."""
        self.rejected[reason] = self.rejected.get(reason, 0) + 1
        return Rejected(reason=reason, detail=detail, device=self.sensor)


class BeamPairCounter:
    """Component: two gpiozero input pins feeding a `BeamSequencer`; readings go to the sink."""

    def __init__(
        self,
        on_reading: ReadingSink,
        *,
        pin_a: int | str,
        pin_b: int | str,
        sensor: str = "beams",
        in_order: str = "ab",
        pull_up: bool | None = True,
        broken_level: Literal["low", "high"] = "low",
        bounce_time: float | None = None,
        debounce: float = 0.02,
        timeout: float = 3.0,
        settle: float = 0.2,
        blocked_after: float = 30.0,
        poll_interval: float = 0.02,
        pin_factory: Any = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if broken_level not in ("low", "high"):
            raise ValueError(f"broken_level must be 'low' or 'high', not {broken_level!r}")
        self._sink = on_reading
        self._pins = {"a": pin_a, "b": pin_b}
        self._sensor = sensor
        self._pull_up = pull_up
        self._broken_level = broken_level
        self._bounce_time = bounce_time
        self._poll_interval = poll_interval
        self._pin_factory = pin_factory
        self._clock = clock
        self._wall_clock = wall_clock
        self.sequencer = BeamSequencer(
            sensor=sensor,
            in_order=in_order,
            debounce=debounce,
            timeout=timeout,
            settle=settle,
            blocked_after=blocked_after,
        )
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._devices: dict[str, Any] = {}

    @property
    def alive(self) -> bool:
        """Whether the worker thread runs (the supervisor restarts the component otherwise)."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Claim both pins and start the timeout thread; pin errors are reported, then raised."""
        from gpiozero import DigitalInputDevice  # deferred: only Pi deployments need gpiozero

        if self._thread is not None:
            return
        try:
            for beam, pin in self._pins.items():
                self._devices[beam] = DigitalInputDevice(
                    pin,
                    pull_up=self._pull_up,
                    active_state=None if self._pull_up is not None else True,
                    bounce_time=self._bounce_time,
                    pin_factory=self._pin_factory,
                )
        except Exception as exc:  # gpiozero raises many types: bad pin, in use, no factory
            self._close_devices()
            self._emit(Status(state="error", detail=f"GPIO: {exc}", device=self._sensor))
            raise
        with self._lock:
            now = self._clock()
            self.sequencer.reset(self._is_broken("a"), self._is_broken("b"), now)
            for beam, dev in self._devices.items():
                dev.when_activated = self._callback(beam, True)
                dev.when_deactivated = self._callback(beam, False)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"beams-{self._sensor}", daemon=True)
        self._thread.start()
        pins = f"a={self._pins['a']} b={self._pins['b']}"
        self._emit(Status(state="connected", detail=pins, device=self._sensor))

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the thread and release both pins within `timeout` seconds."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._close_devices()
        self._emit(Status(state="disconnected", device=self._sensor))

    def _is_broken(self, beam: str) -> bool:
        """Current level of `beam` as broken/clear, honouring the configured broken level."""
        return self._active_means_broken() == bool(self._devices[beam].value)

    def _active_means_broken(self) -> bool:
        """gpiozero's "active" is low with a pull-up, high otherwise; map it to "broken"."""
        active_low = self._pull_up is True
        return active_low == (self._broken_level == "low")

    def _callback(self, beam: str, active: bool) -> Callable[[], None]:
        """A gpiozero callback feeding `beam`'s edge into the sequencer."""
        broken = active == self._active_means_broken()

        def on_edge() -> None:
            # Emit under the lock so the pin thread and the poll thread keep readings in order.
            with self._lock:
                for reading in self.sequencer.edge(beam, broken, self._clock()):
                    self._emit(reading)

        return on_edge

    def _run(self) -> None:
        """Drive debounce confirmation and timeouts when no edges arrive."""
        while not self._stop.wait(self._poll_interval):
            try:
                with self._lock:
                    for reading in self.sequencer.poll(self._clock()):
                        self._emit(reading)
            except Exception:  # keep counting: one bad sink call must not end the thread
                log.exception("beam counter %s: poll failed", self._sensor)

    def _emit(self, reading: Reading) -> None:
        """Stamp with wall-clock time and hand to the sink."""
        self._sink(stamp(reading, self._wall_clock()))

    def _close_devices(self) -> None:
        """Detach callbacks and release the pins (idempotent)."""
        for dev in self._devices.values():
            try:
                dev.when_activated = None
                dev.when_deactivated = None
                dev.close()
            except Exception:  # releasing is best effort; the pins are gone either way
                log.debug("beam counter %s: close failed", self._sensor, exc_info=True)
        self._devices.clear()
