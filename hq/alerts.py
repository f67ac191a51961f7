"""Store alerts at head office: evaluated from the database, kept as a history, read by the web.

`evaluate(db, now, rules)` gathers the facts (hq/status.py, the registry, recent door
counts, the day feed, recent dead letters), asks the rules (hq/alert_rules.py) which
conditions hold, and reconciles them with `hq_alerts` in one transaction: a condition
without an open alert raises one (`raised_at`), an open alert whose condition ended is
cleared (`cleared_at`), each exactly once (a unique index allows one open alert per
store, kind and subject). Every store whose open alerts changed is queued in
`hq_alert_outbox` in the same transaction, so the retained MQTT message
(hq/alert_step.py) follows every change even across a crash.

The feed worker runs it (one process per database); the web reads `open_alerts` and
`alert_history`. Alerts are about stores and devices, never about shoppers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec

from edge.hours import OpeningHours
from edge.visits import format_ts
from hq.alert_rules import (
    AlertRules,
    Condition,
    Registry,
    dead_letter_condition,
    doors_judged,
    imbalance,
    last_closed_day,
    silent_doors,
    status_conditions,
)
from hq.db import Db
from hq.status import DEFAULT_OFFLINE_AFTER_S, StoreStatus, store_statuses
from sync.wire import CHAIN

_COLUMNS = "id, store, kind, subject, raised_at, cleared_at, detail"


class Alert(msgspec.Struct, frozen=True, kw_only=True):
    """One alert: open while `cleared_at` is None."""

    id: int
    store: str  # '_chain' for what belongs to no store
    kind: str  # offline | door_silent | imbalance | gap | dead_letters
    subject: str  # a door, a local date, or '' for the whole store
    raised_at: str  # UTC ISO
    cleared_at: str | None
    detail: str


class Evaluation(msgspec.Struct, frozen=True, kw_only=True):
    """What one evaluation changed."""

    raised: int
    cleared: int
    updated: int
    stores: list[str]  # stores whose open alerts changed


def open_alerts(db: Db, stores: set[str] | None = None) -> list[Alert]:
    """Every open alert (of `stores` only, if given), by store and time raised."""
    rows = db.q(
        f"SELECT {_COLUMNS} FROM hq_alerts WHERE cleared_at IS NULL ORDER BY store, raised_at, id"
    )
    return [a for a in map(_alert, rows) if stores is None or a.store in stores]


def alert_history(
    db: Db, store: str | None = None, since: str | None = None, limit: int = 100
) -> list[Alert]:
    """Alerts raised since `since` (UTC ISO), open and cleared, newest first."""
    where, params = ["raised_at >= ?"], [since or ""]
    if store is not None:
        where.append("store = ?")
        params.append(store)
    rows = db.q(
        f"SELECT {_COLUMNS} FROM hq_alerts WHERE {' AND '.join(where)}"
        " ORDER BY raised_at DESC, id DESC LIMIT ?",
        (*params, limit),
    )
    return [_alert(r) for r in rows]


def evaluate(
    db: Db,
    now: datetime,
    rules: AlertRules | None = None,
    *,
    expected: Iterable[str] = (),
    offline_after_s: float = DEFAULT_OFFLINE_AFTER_S,
) -> Evaluation:
    """Raise and clear alerts for the conditions holding at `now` (aware)."""
    rules = rules or AlertRules()
    statuses = store_statuses(db, now, expected=expected, offline_after_s=offline_after_s)
    return reconcile(db, conditions(db, now, rules, statuses), format_ts(now))


def conditions(
    db: Db, now: datetime, rules: AlertRules, statuses: list[StoreStatus]
) -> list[Condition]:
    """Every condition holding at `now`."""
    registry = _registry(db)
    return [
        *(c for st in statuses for c in status_conditions(st, rules)),
        *_door_conditions(db, now, rules, statuses, registry),
        *_imbalance_conditions(db, now, rules, statuses, registry),
        *_dead_letter_conditions(db, now, rules),
    ]


def _door_conditions(
    db: Db, now: datetime, rules: AlertRules, statuses: list[StoreStatus], registry: dict
) -> list[Condition]:
    """Silent doors of online registered stores open long enough to judge."""
    judged = [
        st.store
        for st in statuses
        if st.online and st.store in registry and doors_judged(registry[st.store], now, rules)
    ]
    counted = _counted_doors(db, judged, format_ts(now - timedelta(minutes=rules.door_silent_min)))
    return [
        c
        for store in judged
        for c in silent_doors(store, registry[store], counted.get(store, set()), rules)
    ]


def _imbalance_conditions(
    db: Db, now: datetime, rules: AlertRules, statuses: list[StoreStatus], registry: dict
) -> list[Condition]:
    """Imbalanced last closed days of registered stores (one query per distinct day)."""
    closed: dict[date, list[str]] = {}
    for st in statuses:
        if st.store in registry and (day := last_closed_day(registry[st.store], now, rules)):
            closed.setdefault(day, []).append(st.store)
    found = []
    for day, stores in closed.items():
        crossings = _day_crossings(db, day.isoformat())
        for store in stores:
            if c := imbalance(store, day, *crossings.get(store, (0, 0)), rules):
                found.append(c)
    return found


def _dead_letter_conditions(db: Db, now: datetime, rules: AlertRules) -> list[Condition]:
    """Stores (or `_chain`) with dead letters within the window."""
    since = format_ts(now - timedelta(minutes=rules.dead_letter_min))
    return [
        dead_letter_condition(store, int(count), last, rules)
        for store, count, last in db.q(
            "SELECT coalesce(store, ?), count(*), max(received_at) FROM hq_dead_letters"
            " WHERE received_at >= ? GROUP BY 1",
            (CHAIN, since),
        )
    ]


def reconcile(db: Db, holding: list[Condition], at: str) -> Evaluation:
    """Make the open alerts match `holding`: raise, clear, update details; queue changes."""
    want = {(c.store, c.kind, c.subject): c.detail for c in holding}
    raised = cleared = updated = 0
    changed: set[str] = set()
    with db.tx() as tx:
        open_now = {
            (store, kind, subject): (id_, detail)
            for id_, store, kind, subject, detail in tx.q(
                "SELECT id, store, kind, subject, detail FROM hq_alerts WHERE cleared_at IS NULL"
            )
        }
        for key, (id_, detail) in open_now.items():
            if key not in want:
                tx.execute("UPDATE hq_alerts SET cleared_at = ? WHERE id = ?", (at, id_))
                cleared += 1
            elif want[key] != detail:
                tx.execute("UPDATE hq_alerts SET detail = ? WHERE id = ?", (want[key], id_))
                updated += 1
            else:
                continue
            changed.add(key[0])
        new = [(*key, at, detail) for key, detail in want.items() if key not in open_now]
        tx.executemany(
            "INSERT INTO hq_alerts (store, kind, subject, raised_at, detail)"
            " VALUES (?, ?, ?, ?, ?)",
            new,
        )
        raised = len(new)
        changed |= {row[0] for row in new}
        tx.executemany(
            "INSERT INTO hq_alert_outbox (store) VALUES (?) ON CONFLICT DO NOTHING",
            [(s,) for s in sorted(changed)],
        )
    return Evaluation(raised=raised, cleared=cleared, updated=updated, stores=sorted(changed))


def _alert(row: tuple) -> Alert:
    id_, store, kind, subject, raised_at, cleared_at, detail = row
    return Alert(
        id=int(id_),
        store=store,
        kind=kind,
        subject=subject,
        raised_at=raised_at,
        cleared_at=cleared_at,
        detail=detail,
    )


def _registry(db: Db) -> dict[str, Registry]:
    """store -> zone, hours and doors, for every registered store."""
    return {
        store: Registry(
            ZoneInfo(tz),
            OpeningHours.from_mapping(json.loads(hours), json.loads(exceptions)),
            tuple(json.loads(doors)),
        )
        for store, tz, hours, exceptions, doors in db.q(
            "SELECT store, timezone, hours, exceptions, doors FROM hq_store_registry"
        )
    }


def _counted_doors(db: Db, stores: list[str], since: str) -> dict[str, set[str]]:
    """store -> doors with a valid door.count stamped at or after `since` (a query per 500)."""
    out: dict[str, set[str]] = {}
    for i in range(0, len(stores), 500):
        chunk = stores[i : i + 500]
        # DISTINCT: a door's counts repeat a handful of payloads, so few are decoded.
        for store, data in db.q(
            "SELECT DISTINCT store, data FROM hq_events WHERE type = 'door.count'"
            f" AND store IN ({', '.join('?' * len(chunk))}) AND ts >= ? AND error IS NULL",
            (*chunk, since),
        ):
            out.setdefault(store, set()).add(json.loads(data)["door"])
    return out


def _day_crossings(db: Db, day: str) -> dict[str, tuple[int, int]]:
    """store -> (entries, exits) of its day bucket for a local date."""
    out = {}
    for store, figures in db.q(
        "SELECT store, figures FROM hq_feed WHERE period = 'day' AND day = ?", (day,)
    ):
        f = json.loads(figures)
        out[store] = (int(f.get("entries", 0)), int(f.get("exits", 0)))
    return out
