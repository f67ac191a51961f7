"""The feed figures of one store-day, from its facts (pure: no database, no clock).

`store_day` turns a `DayFacts` into the day's hour buckets and its day bucket. Each
bucket's `figures` hold base counts only; ratios are derived when a feed is read
(`derive`), so a chain roll-up sums the counts of its stores and derives again,
never averaging ratios. Definitions: docs/metrics.md.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from edge.hours import OpeningHours
from edge.visits import DoorRow, FootfallDay, footfall_day, parse_ts

PROMOTER_MIN = 9
DETRACTOR_MAX = 6


@dataclass(frozen=True)
class VisitFact:
    """An identified visit, with what matching found about it."""

    ts: str
    matched: bool = False  # linked to a profile with in-store recognition consent
    online_active: bool = False  # matched, and active online in the 30 days before
    ordered_online: bool = False  # matched, and ordered online within 7 days after
    purchases: int = 0  # receipts with its pseudonym in this store within the visit window


@dataclass
class DayFacts:
    """Everything one store-day's figures are computed from; times are final (re-based)."""

    store: str
    day: date
    tz: ZoneInfo
    hours: OpeningHours
    staff_count: int = 0
    registered: bool = True
    doors: list[DoorRow] = field(default_factory=list)
    staff_scans: list[tuple[str, str]] = field(default_factory=list)
    visits: list[VisitFact] = field(default_factory=list)
    sales: list[tuple[str, str, int]] = field(default_factory=list)  # (ts, sale|return, cents)
    kiosk_sessions: list[str] = field(default_factory=list)
    kiosk_orders: list[str] = field(default_factory=list)
    pickups_ready: list[str] = field(default_factory=list)
    # An order's first ready mark against its promised time: (ts, on time).
    ready_judged: list[tuple[str, bool]] = field(default_factory=list)
    handovers: list[tuple[str, float | None]] = field(default_factory=list)  # (ts, wait s)
    partial_handovers: list[tuple[str, float | None]] = field(default_factory=list)
    # Hand-overs that ended an order without some of its items (`missing` in the event).
    short_handovers: list[str] = field(default_factory=list)
    no_shows: list[str] = field(default_factory=list)
    nps: list[tuple[str, int]] = field(default_factory=list)
    pickup_nps: list[tuple[str, int]] = field(default_factory=list)  # touchpoint click_collect
    clocks: list[tuple[str, bool]] = field(default_factory=list)  # (ts, clock_ok) of events


@dataclass(frozen=True)
class Bucket:
    """One computed bucket before storage: its key, label and base figures."""

    period: str  # 'hour' | 'day'
    start: str  # UTC start, 'YYYY-MM-DDTHH:MMZ'
    label: str  # local start with offset (hour), local date (day)
    end: datetime  # UTC end (for the provisional rule)
    figures: dict[str, Any]


