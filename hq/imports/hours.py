"""Opening hours and exceptions: the compact CSV text and the JSON object, checked alike.

Stored form (hq/schema.py): hours ``{"mon": [["09:00", "18:00"]], …, "sun": []}``
with all seven days, intervals sorted, open < close, close up to "24:00";
exceptions ``{"2026-12-25": [], "2026-12-24": [["09:00", "16:00"]]}``.

CSV text (docs/imports.md): ``mon-fri 09:00-18:00; sat 10:00-12:00,13:00-17:00;
sun closed``; every day exactly once. Exceptions: ``2026-12-25 closed;
2026-12-24 09:00-16:00``.
"""

from __future__ import annotations

import re
from datetime import date
from itertools import pairwise

from hq.imports.fields import Bad

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d|24:00")

Intervals = list[list[str]]


def _intervals(value: object, where: str) -> Intervals:
    """Checked, sorted [[open, close], …] from JSON ([] = closed)."""
    if not isinstance(value, list):
        raise Bad(f"{where}: expected a list of [open, close]")
    out: Intervals = []
    for item in value:
        if not (
            isinstance(item, list) and len(item) == 2 and all(isinstance(t, str) for t in item)
        ):
            raise Bad(f'{where}: expected [open, close] pairs such as ["09:00", "18:00"]')
        opens, closes = item
        if not _TIME.fullmatch(opens) or opens == "24:00" or not _TIME.fullmatch(closes):
            raise Bad(f"{where}: {opens}-{closes} is not HH:MM-HH:MM")
        if opens >= closes:
            raise Bad(f"{where}: opens at {opens}, not before it closes at {closes}")
        out.append([opens, closes])
    out.sort()
    for (_, close_a), (open_b, _) in pairwise(out):
        if open_b < close_a:
            raise Bad(f"{where}: intervals overlap")
    return out


def _intervals_text(text: str, where: str) -> Intervals:
    if text == "closed":
        return []
    pairs = []
    for part in text.split(","):
        opens, sep, closes = part.strip().partition("-")
        if not sep:
            raise Bad(f"{where}: {part.strip()!r} is not HH:MM-HH:MM or 'closed'")
        pairs.append([opens.strip(), closes.strip()])
    return _intervals(pairs, where)


def _day_names(spec: str, where: str) -> list[str]:
    names: list[str] = []
    for part in spec.split(","):
        first, sep, last = part.strip().lower().partition("-")
        if first not in DAYS or (sep and last not in DAYS):
            raise Bad(f"{where}: {part.strip()!r} is not a day (mon..sun) or a range (mon-fri)")
        a, b = DAYS.index(first), DAYS.index(last) if sep else DAYS.index(first)
        if b < a:
            raise Bad(f"{where}: day range {part.strip()!r} runs backwards")
        names += DAYS[a : b + 1]
    return names


def hours(value: object, name: str = "hours") -> dict[str, Intervals]:
    """Weekly hours from the JSON object or the compact text; every day exactly once."""
    week: dict[str, Intervals] = {}
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(DAYS))
        if unknown:
            raise Bad(f"{name}: unknown day {unknown[0]!r} (mon..sun)")
        for day in DAYS:
            if day not in value:
                raise Bad(f"{name}: {day} missing (every day mon..sun, [] = closed)")
            week[day] = _intervals(value[day], f"{name}.{day}")
        return week
    if not isinstance(value, str) or not value.strip():
        raise Bad(f"{name}: missing")
    for clause in filter(None, (c.strip() for c in value.split(";"))):
        days, _, times = clause.partition(" ")
        if not times.strip():
            raise Bad(f"{name}: {clause!r} needs days and hours, e.g. 'mon-fri 09:00-18:00'")
        intervals = _intervals_text(times.strip(), name)
        for day in _day_names(days, name):
            if day in week:
                raise Bad(f"{name}: {day} given twice")
            week[day] = intervals
    missing = [d for d in DAYS if d not in week]
    if missing:
        raise Bad(f"{name}: {', '.join(missing)} missing (every day once; 'sun closed')")
    return {day: week[day] for day in DAYS}


def _date_key(text: object, name: str) -> str:
    try:
        if not isinstance(text, str) or len(text) != 10:
            raise ValueError
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise Bad(f"{name}: {text!r} is not a date (YYYY-MM-DD)") from None


def exceptions(value: object, name: str = "exceptions") -> dict[str, Intervals]:
    """Dated exceptions from the JSON object or the compact text; empty = none."""
    out: dict[str, Intervals] = {}
    if value is None or value == "":
        return out
    if isinstance(value, dict):
        for key, intervals in value.items():
            day = _date_key(key, name)
            out[day] = _intervals(intervals, f"{name}.{day}")
        return dict(sorted(out.items()))
    if not isinstance(value, str):
        raise Bad(f"{name}: expected an object or text such as '2026-12-25 closed'")
    for clause in filter(None, (c.strip() for c in value.split(";"))):
        key, _, times = clause.partition(" ")
        day = _date_key(key, name)
        if day in out:
            raise Bad(f"{name}: {day} given twice")
        if not times.strip():
            raise Bad(f"{name}: {clause!r} needs hours or 'closed'")
        out[day] = _intervals_text(times.strip(), name)
    return dict(sorted(out.items()))
