"""An order's line states and times at head office, folded from its store's events (pure).

The store is the authority on its lines (edge/pickup.py); head office replays what the
store reported, in the store's seq order:

- `pickup.line` sets a line `picked` or `short` (never a line already collected or
  put back);
- `pickup.ready` makes the picked lines `ready` (an event from an older store without
  `lines_ready` makes every line still open and not short ready); pick-up-by is the
  event's `pickup_by`, else `hold_days` after it in the store's zone;
- `pickup.checkin` notes the time;
- `pickup.handover` collects its lines (none named: the ready ones). A hand-over that
  is not partial ends the order: lines never handed over (short ones) are put back,
  and the order reads `collected`. That is also how a hand-over "without the missing
  items" arrives (`missing` names the lines the store put back; an older store sent
  none and meant the same);
- `pickup.no_show` and `pickup.cancelled` put their lines (none named: every open
  line) back and end the order as `expired` (`collected` when part of it was, as
  the store says) or `cancelled`.

Head office's own cancellation reads `cancelled` at once, before the store confirms it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from edge.pickup import ENDED, OrderState, order_state, pickup_by
from edge.visits import parse_ts


@dataclass(frozen=True)
class Step:
    """One store event about the order: its seq, type, UTC time and payload."""

    seq: int
    type: str
    ts: str
    data: dict


@dataclass
class Lifecycle:
    """An order's lines and times as head office knows them."""

    lines: dict[int, str]
    state: OrderState = "preparing"
    ready_at: datetime | None = None
    pickup_by: datetime | None = None
    checked_in_at: datetime | None = None
    ended_at: datetime | None = None  # when the store ended it (collected, expired, cancelled)
    collected_at: datetime | None = None  # the latest hand-over


def _named(lines: dict[int, str], data: dict) -> list[int]:
    return [n for n in data.get("lines") or [] if n in lines]


def _open(lines: dict[int, str]) -> list[int]:
    return [n for n, s in lines.items() if s not in ENDED]


def fold(
    line_numbers: Iterable[int],
    steps: Iterable[Step],
    *,
    cancelled_at_hq: bool,
    hold_days: int,
    tz: ZoneInfo,
) -> Lifecycle:
    """The order's Lifecycle from its store's events (in seq order) and head office's status."""
    life = Lifecycle({n: "to_pick" for n in line_numbers})
    lines = life.lines
    end: OrderState | None = None
    for step in sorted(steps, key=lambda s: s.seq):
        at = parse_ts(step.ts)
        d = step.data
        if step.type == "pickup.line":
            n = d.get("line")
            if n in lines and lines[n] not in ENDED:
                lines[n] = d.get("state", lines[n])
        elif step.type == "pickup.ready":
            old_store = d.get("lines_ready") is None
            for n, s in lines.items():
                if s == "picked" or (old_store and s == "to_pick"):
                    lines[n] = "ready"
            life.ready_at = at
            life.pickup_by = aware_time(d.get("pickup_by")) or pickup_by(at, hold_days, tz)
        elif step.type == "pickup.checkin":
            life.checked_in_at = at
        elif step.type == "pickup.handover":
            named = _named(lines, d) or [n for n, s in lines.items() if s == "ready"]
            for n in named or _open(lines):
                lines[n] = "collected"
            life.collected_at = at
            if not d.get("partial", False):
                for n in _open(lines):
                    lines[n] = "put_back"
                end, life.ended_at = "collected", at
        elif step.type in ("pickup.no_show", "pickup.cancelled"):
            for n in _open(lines):  # named or not: nothing stays open, nothing collected moves
                lines[n] = "put_back"
            if step.type == "pickup.cancelled":
                end = "cancelled"
            else:  # the rest of a partly collected order not fetched: it still was collected
                end = "collected" if "collected" in lines.values() else "expired"
            life.ended_at = at
    if cancelled_at_hq and end != "collected":
        life.state = "cancelled"
    elif end is not None:
        life.state = end
    else:
        life.state = order_state(lines.values())
    return life


def aware_time(text: object) -> datetime | None:
    """A time with an offset from an event, or None when it has none or is not a time."""
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
