"""Visits: door counts → hourly entries, exits, visitors and occupancy (pure functions).

Shared by the store (`edge status`) and head office (the feeds), so both give the
same figures for the same events and hours. Definitions: docs/metrics.md.
- visitors = entries while open for a directional counter, plus half the crossings
  of a counter that cannot tell direction (it reports every crossing as "in");
  entries while closed are reported separately.
- staff: door scans of a staff badge while open are subtracted from that hour's
  visitors, and a configured number of staff entries per day from the day.
- occupancy runs from the day's first opening, entries minus exits, never < 0.
- an event whose clock was not trusted *and* whose time is impossible is kept in
  the log but left out of the buckets (`excluded`), until HQ re-bases it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from edge.clock import plausible
from edge.hours import OpeningHours


@dataclass(frozen=True)
class DoorRow:
    """One `door.count` event, as the bucketing needs it."""

    ts: str
    door: str
    direction: str
    count: int
    directional: bool = True
    clock_ok: bool = True


@dataclass
class HourFootfall:
    """Door counts of one local hour of a store (all doors), with occupancy."""

    start: datetime  # UTC, aware
    label: str  # local start with its UTC offset, e.g. '2026-03-29T03:00+02:00'
    entries: int = 0  # directional entries, open or not
    exits: int = 0
    undirected: int = 0  # crossings of counters that cannot tell direction
    entries_open: int = 0  # directional entries while the store was open
    undirected_open: int = 0
    staff: int = 0  # staff badge scans at a door while open
    occupancy_peak: int = 0
    occupancy_end: int = 0
    doors: dict[str, list[int]] = field(default_factory=dict)  # door -> [in, out, undirected]

    @property
    def visitors(self) -> float:
        """Shoppers who came in while open: entries plus half the undirected, less staff."""
        return max(0.0, self.entries_open + self.undirected_open / 2 - self.staff)

    @property
    def entries_outside_hours(self) -> float:
        """Entries (plus half the undirected crossings) while the store was closed."""
        return (self.entries - self.entries_open) + (self.undirected - self.undirected_open) / 2


@dataclass
class FootfallDay:
    """One local day of a store: its hours (23, 24 or 25 at DST changes) and day figures."""

    day: date
    hours: list[HourFootfall]
    staff_count: int = 0
    excluded: int = 0  # untrusted clock and an impossible time: kept, not bucketed
    occupancy_peak: int = 0
    occupancy: int = 0  # where occupancy stands after the last event counted

    @property
    def entries(self) -> int:
        """Directional entries over the day."""
        return sum(h.entries for h in self.hours)

    @property
    def exits(self) -> int:
        """Directional exits over the day."""
        return sum(h.exits for h in self.hours)

    @property
    def visitors(self) -> float:
        """The hours' visitors less the configured daily staff entries, never below 0."""
        return max(0.0, sum(h.visitors for h in self.hours) - self.staff_count)

    @property
    def accuracy(self) -> float | None:
        """Counting accuracy 1 - |in - out| / (in + out); None on a day without crossings."""
        total = self.entries + self.exits
        return None if total == 0 else 1 - abs(self.entries - self.exits) / total


def parse_ts(ts: str) -> datetime:
    """An event's UTC timestamp ('…T08:10:00.000Z') as an aware datetime."""
    # fromisoformat is C and reads the 'Z' (Python 3.11); strptime was most of a rollup.
    return datetime.fromisoformat(ts)


def format_ts(moment: datetime) -> str:
    """An aware datetime as the events' UTC ISO text with milliseconds."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def local_hour(ts: str, tz: ZoneInfo) -> str:
    """The local hour an event falls in, as 'YYYY-MM-DDTHH:00'."""
    return parse_ts(ts).astimezone(tz).strftime("%Y-%m-%dT%H:00")


def local_day(ts: str, tz: ZoneInfo) -> date:
    """The local calendar day an event falls in."""
    return parse_ts(ts).astimezone(tz).date()


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[local midnight, next local midnight) as aware UTC datetimes (23 to 25 hours apart)."""
    start = datetime.combine(day, time(0, 0), tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0, 0), tz).astimezone(UTC)
    return start, end


