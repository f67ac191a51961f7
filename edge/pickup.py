"""Click & collect: line states, an order's state from its lines, and the shopper's texts.

Pure (no I/O), shared by the store (the kiosk and staff screens, the downlink, no-show
expiry) and head office (`hq order-status`, the web shop's track & trace), so both say
the same thing in the same words.

- A line is `to_pick`, `picked`, `short` (not found on the shelf), `ready`,
  `collected` or `put_back` (back to stock: expired or cancelled). The last two end
  a line.
- An order's state follows from its lines (`order_state`): `preparing`,
  `partly_ready` (n of m lines ready), `ready`, `partly_collected`, `collected`,
  `expired` or `cancelled`.
- Pick-up-by is the end of the store's local calendar day `hold_days` after the
  (latest) ready time.
- A hand-over "without the missing items" (the shopper agrees at the counter that
  what is not ready is not coming) ends the order: `close_out` says which lines are
  collected and which go back; the order then reads `collected`, and its text says how
  many of its items were collected.
- `shopper_text` words an order's state for shoppers in Dutch or English: never a
  system status.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

LineState = Literal["to_pick", "picked", "short", "ready", "collected", "put_back"]
OrderState = Literal[
    "preparing", "partly_ready", "ready", "partly_collected", "collected", "expired", "cancelled"
]
Lang = Literal["nl", "en"]

LINE_STATES: tuple[LineState, ...] = (
    "to_pick",
    "picked",
    "short",
    "ready",
    "collected",
    "put_back",
)
ENDED: frozenset[str] = frozenset({"collected", "put_back"})
# What staff may do to a line by hand (picking); ready, collected and put_back are
# reached only through mark-ready, hand-over, expiry and cancellation.
STAFF_MOVES: frozenset[tuple[str, str]] = frozenset(
    {
        ("to_pick", "picked"),
        ("to_pick", "short"),
        ("picked", "short"),  # dropped or damaged after all
        ("short", "picked"),  # found after all, or new stock arrived
    }
)
DEFAULT_HOLD_DAYS = 7


class LineNumberError(ValueError):
    """An order's line numbers are not usable (duplicated, or only some given)."""


def line_numbers(given: Sequence[int | None]) -> list[int]:
    """Each line's number: the ones head office gave, or 1..n by position when none are."""
    if all(n is None for n in given):
        return list(range(1, len(given) + 1))
    if any(n is None for n in given):
        raise LineNumberError("some lines have a line number and some do not")
    numbers = [int(n) for n in given if n is not None]
    if len(set(numbers)) != len(numbers):
        raise LineNumberError(f"line numbers repeat: {sorted(numbers)}")
    return numbers


def staff_may_move(old: str, new: str) -> bool:
    """Whether staff may set a line from `old` to `new` while picking."""
    return (old, new) in STAFF_MOVES


def close_out(lines: Mapping[int, str], handed: Iterable[int]) -> list[int]:
    """The lines a hand-over without the missing items puts back: every line still open
    (short, to pick, picked, or ready but not taken) that is not among `handed`."""
    taken = set(handed)
    return sorted(n for n, s in lines.items() if s not in ENDED and n not in taken)


def order_state(lines: Iterable[str], *, cancelled: bool = False) -> OrderState:
    """An order's state from its lines' states (`cancelled`: head office cancelled it)."""
    states = list(lines)
    if cancelled:
        return "cancelled"
    collected = states.count("collected")
    ready = states.count("ready")
    active = sum(1 for s in states if s not in ENDED)
    if states and active == 0:
        return "collected" if collected else "expired"
    if collected:
        return "partly_collected"
    if ready and ready == len(states):
        return "ready"
    if ready:
        return "partly_ready"
    return "preparing"


@dataclass(frozen=True)
class OrderSummary:
    """What the shopper's texts need of an order."""

    state: OrderState
    lines_total: int
    lines_ready: int
    lines_collected: int = 0
    pickup_by: datetime | None = None
    collected_at: datetime | None = None


def summarise(
    lines: Iterable[str],
    *,
    cancelled: bool = False,
    pickup_by: datetime | None = None,
    collected_at: datetime | None = None,
) -> OrderSummary:
    """An `OrderSummary` from the lines' states and the order's times."""
    states = list(lines)
    return OrderSummary(
        state=order_state(states, cancelled=cancelled),
        lines_total=len(states),
        lines_ready=states.count("ready"),
        lines_collected=states.count("collected"),
        pickup_by=pickup_by,
        collected_at=collected_at,
    )