def utc_key(moment: datetime) -> str:
    """A bucket's UTC start as stored: 'YYYY-MM-DDTHH:MMZ'."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def store_day(facts: DayFacts) -> list[Bucket]:
    """The day's hour buckets (23, 24 or 25) followed by its day bucket."""
    foot = footfall_day(
        facts.doors,
        facts.day,
        facts.tz,
        facts.hours,
        staff_scans=facts.staff_scans,
        staff_count=facts.staff_count,
    )
    first = foot.hours[0].start
    n = len(foot.hours)
    per_hour: list[dict[str, Any]] = [{} for _ in range(n)]

    def slot(ts: str) -> dict[str, Any] | None:
        idx = int((parse_ts(ts) - first).total_seconds() // 3600)
        return per_hour[idx] if 0 <= idx < n else None

    def add(ts: str, key: str, amount: float = 1) -> None:
        target = slot(ts)
        if target is not None:
            target[key] = target.get(key, 0) + amount

    for v in facts.visits:
        add(v.ts, "identified_visits")
        if v.matched:
            add(v.ts, "matched_visits")
        if v.online_active:
            add(v.ts, "online_active_visits")
        if v.ordered_online:
            add(v.ts, "offline_to_online")
        if v.purchases:
            add(v.ts, "identified_purchases", v.purchases)
    for ts, kind, cents in facts.sales:
        add(ts, "transactions" if kind == "sale" else "returns")
        add(ts, "net_sales_cents", cents)
    for key, times in (
        ("kiosk_sessions", facts.kiosk_sessions),
        ("kiosk_orders", facts.kiosk_orders),
        ("pickups_ready", facts.pickups_ready),
        ("no_shows", facts.no_shows),
        ("short_handovers", facts.short_handovers),
    ):
        for ts in times:
            add(ts, key)
    for ts, on_time in facts.ready_judged:
        add(ts, "ready_on_time" if on_time else "ready_late")
    waits: list[list[float]] = [[] for _ in range(n)]
    for key, handovers in (
        ("pickups_collected", facts.handovers),
        ("partial_handovers", facts.partial_handovers),
    ):
        for ts, wait in handovers:
            add(ts, key)
            idx = int((parse_ts(ts) - first).total_seconds() // 3600)
            if wait is not None and 0 <= idx < n:
                waits[idx].append(wait)
    for ts, score in facts.nps:
        add(ts, "nps_responses")
        add(ts, _nps_class(score))
    for ts, score in facts.pickup_nps:
        add(ts, "pickup_nps_responses")
        if _nps_class(score) != "passives":
            add(ts, f"pickup_{_nps_class(score)}")
    for ts, ok in facts.clocks:
        add(ts, "events")
        if not ok:
            add(ts, "untrusted_clock_events")

    buckets = []
    for i, h in enumerate(foot.hours):
        figures = _footfall_hour(h) | per_hour[i] | wait_figures(waits[i])
        buckets.append(
            Bucket(
                "hour", utc_key(h.start), h.label, h.start + timedelta(hours=1), _sparse(figures)
            )
        )
    buckets.append(_day_bucket(facts, foot, per_hour, [w for ws in waits for w in ws]))
    return buckets


def p90(values: list[float]) -> float:
    """The 90th percentile by nearest rank: the smallest value at or above 90 % of them."""
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def wait_figures(waits: list[float]) -> dict[str, float]:
    """Median and p90 wait at the counter ({} without hand-overs that had a check-in)."""
    if not waits:
        return {}
    return {"wait_median_s": statistics.median(waits), "wait_p90_s": p90(waits)}


def _nps_class(score: int) -> str:
    if score >= PROMOTER_MIN:
        return "promoters"
    return "detractors" if score <= DETRACTOR_MAX else "passives"


def _footfall_hour(h) -> dict[str, Any]:
    return {
        "entries": h.entries,
        "exits": h.exits,
        "undirected": h.undirected,
        "visitors": h.visitors,
        "entries_outside_hours": h.entries_outside_hours,
        "staff_scans": h.staff,
        "occupancy_peak": h.occupancy_peak,
        "occupancy_end": h.occupancy_end,
        "doors": {d: {"in": v[0], "out": v[1], "undirected": v[2]} for d, v in h.doors.items()},
    }


def _day_bucket(
    facts: DayFacts, foot: FootfallDay, per_hour: list[dict[str, Any]], waits: list[float]
) -> Bucket:
    doors: dict[str, dict[str, int]] = {}
    for h in foot.hours:
        for d, (a, b, c) in h.doors.items():
            t = doors.setdefault(d, {"in": 0, "out": 0, "undirected": 0})
            t["in"] += a
            t["out"] += b
            t["undirected"] += c
    figures: dict[str, Any] = {
        "entries": foot.entries,
        "exits": foot.exits,
        "undirected": sum(h.undirected for h in foot.hours),
        "visitors": foot.visitors,
        "entries_outside_hours": sum(h.entries_outside_hours for h in foot.hours),
        "staff_scans": sum(h.staff for h in foot.hours),
        "staff_count": facts.staff_count,
        "occupancy_peak": foot.occupancy_peak,
        "occupancy_residual": foot.occupancy,
        "excluded_events": foot.excluded,
        "doors": doors,
    }
    for hour in per_hour:
        for k, v in hour.items():
            figures[k] = figures.get(k, 0) + v
    figures |= wait_figures(waits)
    end = foot.hours[-1].start + timedelta(hours=1)
    return Bucket("day", utc_key(foot.hours[0].start), facts.day.isoformat(), end, _sparse(figures))


def _sparse(figures: dict[str, Any]) -> dict[str, Any]:
    """Zero counts and empty door maps left out: most night hours store as {}."""
    return {k: v for k, v in figures.items() if v}


# --- reading ---------------------------------------------------------------------

COUNTS = (
    "entries",
    "exits",
    "undirected",
    "visitors",
    "entries_outside_hours",
    "staff_scans",
    "occupancy_peak",
    "transactions",
    "returns",
    "net_sales_cents",
    "identified_visits",
    "matched_visits",
    "online_active_visits",
    "offline_to_online",
    "identified_purchases",
    "kiosk_sessions",
    "kiosk_orders",
    "pickups_ready",
    "pickups_collected",
    "no_shows",
    "ready_on_time",
    "ready_late",
    "partial_handovers",
    "short_handovers",
    "nps_responses",
    "promoters",
    "passives",
    "detractors",
    "pickup_nps_responses",
    "pickup_promoters",
    "pickup_detractors",
    "events",
    "untrusted_clock_events",
)
HOUR_ONLY = ("occupancy_end",)
DAY_ONLY = ("staff_count", "occupancy_residual", "excluded_events")


def ratio(num: float, den: float) -> float | None:
    """num / den, or None when den is 0 (never a division error)."""
    return None if not den else num / den


# Figures that do not add up across stores: the chain roll-up leaves them out (null).
NOT_SUMMED = ("doors", "wait_median_s", "wait_p90_s")
_NO_WAIT = {"wait_median_s": None, "wait_p90_s": None}
_ZERO = {
    "hour": dict.fromkeys(COUNTS + HOUR_ONLY, 0) | {"doors": {}} | _NO_WAIT,
    "day": dict.fromkeys(COUNTS + DAY_ONLY, 0) | {"doors": {}} | _NO_WAIT,
}


# The ratios `derive` adds when a feed is read (None for a zero denominator).
RATIOS = (
    "conversion",
    "atv_cents",
    "sales_per_visitor_cents",
    "identification_rate",
    "online_to_offline_share",
    "nps",
    "pickup_nps",
    "ready_on_time_rate",
    "no_show_rate",
    "counting_accuracy",
    "untrusted_clock_share",
)


def derive(period: str, figures: Mapping[str, Any]) -> dict[str, Any]:
    """Every figure of a bucket: the stored counts (zeros filled in) plus the ratios."""
    f = _ZERO[period].copy()
    f.update(figures)
    f.pop("unregistered", None)
    visitors, txns, net = f["visitors"], f["transactions"], f["net_sales_cents"]
    f["conversion"] = ratio(txns, visitors)
    f["atv_cents"] = ratio(net, txns)
    f["sales_per_visitor_cents"] = ratio(net, visitors)
    f["identification_rate"] = ratio(f["identified_visits"], visitors)
    f["online_to_offline_share"] = ratio(f["online_active_visits"], f["matched_visits"])
    f["nps"] = _nps(f["promoters"], f["detractors"], f["nps_responses"])
    f["pickup_nps"] = _nps(f["pickup_promoters"], f["pickup_detractors"], f["pickup_nps_responses"])
    f["ready_on_time_rate"] = ratio(f["ready_on_time"], f["ready_on_time"] + f["ready_late"])
    f["no_show_rate"] = ratio(f["no_shows"], f["no_shows"] + f["pickups_collected"])
    crossings = f["entries"] + f["exits"]
    f["counting_accuracy"] = (
        None if period != "day" or not crossings else 1 - abs(f["entries"] - f["exits"]) / crossings
    )
    f["untrusted_clock_share"] = ratio(f["untrusted_clock_events"], f["events"])
    return f


def _nps(promoters: int, detractors: int, responses: int) -> float | None:
    return None if not responses else 100.0 * (promoters - detractors) / responses


def sum_figures(many: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Stored figures of several stores' buckets added up (a chain roll-up).

    Peaks, residuals and medians do not add up across stores: the sum of peaks is
    reported as the chain's occupancy peak (an upper bound), the waits are left out.
    """
    total: dict[str, Any] = {}
    for figures in many:
        for k, v in figures.items():
            if k not in NOT_SUMMED:
                total[k] = total.get(k, 0) + v
    return total
