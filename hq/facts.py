"""Load one store-day's facts from the HQ database (both backends), for `metrics.store_day`.

Times are final here: an event stamped before its boot's clock was synchronised
(`clock_ok` false) is moved by the offsets of the `clock.step` events recorded after
it in the same boot, and lands in the day it really happened. Matching (consent
first) is decided here too, from the profiles as they are now; `Link` reports the
visits whose stored link must change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec

from edge.clock import plausible
from edge.hours import OpeningHours
from edge.visits import DoorRow, day_bounds, format_ts, parse_ts
from hq.db import Db, Tx
from hq.metrics import DayFacts, VisitFact
from hq.orders.lifecycle import aware_time

FEED_TYPES = (
    "door.count",
    "scan",
    "visit.identified",
    "kiosk.session",
    "order.placed",
    "pickup.checkin",
    "pickup.ready",
    "pickup.handover",
    "pickup.no_show",
    "nps.response",
)
_TYPES_SQL = ", ".join(f"'{t}'" for t in FEED_TYPES)
PICKUP_TOUCHPOINT = "click_collect"  # an NPS answer after a pick-up (docs/metrics.md)
READY_LOOKBACK_DAYS = 30  # an order's earlier ready marks are looked for this far back
UTC_ZONE = ZoneInfo("UTC")
_decode = msgspec.json.Decoder(dict).decode


@dataclass(frozen=True)
class StoreInfo:
    """What the feeds need of a store's registry entry (or the defaults when unregistered)."""

    store: str
    tz: ZoneInfo
    hours: OpeningHours
    staff_count: int
    registered: bool


@dataclass(frozen=True)
class Windows:
    """The time windows of matching (docs/metrics.md)."""

    visit_s: float = 7200.0  # identified purchase: a receipt within this long after the visit
    online_before_days: int = 30  # online-to-offline: active online this long before
    online_after_days: int = 7  # offline-to-online: ordered online this long after


@dataclass
class Loaded:
    """A store-day's facts, the visit links to write, and other days its events moved to."""

    facts: DayFacts
    relink: list[tuple[str | None, str, int]] = field(
        default_factory=list
    )  # (customer, store, seq)
    moved_to: set[date] = field(default_factory=set)


def store_info(db: Db | Tx, store: str) -> StoreInfo:
    """The store's zone, hours and staff count; UTC and open all day when unregistered."""
    rows = db.q(
        "SELECT timezone, hours, exceptions, staff_count FROM hq_store_registry WHERE store = ?",
        (store,),
    )
    if not rows:
        return StoreInfo(store, UTC_ZONE, OpeningHours.open_all_day(), 0, False)
    tz, hours, exceptions, staff = rows[0]
    return StoreInfo(
        store,
        ZoneInfo(tz),
        OpeningHours.from_mapping(json.loads(hours), json.loads(exceptions)),
        int(staff or 0),
        True,
    )


def clock_steps(db: Db | Tx, store: str) -> dict[str, list[tuple[int, float]]]:
    """boot id -> [(seq, offset_s)] of the store's clock steps."""
    steps: dict[str, list[tuple[int, float]]] = {}
    for boot, seq, data in db.q(
        "SELECT boot_id, seq, data FROM hq_events"
        " WHERE type = 'clock.step' AND store = ? AND error IS NULL",
        (store,),
    ):
        steps.setdefault(boot, []).append((int(seq), float(_decode(data)["offset_s"])))
    return steps


def rebased(ts: str, seq: int, clock_ok: bool, boot_steps: list[tuple[int, float]] | None) -> str:
    """An event's real time: untrusted stamps move by every later step of their boot."""
    if clock_ok or not boot_steps:
        return ts
    offset = sum(off for step_seq, off in boot_steps if step_seq > seq)
    return format_ts(parse_ts(ts) + timedelta(seconds=offset)) if offset else ts


def load_day(db: Db, info: StoreInfo, day: date, windows: Windows) -> Loaded:
    """Everything `metrics.store_day` needs for `info.store` on local `day`."""
    store, tz = info.store, info.tz
    lo_dt, hi_dt = day_bounds(day, tz)
    lo, hi = format_ts(lo_dt), format_ts(hi_dt)
    steps = clock_steps(db, store)
    loaded = Loaded(
        DayFacts(
            store=store,
            day=day,
            tz=tz,
            hours=info.hours,
            staff_count=info.staff_count,
            registered=info.registered,
        )
    )
    events: dict[int, tuple[str, str, dict, bool]] = {}
    rows = db.q(
        f"SELECT seq, type, ts, data, clock_ok, boot_id FROM hq_events WHERE type IN ({_TYPES_SQL})"
        " AND store = ? AND ts >= ? AND ts < ? AND error IS NULL",
        (store, lo, hi),
    )
    for boot in steps:  # events from before a clock step, wherever their stamp put them
        top = max(s for s, _ in steps[boot])
        rows += db.q(
            "SELECT seq, type, ts, data, clock_ok, boot_id FROM hq_events"
            f" WHERE store = ? AND boot_id = ? AND clock_ok = {db.false} AND seq < ?"
            f" AND type IN ({_TYPES_SQL}) AND error IS NULL",
            (store, boot, top),
        )
    for seq, type_, ts, data, clock_ok, boot in rows:
        seq, ok = int(seq), bool(clock_ok)
        if seq in events:
            continue
        real = rebased(ts, seq, ok, steps.get(boot))
        if not lo <= real < hi:
            if real != ts and plausible(parse_ts(real).timestamp()):
                loaded.moved_to.add(parse_ts(real).astimezone(tz).date())
            continue
        events[seq] = (type_, real, _decode(data), ok)
    _sort_events(loaded, events)
    _load_visits(db, loaded, events, windows)
    _load_sales(db, loaded, lo, hi)
    _load_waits(db, loaded, events, steps, lo_dt)
    _load_ready(db, loaded, events, steps, lo_dt)
    return loaded


