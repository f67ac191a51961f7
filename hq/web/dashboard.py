"""What the dashboard pages show, read from the feeds (pure reads over `hq.db.Db`).

Every figure is a feed figure of docs/metrics.md, read from `hq_feed` exactly as
`touchpoint hq feed` reads it: a store's own local day, its hours by their local
labels, ratios derived from summed counts (never averaged). The statuses and alerts
come from `hq.status` and `hq.alerts`; these functions take them as arguments, so
one read of them serves a whole page. No pseudonym, loyalty number or customer id is
read here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from hq.db import Db
from hq.feeds import store_feed
from hq.metrics import derive, ratio, sum_figures

TREND_DAYS = 30  # the store and chain pages' daily chart
NPS_DAYS = 7  # the overview's NPS: answers are few, so a week of them
FEW_STORES = 200  # up to this many stores are picked in SQL
OVERVIEW_PAGE = 50  # stores on one page of the overview
# The chain page's rankings: every store up to RANK_ALL of them; past that, the top and
# bottom RANK_EDGE (a 1,000-row ranking twice was 1 MB of HTML and a second to build).
RANK_EDGE = 10
RANK_ALL = 30
_decode = msgspec.json.Decoder(dict).decode


@dataclass(frozen=True)
class StoreDay:
    """One store's figures for its local today, against the same weekday a week before."""

    store: str
    name: str
    day: date
    today: dict[str, Any]  # derived day figures (zeros when no bucket yet)
    last_week: dict[str, Any]
    week: dict[str, Any]  # the last NPS_DAYS days summed and derived (its NPS)
    provisional: bool
    status: Any  # hq.status.StoreStatus
    alerts: list[Any] = field(default_factory=list)  # hq.alerts.Alert

    @property
    def visitors_change(self) -> float | None:
        """Today's visitors against the same weekday last week, as a fraction (+0.1 = +10 %)."""
        before = self.last_week["visitors"]
        return None if not before else (self.today["visitors"] - before) / before


@dataclass(frozen=True)
class Series:
    """Chart points: x labels and y values (None where a figure has no value)."""

    x: list[str]
    y: list[float | None]


@dataclass(frozen=True)
class StorePage:
    """The store page: today, the charts, click & collect, kiosk, data quality, devices."""

    card: StoreDay
    hours_today: Series
    hours_last_week: Series
    days: list[dict[str, Any]]  # TREND_DAYS derived day rows, oldest first (gaps filled)
    period: dict[str, Any]  # the TREND_DAYS days summed and derived
    provisional_buckets: int  # hour and day buckets of those days still provisional
    now: datetime  # when it was read


@dataclass(frozen=True)
class ChainPage:
    """The chain page: the roll-up of the stores in view, and their rankings."""

    day: date
    today: dict[str, Any]
    last_week: dict[str, Any]
    stores: int
    days: list[dict[str, Any]]
    by_conversion: list[StoreDay]
    by_change: list[StoreDay]
    everything: bool = False  # show every store of the rankings, however many
    edge: int = RANK_EDGE  # rows shown at either end of a truncated ranking

    @property
    def visitors_change(self) -> float | None:
        """The roll-up's visitors against the same weekday last week, as a fraction."""
        before = self.last_week["visitors"]
        return None if not before else (self.today["visitors"] - before) / before

    @property
    def truncated(self) -> bool:
        """Whether the rankings show only their top and bottom."""
        return not self.everything and len(self.by_conversion) > RANK_ALL

    def shown(self, ranked: list[StoreDay]) -> list[tuple[int, StoreDay]]:
        """(0-based place, store) of the ranking's rows on the page: all of them, or for
        a chain of many stores the first and last `RANK_EDGE` (the best and those that
        need head office), the rest a click away."""
        places = list(enumerate(ranked))
        return places[: self.edge] + places[-self.edge :] if self.truncated else places


