"""Field parsers shared by every import kind: pure, each returns a value or raises Bad.

A `Bad` carries the reason shown to the person running the import. Reasons name the
field and what was expected; they never repeat a loyalty number or app id.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from functools import lru_cache

from edge.config import ID_PATTERN


class Bad(ValueError):
    """A field (or a row) that cannot be imported; the message is the reason."""


_STORE_ID = re.compile(ID_PATTERN)
# Ids from other systems (CRM customer ids, receipt numbers): printable, no separators
# that would make a CSV or a log line ambiguous.
_EXTERNAL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:@/+-]{0,127}")
_CONTROL = re.compile(r"[\x00-\x1f]")
_AMOUNT = re.compile(r"([+-]?)(\d{1,12})(?:\.(\d{1,2}))?")


def text(row: dict, name: str, *, required: bool = True, max_len: int = 200) -> str | None:
    """A text field, stripped; None when empty and not required."""
    value = row.get(name)
    if type(value) is str:  # the usual case first: this runs several times a row
        value = value.strip()
        if value and len(value) <= max_len and not _CONTROL.search(value):
            return value
    elif value is not None:
        raise Bad(f"{name}: expected text")
    if not value:
        if required:
            raise Bad(f"{name}: missing")
        return None
    if len(value) > max_len:
        raise Bad(f"{name}: longer than {max_len} characters")
    raise Bad(f"{name}: holds control characters")


def store_id(row: dict, name: str = "store") -> str:
    """A store id as on the wire: [A-Za-z0-9_-]{1,32}."""
    value = text(row, name, max_len=64)
    if not _STORE_ID.fullmatch(value):
        raise Bad(f"{name}: {value!r} is not a store id ([A-Za-z0-9_-]{{1,32}})")
    return value


def external_id(row: dict, name: str) -> str:
    """An id from another system: letters, digits and _.:@/+- , at most 128 characters."""
    value = text(row, name, max_len=128)
    if not _EXTERNAL_ID.fullmatch(value):
        raise Bad(f"{name}: {value!r} is not an id (letters, digits and _.:@/+-)")
    return value


def integer(row: dict, name: str, *, default: int | None = None, lo: int = 0, hi: int) -> int:
    """A whole number within [lo, hi]."""
    value = row.get(name)
    if value is None or value == "":
        if default is None:
            raise Bad(f"{name}: missing")
        return default
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise Bad(f"{name}: expected a whole number")
    try:
        number = int(value)
    except ValueError:
        raise Bad(f"{name}: {value!r} is not a whole number") from None
    if not lo <= number <= hi:
        raise Bad(f"{name}: {number} is outside {lo}..{hi}")
    return number


def cents(row: dict, name: str) -> int:
    """A decimal amount such as 12.50 as integer cents (sign kept)."""
    value = row.get(name)
    if value is None or value == "":
        raise Bad(f"{name}: missing")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Bad(f"{name}: expected a decimal amount such as 12.50")
    # A JSON number is taken through its shortest text (12.5 -> "12.5"), never a float sum.
    m = _AMOUNT.fullmatch(str(value).strip())
    if not m:
        raise Bad(f"{name}: {value!r} is not an amount (digits, at most 2 decimals: 12.50)")
    sign, whole, frac = m.groups()
    amount = int(whole) * 100 + int((frac or "0").ljust(2, "0"))
    return -amount if sign == "-" else amount


def _utc_text(moment: datetime) -> str:
    t = moment.astimezone(UTC)  # an f-string: strftime is several times slower
    return (
        f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
        f".{t.microsecond // 1000:03d}Z"
    )


def moment(row: dict, name: str, *, date_ok: bool, required: bool = True) -> str | None:
    """A time with a UTC offset (or a date, 00:00 UTC, when `date_ok`) as UTC 'YYYY-MM-DDTHH:MM:SS.mmmZ'."""
    value = text(row, name, required=required, max_len=40)
    if value is None:
        return None
    utc, problem = _utc(value, date_ok)
    if problem:
        raise Bad(f"{name}: {value!r} {problem}")
    return utc


@lru_cache(maxsize=8192)
def _utc(value: str, date_ok: bool) -> tuple[str, str]:
    """(UTC text, "") or ("", what is wrong). Cached: an export repeats its dates a lot."""
    if len(value) == 10 and date_ok:
        try:
            return f"{date.fromisoformat(value).isoformat()}T00:00:00.000Z", ""
        except ValueError:
            return "", "is not a date (YYYY-MM-DD)"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        expected = "a date or a time with offset" if date_ok else "a time with UTC offset"
        return "", f"is not {expected} (ISO 8601)"
    if parsed.tzinfo is None:
        return "", "has no UTC offset (add Z or +01:00)"
    try:
        return _utc_text(parsed), ""
    except OverflowError:
        return "", "is out of range"


def has_control(value: str) -> bool:
    """Whether text holds a control character (a broken CSV, a pasted escape)."""
    return _CONTROL.search(value) is not None


def id_list(row: dict, name: str, *, max_items: int = 500, max_len: int = 64) -> list[str]:
    """A list of ids: a JSON array, or text separated by '|' (CSV); empty = []."""
    value = row.get(name)
    if not value:
        return []
    if type(value) is str:
        items = value.split("|")
    elif type(value) is list:
        items = value
    else:
        raise Bad(f"{name}: expected a list")
    if len(items) > max_items:
        raise Bad(f"{name}: more than {max_items} items")
    out = [item.strip() if type(item) is str else "" for item in items]
    if not all(out):
        raise Bad(f"{name}: every item must be non-empty text")
    for item in out:
        if len(item) > max_len or _CONTROL.search(item):
            raise Bad(f"{name}: item {item[:20]!r}… is not an id")
    return out