def _sort_events(loaded: Loaded, events: dict[int, tuple[str, str, dict, bool]]) -> None:
    f = loaded.facts
    for _seq, (type_, ts, data, ok) in sorted(events.items(), key=lambda kv: (kv[1][1], kv[0])):
        f.clocks.append((ts, ok))
        if type_ == "door.count":
            f.doors.append(
                DoorRow(
                    ts,
                    data["door"],
                    data["direction"],
                    int(data["count"]),
                    bool(data.get("directional", True)),
                    True,  # final time: a re-based or trusted stamp
                )
            )
        elif type_ == "scan":
            if data.get("class") == "staff_badge" and data.get("role", "door") == "door":
                f.staff_scans.append((ts, data.get("door") or ""))
        elif type_ == "kiosk.session":
            if data.get("action") == "start":
                f.kiosk_sessions.append(ts)
        elif type_ == "order.placed":
            f.kiosk_orders.append(ts)
        elif type_ == "pickup.ready":
            f.pickups_ready.append(ts)
        elif type_ == "pickup.no_show":
            f.no_shows.append(ts)
        elif type_ == "nps.response":
            f.nps.append((ts, int(data["score"])))
            if data.get("touchpoint") == PICKUP_TOUCHPOINT:
                f.pickup_nps.append((ts, int(data["score"])))


def _load_visits(
    db: Db, loaded: Loaded, events: dict[int, tuple[str, str, dict, bool]], w: Windows
) -> None:
    store = loaded.facts.store
    seqs = sorted(s for s, e in events.items() if e[0] == "visit.identified")
    if not seqs:
        return
    stored = {
        int(seq): (key_id, pseudonym, customer, purchases)
        for seq, key_id, pseudonym, customer, purchases in db.q(
            "SELECT seq, key_id, pseudonym, customer_id, purchases FROM hq_visits"
            " WHERE store = ? AND seq >= ? AND seq <= ?",
            (store, seqs[0], seqs[-1]),
        )
    }
    for seq in seqs:
        ts = events[seq][1]
        key_id, pseudonym, customer, frozen = stored.get(seq, (None, None, None, None))
        linked = _consented_customer(db, key_id, pseudonym, customer, ts)
        if linked != customer and seq in stored:
            loaded.relink.append((linked, store, seq))
        fact = VisitFact(ts=ts, matched=linked is not None)
        if linked is not None:
            fact = VisitFact(
                ts=ts,
                matched=True,
                online_active=_online_before(db, linked, ts, w),
                ordered_online=_ordered_after(db, linked, ts, w),
            )
        purchases = (
            identified_purchases(db, store, key_id, pseudonym, ts, w)
            if pseudonym is not None
            else int(frozen or 0)
        )
        loaded.facts.visits.append(
            VisitFact(fact.ts, fact.matched, fact.online_active, fact.ordered_online, purchases)
        )


def _consented_customer(
    db: Db, key_id: str | None, pseudonym: str | None, customer: str | None, ts: str
) -> str | None:
    """The profile this visit joins: in-store recognition granted at the time of the visit."""
    if pseudonym is not None:
        rows = db.q(
            "SELECT p.customer_id, p.recognition, p.recognition_at FROM hq_profile_keys k"
            " JOIN hq_profiles p ON p.customer_id = k.customer_id"
            " WHERE k.key_id = ? AND k.pseudonym = ?",
            (key_id, pseudonym),
        )
    elif customer is not None:  # pseudonym gone (expired): the link stands while consent does
        rows = db.q(
            "SELECT customer_id, recognition, recognition_at FROM hq_profiles"
            " WHERE customer_id = ?",
            (customer,),
        )
    else:
        return None
    for cust, status, since in rows:
        if status == "granted" and since is not None and since <= ts:
            return cust
    return None


def _online_before(db: Db, customer: str, ts: str, w: Windows) -> bool:
    start = format_ts(parse_ts(ts) - timedelta(days=w.online_before_days))
    return bool(
        db.q(
            "SELECT 1 FROM hq_online_activity WHERE customer_id = ? AND at >= ? AND at < ? LIMIT 1",
            (customer, start, ts),
        )
    )


