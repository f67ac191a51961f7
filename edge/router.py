"""Readings → store events: the one place device output becomes durable data.

- `Totals` from a counter go through that device's `DeltaTracker`; the crossings and
  the tracker's new state are appended as one unit, so a crash can neither lose nor
  repeat a crossing (the next totals are compared with what was committed).
  While the event log cannot commit (disk full) totals are not turned into events at
  all: the latest reading is kept aside and the tracker stays where it was, so when
  commits work again (`retry_deferred`, every tick) one delta carries every crossing
  of the outage. The sensor's cumulative totals are the buffer; nothing is lost.
  Totals that fit both a wrap and a sensor restart are counted low (never twice), counted as
  `ambiguous_totals` and described in a `device.status` written with them. The port
  connecting or dropping tells the tracker the sensor was not heard throughout.
- `Crossing` (GPIO beams, camera: already deltas) becomes `door.count`.
- `Scan` is classified and pseudonymised (edge/classify.py); an identified shopper
  seen at a door scanner opens at most one `visit.identified` per visit window.
- `Status` becomes `device.status` when the state changes.
- `Rejected` is counted per device and reason (`rejected`), logged once per reason
  per minute, and reported in the next periodic `device.status`.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from dataclasses import dataclass, field

from devices.counters.deltas import AMBIGUOUS, DeltaTracker
from devices.readings import Crossing, Reading, Rejected, Scan, Status, Totals
from edge.classify import ScanClassifier
from edge.eventlog import EventLog
from edge.events import DeviceStatus, DoorCount, ScanEvent, VisitIdentified
from edge.nonces import NONCE_PREFIX
from edge.visits import VisitWindows

log = logging.getLogger(__name__)


def tracker_key(device: str) -> str:
    """State-table key of a counter's persisted last totals."""
    return f"counter:{device}"


def health_key(device: str) -> str:
    """State-table key of a device's last known health."""
    return f"health:{device}"


@dataclass
class DeviceRoute:
    """What the router needs to know about one device."""

    name: str
    door: str | None = None
    directional: bool = True
    role: str = "door"
    # Where the sensor's cumulative totals wrap (65536 for a Terabee, 2**32 for ASCII).
    modulus: int = 65536
    tracker: DeltaTracker | None = None
    deferred: Totals | None = None  # the latest totals, kept aside while the log is blocked
    state: str = "starting"
    detail: str = ""
    rejected: Counter[str] = field(default_factory=Counter)
    reported: Counter[str] = field(default_factory=Counter)
    last_logged: dict[str, float] = field(default_factory=dict)