def local_day(now: datetime, timezone: str | None) -> date:
    """The calendar date at `now` in a store's zone (UTC for an unregistered store)."""
    return now.astimezone(ZoneInfo(timezone or "UTC")).date()


def raw_days(
    db: Db, first: date, last: date, stores: Iterable[str] | None = None
) -> dict[str, dict[date, tuple[dict[str, Any], bool]]]:
    """store -> local day -> (stored figures, provisional) of the day buckets first..last."""
    wanted = None if stores is None else set(stores)
    out: dict[str, dict[date, tuple[dict[str, Any], bool]]] = {}
    for store, day, figures, provisional in _day_rows(db, first, last, wanted, "provisional"):
        if wanted is None or store in wanted:
            out.setdefault(store, {})[date.fromisoformat(day)] = (
                _decode(figures),
                bool(provisional),
            )
    return out


def _day_rows(db: Db, first: date, last: date, wanted: set[str] | None, extra: str) -> list:
    """(store, day, figures, extra) of the day buckets first..last, of `wanted` stores.

    A few stores are picked in SQL (a store page, a regional manager); for many, the
    day index reads every store's rows and the caller keeps the wanted ones.
    """
    sql = (
        f"SELECT store, day, figures, {extra} FROM hq_feed"
        " WHERE period = 'day' AND day >= ? AND day <= ?"
    )
    params: list[Any] = [first.isoformat(), last.isoformat()]
    if wanted is not None and len(wanted) <= FEW_STORES:
        sql += f" AND store IN ({', '.join('?' * len(wanted))})" if wanted else " AND 1 = 0"
        params += sorted(wanted)
    return db.q(sql, params)


class _Trend(msgspec.Struct):
    """The two counts a trend chart needs of a day bucket (the rest is not decoded)."""

    visitors: float = 0
    transactions: int = 0


_decode_trend = msgspec.json.Decoder(_Trend).decode


def trend(db: Db, first: date, last: date, stores: Iterable[str]) -> list[dict[str, Any]]:
    """Visitors and conversion per local day first..last, summed over `stores`."""
    wanted = set(stores)
    sums = {d: [0.0, 0] for d in _span(first, last)}
    for store, day, figures, _ in _day_rows(db, first, last, wanted, "0"):
        if store in wanted:
            got = _decode_trend(figures)
            acc = sums[date.fromisoformat(day)]
            acc[0] += got.visitors
            acc[1] += got.transactions
    return [
        {"day": d.isoformat(), "visitors": v, "conversion": ratio(t, v)}
        for d, (v, t) in sums.items()
    ]


