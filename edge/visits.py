"""Visits: door counts → hourly entries, exits, visitors and occupancy (pure functions).

Rules (docs/metrics.md will hold the head-office side of the same definitions):
- visitors = entries for a directional counter; (in + out) / 2 for one that
  cannot tell direction (it reports every crossing as "in").
- staff: door scans of a staff badge are subtracted from that hour's visitors, and
  a configured number of staff entries per day is subtracted from the day.
- occupancy runs from the store's opening time, entries minus exits, never < 0.
- an event whose clock was not trusted *and* whose time is impossible is kept in
  the log but left out of the buckets (`excluded`), until HQ re-bases it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from edge.clock import plausible


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
class Bucket:
    """Entries, exits and visitors of one door in one local hour."""

    entries: int = 0
    exits: int = 0
    undirected: int = 0
    staff: int = 0

    @property
    def visitors(self) -> float:
        """Shoppers who came in: entries, plus half the undirected crossings, less staff."""
        return max(0.0, self.entries + self.undirected / 2 - self.staff)


@dataclass
class DaySummary:
    """One store-day: hourly buckets per door, occupancy, what was left out."""

    hours: dict[tuple[str, str], Bucket] = field(default_factory=dict)
    excluded: int = 0
    occupancy: int = 0
    peak_occupancy: int = 0
    staff_count: int = 0

    @property
    def entries(self) -> int:
        """Entries over all doors."""
        return sum(b.entries for b in self.hours.values())

    @property
    def exits(self) -> int:
        """Exits over all doors."""
        return sum(b.exits for b in self.hours.values())

    @property
    def visitors(self) -> float:
        """Visitors over all doors, less the configured daily staff entries."""
        return max(0.0, sum(b.visitors for b in self.hours.values()) - self.staff_count)


def parse_ts(ts: str) -> datetime:
    """An event's UTC timestamp as an aware datetime."""
    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def local_hour(ts: str, tz: ZoneInfo) -> str:
    """The local hour an event falls in, as 'YYYY-MM-DDTHH:00'."""
    return parse_ts(ts).astimezone(tz).strftime("%Y-%m-%dT%H:00")


def day_window(day: str, opening: str, tz: ZoneInfo) -> tuple[str, str]:
    """UTC ISO bounds [opening time of `day`, opening time of the next day)."""
    hh, mm = (int(x) for x in opening.split(":"))
    start = datetime.combine(datetime.fromisoformat(day).date(), time(hh, mm), tz)
    end = start + timedelta(days=1)
    fmt = "%Y-%m-%dT%H:%M:%S.000Z"
    return start.astimezone(UTC).strftime(fmt), end.astimezone(UTC).strftime(fmt)


def summarise(
    rows: Iterable[DoorRow],
    tz: ZoneInfo,
    *,
    staff_scans: Iterable[tuple[str, str]] = (),
    staff_count: int = 0,
) -> DaySummary:
    """Bucket door counts (in time order) by door and local hour; track occupancy."""
    summary = DaySummary(staff_count=staff_count)
    for row in rows:
        ts = parse_ts(row.ts).timestamp()
        if not row.clock_ok and not plausible(ts):
            summary.excluded += 1
            continue
        bucket = summary.hours.setdefault((row.door, local_hour(row.ts, tz)), Bucket())
        if not row.directional:
            bucket.undirected += row.count
        elif row.direction == "in":
            bucket.entries += row.count
            summary.occupancy += row.count
        else:
            bucket.exits += row.count
            summary.occupancy = max(0, summary.occupancy - row.count)
        summary.peak_occupancy = max(summary.peak_occupancy, summary.occupancy)
    for ts, door in staff_scans:
        bucket = summary.hours.setdefault((door, local_hour(ts, tz)), Bucket())
        bucket.staff += 1
    return summary


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
