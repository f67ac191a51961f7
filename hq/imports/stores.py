"""Store registry rows (`hq import stores`): one checked StoreRecord per input row, pure."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from hq.imports import hours
from hq.imports.fields import Bad, id_list, integer, store_id, text

# Column order of hq_store_registry (without updated_at), the order `values()` gives.
COLUMNS = (
    "store",
    "name",
    "timezone",
    "hours",
    "exceptions",
    "doors",
    "lat",
    "lon",
    "staff_count",
)


class StoreRecord(msgspec.Struct, frozen=True):
    """A registry row ready to store: hours, exceptions and doors as compact JSON text."""

    line: int
    store: str
    name: str
    timezone: str
    hours: str
    exceptions: str
    doors: str
    lat: float | None
    lon: float | None
    staff_count: int

    def values(self) -> tuple:
        """The row in COLUMNS order."""
        return (
            self.store,
            self.name,
            self.timezone,
            self.hours,
            self.exceptions,
            self.doors,
            self.lat,
            self.lon,
            self.staff_count,
        )


def _timezone(row: dict) -> str:
    name = text(row, "timezone", max_len=64)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Bad(f"timezone: {name!r} is not an IANA time zone (e.g. Europe/Amsterdam)") from None
    return name


def _coordinate(row: dict, name: str, bound: float) -> float | None:
    value = row.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Bad(f"{name}: expected a number")
    try:
        number = float(value)
    except ValueError:
        raise Bad(f"{name}: {value!r} is not a number") from None
    if not -bound <= number <= bound:  # also refuses nan
        raise Bad(f"{name}: {number} is outside -{bound:g}..{bound:g}")
    return number


def _compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def parse_store(row: dict, line: int) -> StoreRecord:
    """One input row as a StoreRecord; raises Bad with the reason."""
    lat, lon = _coordinate(row, "lat", 90), _coordinate(row, "lon", 180)
    if (lat is None) != (lon is None):
        raise Bad("lat/lon: give both or neither")
    doors = id_list(row, "doors", max_items=64, max_len=32)
    if len(set(doors)) != len(doors):
        raise Bad("doors: a door is named twice")
    return StoreRecord(
        line=line,
        store=store_id(row),
        name=text(row, "name"),
        timezone=_timezone(row),
        hours=_compact(hours.hours(row.get("hours"))),
        exceptions=_compact(hours.exceptions(row.get("exceptions"))),
        doors=_compact(doors),
        lat=lat,
        lon=lon,
        staff_count=integer(row, "staff_count", default=0, hi=10_000),
    )