def _ordered_after(db: Db, customer: str, ts: str, w: Windows) -> bool:
    end = format_ts(parse_ts(ts) + timedelta(days=w.online_after_days))
    return bool(
        db.q(
            "SELECT 1 FROM hq_profile_keys pk"
            " JOIN hq_transaction_keys k ON k.key_id = pk.key_id AND k.pseudonym = pk.pseudonym"
            " JOIN hq_transactions t ON t.id = k.txn_id"
            " WHERE pk.customer_id = ? AND t.store = 'online' AND t.type = 'sale'"
            " AND t.ts > ? AND t.ts <= ? LIMIT 1",
            (customer, ts, end),
        )
    )


def identified_purchases(
    db: Db, store: str, key_id: str | None, pseudonym: str, ts: str, w: Windows
) -> int:
    end = format_ts(parse_ts(ts) + timedelta(seconds=w.visit_s))
    rows = db.q(
        "SELECT count(DISTINCT t.id) FROM hq_transaction_keys k"
        " JOIN hq_transactions t ON t.id = k.txn_id"
        " WHERE k.key_id = ? AND k.pseudonym = ? AND t.store = ? AND t.type = 'sale'"
        " AND t.ts >= ? AND t.ts < ?",
        (key_id, pseudonym, store, ts, end),
    )
    return int(rows[0][0]) if rows else 0


def _load_sales(db: Db, loaded: Loaded, lo: str, hi: str) -> None:
    for ts, type_, cents in db.q(
        "SELECT ts, type, net_cents FROM hq_transactions WHERE store = ? AND ts >= ? AND ts < ?"
        " ORDER BY ts, id",
        (loaded.facts.store, lo, hi),
    ):
        loaded.facts.sales.append((ts, type_, int(cents)))


def _load_waits(
    db: Db,
    loaded: Loaded,
    events: dict[int, tuple[str, str, dict, bool]],
    steps: dict[str, list[tuple[int, float]]],
    lo_dt: datetime,
) -> None:
    """Hand-overs with the wait at the counter: the store's `wait_s`, else since the latest check-in.

    A partial hand-over (some lines now, the rest later) is counted apart from the ones
    that complete an order; both have a wait. One that ends an order without some of its
    items (`missing`) completes it, and is also counted as a short hand-over.
    """
    handovers = sorted(
        (e[1], e[2].get("order") or "", e[2]) for e in events.values() if e[0] == "pickup.handover"
    )
    if not handovers:
        return
    checkins: dict[str, list[str]] = {}
    for _seq, real, order in _order_marks(
        db, loaded.facts.store, "pickup.checkin", lo_dt, 2, steps
    ):
        checkins.setdefault(order, []).append(real)
    for ts, order, data in handovers:
        before = [c for c in checkins.get(order, []) if c <= ts]
        wait = data.get("wait_s")
        if wait is None and before:
            wait = (parse_ts(ts) - parse_ts(max(before))).total_seconds()
        target = loaded.facts.partial_handovers if data.get("partial") else loaded.facts.handovers
        target.append((ts, None if wait is None else float(wait)))
        if data.get("missing") and not data.get("partial"):
            loaded.facts.short_handovers.append(ts)


def _order_marks(
    db: Db,
    store: str,
    type_: str,
    lo_dt: datetime,
    days_back: int,
    steps: dict[str, list[tuple[int, float]]],
) -> list[tuple[int, str, str]]:
    """(seq, re-based time, order) of a store's `type_` events from `days_back` before `lo_dt`."""
    since = format_ts(lo_dt.astimezone(UTC) - timedelta(days=days_back))
    return [
        (
            int(seq),
            rebased(ts, int(seq), bool(ok), steps.get(boot)),
            _decode(data).get("order") or "",
        )
        for seq, ts, data, ok, boot in db.q(
            "SELECT seq, ts, data, clock_ok, boot_id FROM hq_events WHERE type = ?"
            " AND store = ? AND ts >= ? AND error IS NULL",
            (type_, store, since),
        )
    ]


def _load_ready(
    db: Db,
    loaded: Loaded,
    events: dict[int, tuple[str, str, dict, bool]],
    steps: dict[str, list[tuple[int, float]]],
    lo_dt: datetime,
) -> None:
    """Each order's first ready mark of the day, judged against the time it was promised for.

    An order marked ready again (the rest after a partial ready) is judged once, by its
    first mark; one without a promised time in the event is not judged.
    """
    readies = sorted((e[1], seq, e[2]) for seq, e in events.items() if e[0] == "pickup.ready")
    if not readies:
        return
    first: dict[str, tuple[str, int]] = {}
    store = loaded.facts.store
    for seq, real, order in _order_marks(
        db, store, "pickup.ready", lo_dt, READY_LOOKBACK_DAYS, steps
    ):
        first[order] = min(first.get(order, (real, seq)), (real, seq))
    for ts, seq, data in readies:
        earliest = first.get(data.get("order") or "")
        promised = aware_time(data.get("promised_at"))
        if promised is not None and (earliest is None or earliest[1] == seq):
            loaded.facts.ready_judged.append((ts, parse_ts(ts) <= promised))