def pickup_by(ready_at: datetime, hold_days: int, tz: ZoneInfo | str) -> datetime:
    """The last moment to collect: the end of the local day `hold_days` after `ready_at`."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    day = ready_at.astimezone(zone).date() + timedelta(days=hold_days)
    return datetime.combine(day, time(23, 59, 59), tzinfo=zone)


def is_due(pickup_by_at: datetime, now: datetime) -> bool:
    """Whether an order collectable until `pickup_by_at` has expired at `now`."""
    return now > pickup_by_at


_DAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "nl": ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
}
_MONTHS = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "nl": (
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ),
}


def day_text(moment: datetime, lang: Lang, tz: ZoneInfo | str) -> str:
    """A local date as people say it: "Saturday 14 June" / "zaterdag 14 juni"."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    local = moment.astimezone(zone)
    return f"{_DAYS[lang][local.weekday()]} {local.day} {_MONTHS[lang][local.month - 1]}"


_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "preparing": "We're getting your order ready",
        "ready": "Ready at the service desk until {day}",
        "ready_no_day": "Ready at the service desk",
        "partly_ready": "Part of your order is ready: {ready} of {total} items",
        "until": "At the service desk until {day}",
        "partly_collected": "You have collected part of your order: {collected} of {total} items",
        "rest_ready": "The rest is ready at the service desk until {day}",
        "rest_preparing": "We're getting the rest ready",
        "collected": "Collected on {day}",
        "collected_no_day": "Collected",
        "collected_some": "Collected on {day}: {collected} of {total} items",
        "collected_some_no_day": "Collected: {collected} of {total} items",
        "expired": "This order has expired: the items are back on the shelf",
        "cancelled": "This order has been cancelled",
    },
    "nl": {
        "preparing": "We maken je bestelling klaar",
        "ready": "Ligt klaar bij de servicebalie tot en met {day}",
        "ready_no_day": "Ligt klaar bij de servicebalie",
        "partly_ready": "Een deel van je bestelling ligt klaar: {ready} van {total} artikelen",
        "until": "Bij de servicebalie tot en met {day}",
        "partly_collected": "Je hebt een deel van je bestelling opgehaald: {collected} van {total}"
        " artikelen",
        "rest_ready": "De rest ligt klaar bij de servicebalie tot en met {day}",
        "rest_preparing": "We maken de rest klaar",
        "collected": "Opgehaald op {day}",
        "collected_no_day": "Opgehaald",
        "collected_some": "Opgehaald op {day}: {collected} van {total} artikelen",
        "collected_some_no_day": "Opgehaald: {collected} van {total} artikelen",
        "expired": "Deze bestelling is verlopen: de artikelen liggen weer in de winkel",
        "cancelled": "Deze bestelling is geannuleerd",
    },
}


def shopper_text(summary: OrderSummary, lang: Lang, tz: ZoneInfo | str) -> str:
    """The order's state in plain words for the shopper, in Dutch or English."""
    t = _TEXTS[lang]
    by = day_text(summary.pickup_by, lang, tz) if summary.pickup_by else None
    counts = {
        "ready": summary.lines_ready,
        "total": summary.lines_total,
        "collected": summary.lines_collected,
    }
    state = summary.state
    if state == "ready":
        return t["ready"].format(day=by) if by else t["ready_no_day"]
    if state == "partly_ready":
        first = t["partly_ready"].format(**counts)
        return f"{first}. {t['until'].format(day=by)}" if by else first
    if state == "partly_collected":
        first = t["partly_collected"].format(**counts)
        rest = t["rest_ready"].format(day=by) if summary.lines_ready and by else t["rest_preparing"]
        return f"{first}. {rest}"
    if state == "collected":
        # Some items never came (not found, or the rest expired): say how many did.
        key = "collected_some" if summary.lines_collected < summary.lines_total else "collected"
        when = summary.collected_at
        if when is None:
            return t[f"{key}_no_day"].format(**counts)
        return t[key].format(day=day_text(when, lang, tz), **counts)
    return t[state]


def utc_iso(moment: datetime) -> str:
    """An aware time as the store database keeps it: UTC, whole seconds, `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_utc(text: str | None) -> datetime | None:
    """A stored time (`utc_iso`), or None for an empty column."""
    return datetime.fromisoformat(text).astimezone(UTC) if text else None