class ReadingRouter:
    """Turns each device's readings into events on the store's `EventLog`."""

    def __init__(self, log_: EventLog, classifier: ScanClassifier, windows: VisitWindows) -> None:
        self.eventlog = log_
        self.classifier = classifier
        self.windows = windows
        self.routes: dict[str, DeviceRoute] = {}
        self._lock = threading.Lock()

    def add(self, route: DeviceRoute) -> None:
        """Register a device before its component starts."""
        self.routes[route.name] = route

    def sink(self, device: str):
        """The `on_reading` callable to hand to a device component."""
        return lambda reading: self.handle(device, reading)

    def handle(self, device: str, reading: Reading) -> None:
        """Route one reading; never raises into a device thread."""
        route = self.routes[device]
        try:
            with self._lock:  # readers call in from their own threads
                self._dispatch(route, reading)
        except Exception:  # a bug here must not kill the reader that called us
            log.exception("could not route a reading from %s", device)
            route.rejected["internal"] += 1

    def _dispatch(self, route: DeviceRoute, reading: Reading) -> None:
        if isinstance(reading, Totals):
            self._totals(route, reading)
        elif isinstance(reading, Crossing):
            self._crossings(route, [reading], state=None)
        elif isinstance(reading, Scan):
            self._scan(route, reading)
        elif isinstance(reading, Status):
            if route.tracker is not None and reading.state in ("connected", "disconnected"):
                route.tracker.link_changed()
            self.set_health(route.name, reading.state, reading.detail)
        elif isinstance(reading, Rejected):
            self._rejected(route, reading)

    def _totals(self, route: DeviceRoute, totals: Totals) -> None:
        if self.eventlog.blocked:
            if route.deferred is None:
                log.warning(
                    "%s: the event log cannot commit; door counts wait in the sensor's totals",
                    route.name,
                )
            route.deferred = totals
            return
        route.deferred = None
        before = route.tracker.state if route.tracker is not None else None
        if route.tracker is None:
            route.tracker = DeltaTracker(modulus=route.modulus)
        crossings = route.tracker.update(totals)
        state = (tracker_key(route.name), json.dumps(route.tracker.state, sort_keys=True))
        notes = []
        ambiguous = route.tracker.last_ambiguity
        if ambiguous is not None:
            notes.append(
                DeviceStatus(
                    state=_reported_state(route),
                    detail=ambiguous[:500],
                    rejected={AMBIGUOUS: 1},
                )
            )
        if not self._crossings(route, crossings, state=state, notes=notes):
            # Refused at the memory bound: back to the totals that are queued or committed,
            # so the next reading carries these crossings again.
            route.tracker = DeltaTracker.from_state(before) if before is not None else None
            route.deferred = totals
        elif ambiguous is not None:
            route.rejected[AMBIGUOUS] += 1
            route.reported[AMBIGUOUS] += 1  # reported right here, with the counts

    def retry_deferred(self) -> None:
        """Turn totals kept aside while the log was blocked into door counts, once it is not."""
        if self.eventlog.blocked:
            return
        with self._lock:
            for route in self.routes.values():
                if route.deferred is not None and not self.eventlog.blocked:
                    log.info(
                        "%s: the event log commits again; catching up from the totals", route.name
                    )
                    self._totals(route, route.deferred)

    def _crossings(
        self, route: DeviceRoute, crossings: list[Crossing], state, notes: list | None = None
    ) -> bool:
        payloads: list = [
            DoorCount(
                door=route.door or route.name,
                direction=c.direction,
                count=c.count,
                sensor=c.sensor,
                directional=route.directional,
            )
            for c in crossings
            if c.count > 0
        ]
        payloads += notes or []
        ts = crossings[0].ts if crossings else None
        if payloads or state is not None:
            return self.eventlog.append_many(payloads, route.name, ts=ts, state=state)
        return True

    def _scan(self, route: DeviceRoute, scan: Scan) -> None:
        now = scan.ts if scan.ts is not None else self.eventlog.clock.now()
        event: ScanEvent = self.classifier.classify(
            scan.data, scan.symbology, now, role=route.role, door=route.door
        )
        payloads: list = [event]
        if event.rejected:
            route.rejected[f"token_{event.rejected}"] += 1
        identified = event.pseudonym and event.key_id and route.role == "door"
        if identified and self.windows.admit(event.pseudonym, now):
            payloads.append(
                VisitIdentified(
                    pseudonym=event.pseudonym,
                    key_id=event.key_id,
                    window_start=self.eventlog.clock.iso(now),
                    via="loyalty" if event.cls == "loyalty" else "app_token",
                    door=route.door,
                )
            )
        state = None
        tokens = self.classifier.tokens
        if tokens is not None:
            for nonce, step in tokens.take_consumed():  # at most one per scan
                state = (f"{NONCE_PREFIX}{nonce}", str(step))
        self.eventlog.append_many(payloads, route.name, ts=scan.ts, state=state)

    def _rejected(self, route: DeviceRoute, rejected: Rejected) -> None:
        route.rejected[rejected.reason] += 1
        now = rejected.ts or 0.0
        if now - route.last_logged.get(rejected.reason, -1e9) >= 60:
            route.last_logged[rejected.reason] = now
            log.warning(
                "%s: rejected input (%s), %d so far",
                route.name,
                rejected.reason,
                route.rejected[rejected.reason],
            )

    def set_health(self, device: str, state: str, detail: str = "") -> None:
        """Record a health change as a `device.status` event (only on change)."""
        route = self.routes[device]
        if state == route.state and detail == route.detail:
            return
        route.state, route.detail = state, detail
        value = json.dumps({"state": state, "detail": detail[:200]})
        status = DeviceStatus(state=state, detail=detail[:500])  # type: ignore[arg-type]
        self.eventlog.append(status, device, state=(health_key(device), value))

    def report_rejects(self) -> None:
        """Emit a `device.status` with reject counts that grew since the last report."""
        with self._lock:
            for route in self.routes.values():
                grown = route.rejected - route.reported
                if not grown:
                    continue
                route.reported = Counter(route.rejected)
                status = DeviceStatus(
                    state=_reported_state(route), detail="rejected input", rejected=dict(grown)
                )
                self.eventlog.append(status, route.name)


def _reported_state(route: DeviceRoute):
    """The state a report carries: the device's own when healthy, else degraded."""
    return route.state if route.state in ("connected", "ok") else "degraded"