def day_hours(day: date, tz: ZoneInfo) -> list[tuple[datetime, str]]:
    """(UTC start, local label with offset) of every hour of a local day, in order."""
    start, end = day_bounds(day, tz)
    out = []
    t = start
    while t < end:
        out.append((t, t.astimezone(tz).isoformat(timespec="minutes")))
        t += timedelta(hours=1)
    return out


def footfall_day(
    rows: Iterable[DoorRow],
    day: date,
    tz: ZoneInfo,
    hours: OpeningHours,
    *,
    staff_scans: Iterable[tuple[str, str]] = (),
    staff_count: int = 0,
) -> FootfallDay:
    """A store's local day from its door counts (any order; rows outside the day are ignored).

    Rows must carry their final time (head office re-bases untrusted clocks first).
    Occupancy starts at 0 at the day's first opening, counts entries minus exits from
    then on and never goes below 0; rows before the opening do not move it.
    """
    slots = day_hours(day, tz)
    out = FootfallDay(
        day=day, hours=[HourFootfall(t, label) for t, label in slots], staff_count=staff_count
    )
    if not slots:
        return out
    first = slots[0][0]
    opening = hours.opening(day, tz)
    occ_from = opening.astimezone(UTC) if opening is not None else None
    timed = []
    for r in rows:
        moment = parse_ts(r.ts)
        if not r.clock_ok and not plausible(moment.timestamp()):
            out.excluded += 1
            continue
        idx = int((moment - first).total_seconds() // 3600)
        if 0 <= idx < len(slots):
            timed.append((moment, idx, r))
    timed.sort(key=lambda x: x[0])
    occupancy = 0
    last_idx = 0
    for moment, idx, r in timed:
        while last_idx < idx:  # carry occupancy through the hours without events
            out.hours[last_idx].occupancy_end = occupancy
            last_idx += 1
            out.hours[last_idx].occupancy_peak = occupancy
        h = out.hours[idx]
        is_open = hours.is_open(moment.astimezone(tz))
        per_door = h.doors.setdefault(r.door, [0, 0, 0])
        counting = occ_from is not None and moment >= occ_from
        if not r.directional:
            h.undirected += r.count
            per_door[2] += r.count
            if is_open:
                h.undirected_open += r.count
        elif r.direction == "in":
            h.entries += r.count
            per_door[0] += r.count
            if is_open:
                h.entries_open += r.count
            if counting:
                occupancy += r.count
        else:
            h.exits += r.count
            per_door[1] += r.count
            if counting:
                occupancy = max(0, occupancy - r.count)
        h.occupancy_peak = max(h.occupancy_peak, occupancy)
        out.occupancy_peak = max(out.occupancy_peak, occupancy)
    while last_idx < len(slots):
        out.hours[last_idx].occupancy_end = occupancy
        last_idx += 1
        if last_idx < len(slots):
            out.hours[last_idx].occupancy_peak = occupancy
    out.occupancy = occupancy
    for ts, _door in staff_scans:
        moment = parse_ts(ts)
        idx = int((moment - first).total_seconds() // 3600)
        if 0 <= idx < len(slots) and hours.is_open(moment.astimezone(tz)):
            out.hours[idx].staff += 1
    return out


class VisitWindows:
    """At most one identified visit per pseudonym per window (default 2 h)."""

    def __init__(self, window_s: float = 7200.0) -> None:
        self.window_s = window_s
        self._last: dict[str, float] = {}

    def admit(self, pseudonym: str, now: float) -> bool:
        """True if this sighting starts a new visit; False inside a running window."""
        started = self._last.get(pseudonym)
        if started is not None and now - started < self.window_s:
            return False
        self._last[pseudonym] = now
        if len(self._last) > 50_000:
            self._forget(now)
        return True

    def restore(self, pseudonym: str, started: float) -> None:
        """Reload a window opened before a restart (from the visit.identified events)."""
        if started > self._last.get(pseudonym, float("-inf")):
            self._last[pseudonym] = started

    def _forget(self, now: float) -> None:
        self._last = {p: t for p, t in self._last.items() if now - t < self.window_s}
