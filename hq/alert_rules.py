"""When a store deserves an alert (pure): facts at a moment in, the conditions that hold out.

Each rule returns the conditions that hold now; hq/alerts.py raises an alert for a
condition that starts to hold and clears it once it no longer does. A condition is
(store, kind, subject, detail); the subject tells apart alerts of one kind in a store
(a door, a local date) and is '' for the store as a whole. Details only change when
the facts do (no "for 17 minutes" that would change every evaluation).

- `offline`: not online (hq/status.py) for more than `offline_min` since last seen;
  a store the config expects (`hq.stores`) that never reported, at once.
- `door_silent`: a registry door sent no count for `door_silent_min` of opening
  hours while the store is online (the current opening interval must be that old).
- `imbalance`: on the store's last trading day whose closing (+ grace) has passed,
  exits and entries differ by more than `imbalance_pct` of the larger, with at least
  `imbalance_min_crossings` crossings. It stays until the next day closes.
- `gap`: the oldest sequence gap has been open longer than `gap_min`.
- `dead_letters`: dead letters arrived within the last `dead_letter_min` minutes.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from edge.hours import OpeningHours
from hq.status import StoreStatus

KINDS = ("offline", "door_silent", "imbalance", "gap", "dead_letters")


class Condition(NamedTuple):
    """A condition that holds now: the alert it keeps open, and what it says."""

    store: str
    kind: str
    subject: str
    detail: str


@dataclass(frozen=True)
class AlertRules:
    """The thresholds (config `[alerts]`, defaults from the issue)."""

    offline_min: float = 15.0
    door_silent_min: float = 30.0
    imbalance_pct: float = 10.0
    imbalance_min_crossings: int = 20
    closing_grace_min: float = 15.0
    gap_min: float = 60.0
    dead_letter_min: float = 60.0


@dataclass(frozen=True)
class Registry:
    """What the registry says of a store: its zone, hours and doors."""

    tz: ZoneInfo
    hours: OpeningHours
    doors: tuple[str, ...]


def counted(n: int, thing: str) -> str:
    """'1 gap', '2 gaps'."""
    return f"{n} {thing}" if n == 1 else f"{n} {thing}s"


def status_conditions(st: StoreStatus, rules: AlertRules) -> list[Condition]:
    """The offline and gap conditions of one store's status."""
    out = []
    if not st.online:
        if st.seen_ago_s is None:
            if st.expected:
                out.append(Condition(st.store, "offline", "", "never reported"))
        elif st.seen_ago_s > rules.offline_min * 60:
            out.append(Condition(st.store, "offline", "", f"last seen {st.last_seen}"))
    if st.gap_open_s is not None and st.gap_open_s > rules.gap_min * 60:
        out.append(
            Condition(
                st.store,
                "gap",
                "",
                f"{counted(st.missing, 'event')} missing above seq {st.acked_through}"
                f" ({counted(st.gaps, 'gap')}), open since {st.gap_since}",
            )
        )
    return out


def doors_judged(reg: Registry, now: datetime, rules: AlertRules) -> bool:
    """Whether a store's doors can be judged at `now`: it has doors and has been open
    (in its current opening interval) for at least `door_silent_min`."""
    if not reg.doors:
        return False
    local = now.astimezone(reg.tz)
    opened = reg.hours.opened_at(local)
    return opened is not None and local - opened >= timedelta(minutes=rules.door_silent_min)


def silent_doors(
    store: str, reg: Registry, counted: Collection[str], rules: AlertRules
) -> list[Condition]:
    """Registry doors without a count (`counted`: doors with one) in the last silent period.

    For an online store whose doors are judged now (`doors_judged`).
    """
    return [
        Condition(
            store,
            "door_silent",
            door,
            f"no count in the last {rules.door_silent_min:g} minutes of opening hours",
        )
        for door in reg.doors
        if door not in counted
    ]


def last_closed_day(reg: Registry, now: datetime, rules: AlertRules) -> date | None:
    """The store's latest local day whose closing (plus grace) has passed, within a week."""
    today = now.astimezone(reg.tz).date()
    grace = timedelta(minutes=rules.closing_grace_min)
    for back in range(8):
        day = today - timedelta(days=back)
        closing = reg.hours.closing(day, reg.tz)
        if closing is not None and closing + grace <= now:
            return day
    return None


def imbalance(
    store: str, day: date, entries: int, exits: int, rules: AlertRules
) -> Condition | None:
    """The in/out imbalance of a closed day, if over the threshold."""
    if entries + exits < max(1, rules.imbalance_min_crossings):
        return None
    share = abs(entries - exits) / max(entries, exits)
    if share * 100 <= rules.imbalance_pct:
        return None
    return Condition(
        store,
        "imbalance",
        day.isoformat(),
        f"entries {entries}, exits {exits}: {share:.0%} apart at closing",
    )


def dead_letter_condition(store: str, count: int, last_at: str, rules: AlertRules) -> Condition:
    """Dead letters arrived within the window: how many and the last."""
    return Condition(
        store,
        "dead_letters",
        "",
        f"{counted(count, 'dead letter')} in the last {rules.dead_letter_min:g} minutes,"
        f" last {last_at}",
    )
