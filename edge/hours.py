"""Opening hours of a store: weekly intervals plus dated exceptions (pure).

The same value is built from the store's own config (`[store.hours]`) and from head
office's store registry (`hq import stores`), so `edge status` and the feeds decide
"open" the same way. Times are local wall-clock "HH:MM"; a close of "24:00" means
midnight at the end of the day. A day without intervals is closed. `always_open`
(no hours known) counts every hour as open.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Interval = tuple[str, str]


def _minutes(hhmm: str) -> int:
    hh, mm = hhmm.split(":")
    return int(hh) * 60 + int(mm)


@lru_cache(maxsize=1024)
def _spans(intervals: tuple[Interval, ...]) -> tuple[tuple[int, int], ...]:
    return tuple((_minutes(a), _minutes(b)) for a, b in intervals)


@dataclass(frozen=True)
class OpeningHours:
    """When a store is open: `weekly[weekday]` intervals, `exceptions[ISO date]` overrides."""

    weekly: Mapping[str, Sequence[Interval]] = field(default_factory=dict)
    exceptions: Mapping[str, Sequence[Interval]] = field(default_factory=dict)
    always_open: bool = False
    # Where occupancy starts counting when no interval says (always open): local HH:MM.
    reset: str = "00:00"

    @classmethod
    def open_all_day(cls, reset: str = "00:00") -> OpeningHours:
        """A store whose hours are not known: every hour counts as open."""
        return cls(always_open=True, reset=reset)

    @classmethod
    def from_mapping(
        cls, weekly: Mapping[str, Sequence[Sequence[str]]], exceptions: Mapping | None = None
    ) -> OpeningHours:
        """From JSON-like data ({"mon": [["09:00", "18:00"]], …}); no weekly data = always open."""
        if not weekly:
            return cls.open_all_day()
        return cls(
            weekly={d: tuple((a, b) for a, b in weekly.get(d, ())) for d in WEEKDAYS},
            exceptions={k: tuple((a, b) for a, b in v) for k, v in (exceptions or {}).items()},
        )

    def intervals(self, day: date) -> Sequence[Interval]:
        """The day's opening intervals (local), exceptions first."""
        if self.always_open:
            return ((self.reset, "24:00"),)
        iso = day.isoformat()
        if iso in self.exceptions:
            return self.exceptions[iso]
        return self.weekly.get(WEEKDAYS[day.weekday()], ())

    def is_open(self, local: datetime) -> bool:
        """Whether a local time falls inside one of its day's intervals."""
        if self.always_open:
            return True
        m = local.hour * 60 + local.minute
        return any(lo <= m < hi for lo, hi in _spans(tuple(self.intervals(local.date()))))

    def opened_at(self, local: datetime) -> datetime | None:
        """When the interval holding `local` began (same zone), or None if closed then."""
        m = local.hour * 60 + local.minute
        for lo, hi in _spans(tuple(self.intervals(local.date()))):
            if lo <= m < hi:
                return local.replace(hour=lo // 60, minute=lo % 60, second=0, microsecond=0)
        return None

    def opening(self, day: date, tz: ZoneInfo) -> datetime | None:
        """The first opening moment of the day (aware), or None when closed all day."""
        spans = self.intervals(day)
        if not spans:
            return None
        return _at(day, min(a for a, _ in spans), tz)

    def closing(self, day: date, tz: ZoneInfo) -> datetime | None:
        """The last closing moment of the day (aware), or None when closed all day."""
        spans = self.intervals(day)
        if not spans:
            return None
        return _at(day, max(b for _, b in spans), tz)


def _at(day: date, hhmm: str, tz: ZoneInfo) -> datetime:
    if hhmm == "24:00":
        return datetime.combine(day + timedelta(days=1), time(0, 0), tz)
    return datetime.combine(day, time.fromisoformat(hhmm), tz)


def interval_problems(spans: Sequence[Sequence[str]]) -> list[str]:
    """What is wrong with a day's intervals: open before close, in order, not overlapping."""
    problems = []
    last_close = -1
    for a, b in spans:
        if _minutes(a) >= _minutes(b):
            problems.append(f"opening {a} is not before closing {b}")
        elif _minutes(a) < last_close:
            problems.append(f"interval {a}-{b} overlaps or precedes the one before it")
        last_close = max(last_close, _minutes(b))
    return problems