def total(figures: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Stored day figures added up and derived (a period or a roll-up)."""
    summed = sum_figures(figures)
    summed.pop("unregistered", None)
    return derive("day", summed)


def store_days(
    db: Db, now: datetime, statuses: Sequence[Any], alerts: Iterable[Any] = ()
) -> list[StoreDay]:
    """The overview: each store's today against last week, NPS over a week, its alerts."""
    if not statuses:
        return []
    days = {s.store: local_day(now, s.timezone) for s in statuses}
    first = min(days.values()) - timedelta(days=NPS_DAYS)
    raw = raw_days(db, first, max(days.values()), days)
    by_store: dict[str, list[Any]] = {}
    for alert in alerts:
        by_store.setdefault(alert.store, []).append(alert)
    out = []
    for status in statuses:
        day, mine = days[status.store], raw.get(status.store, {})
        today, provisional = mine.get(day, ({}, True))
        week = [mine[d][0] for d in _span(day - timedelta(days=NPS_DAYS - 1), day) if d in mine]
        out.append(
            StoreDay(
                store=status.store,
                name=status.name or status.store,
                day=day,
                today=derive("day", today),
                last_week=derive("day", mine.get(day - timedelta(days=7), ({}, False))[0]),
                week=total(week),
                provisional=provisional,
                status=status,
                alerts=by_store.get(status.store, []),
            )
        )
    return out


@dataclass(frozen=True)
class OverviewPage:
    """Which stores one page of the overview shows, of how many."""

    statuses: list[Any]  # hq.status.StoreStatus of the stores on this page, in order
    matching: int  # stores matching the search
    offline: int  # of those, not online
    page: int  # 1-based
    pages: int


def overview_page(
    statuses: Sequence[Any], alerts: Iterable[Any], query: str = "", page: int = 1
) -> OverviewPage:
    """The stores matching `query` (in their id or name), those needing attention first
    (open alerts, then not online), then by id; `OVERVIEW_PAGE` of them on page `page`.

    Only the page's stores get their figures read (`store_days`), so a chain of 1,000
    stores costs a page of them, not all."""
    needle = query.strip().casefold()
    alerted = {a.store for a in alerts}
    found = [
        s
        for s in statuses
        if not needle or needle in s.store.casefold() or needle in (s.name or "").casefold()
    ]
    found.sort(key=lambda s: (s.store not in alerted, s.online, s.store))
    pages = max(1, -(-len(found) // OVERVIEW_PAGE))
    page = min(max(1, page), pages)
    return OverviewPage(
        statuses=found[(page - 1) * OVERVIEW_PAGE : page * OVERVIEW_PAGE],
        matching=len(found),
        offline=sum(1 for s in found if not s.online),
        page=page,
        pages=pages,
    )


def store_page(db: Db, card: StoreDay, now: datetime) -> StorePage:
    """The store page's data for one store (its card from `store_days`)."""
    store, day = card.store, card.day
    first = day - timedelta(days=TREND_DAYS - 1)
    raw = raw_days(db, first, day, [store]).get(store, {})
    days = [
        derive("day", raw.get(d, ({}, False))[0]) | {"day": d.isoformat()}
        for d in _span(first, day)
    ]
    (open_buckets,) = db.q(
        f"SELECT count(*) FROM hq_feed WHERE store = ? AND provisional = {db.true} AND day >= ?",
        (store, first.isoformat()),
    )[0]
    return StorePage(
        card=card,
        hours_today=_hours(store_feed(db, store, "hour", day, day)),
        hours_last_week=_hours(
            store_feed(db, store, "hour", day - timedelta(days=7), day - timedelta(days=7))
        ),
        days=days,
        period=total(f for f, _ in raw.values()),
        provisional_buckets=int(open_buckets),
        now=now,
    )


def chain_page(db: Db, day: date, cards: Sequence[StoreDay], everything: bool = False) -> ChainPage:
    """The roll-up of the stores on `cards` for head office's `day`, with the rankings."""
    stores = [c.store for c in cards]
    last_week = day - timedelta(days=7)
    today = raw_days(db, day, day, stores)
    before = raw_days(db, last_week, last_week, stores)
    ranked = [c for c in cards if c.today["visitors"] or c.last_week["visitors"]]
    return ChainPage(
        day=day,
        today=total(m[day][0] for m in today.values()),
        last_week=total(m[last_week][0] for m in before.values()),
        stores=len(today),
        days=trend(db, day - timedelta(days=TREND_DAYS - 1), day, stores),
        by_conversion=sorted(ranked, key=lambda c: (-(c.today["conversion"] or 0.0), c.store)),
        by_change=sorted(
            ranked,
            key=lambda c: (c.visitors_change is None, -(c.visitors_change or 0.0), c.store),
        ),
        everything=everything,
    )


def _span(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _hours(rows: list[dict[str, Any]]) -> Series:
    """Hourly visitors by local hour (the label's HH; a repeated hour when clocks go back)."""
    x: list[str] = []
    for r in rows:
        hour = r["label"][11:13]
        x.append(f"{hour} ({r['label'][16:]})" if hour in x else hour)
    return Series(x, [r["visitors"] for r in rows])
