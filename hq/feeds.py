"""Reading the feeds: a store's buckets or the chain roll-up, with every figure derived.

One row shape for every consumer (`touchpoint hq feed`, the MQTT feed topics, the
web API): bucket identity (`store`, `period`, `start` in UTC, local `label`, local
`day`), `revision`, `provisional`, `unregistered`, then the figures of
docs/metrics.md. The chain roll-up adds up its stores' counts (days by local date,
hours by UTC hour) and derives the ratios again.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import date
from typing import Any

import msgspec

from edge.visits import day_bounds
from hq.db import Db
from hq.facts import store_info
from hq.metrics import derive, sum_figures
from sync.wire import CHAIN

HEAD = ("store", "period", "start", "label", "day", "revision", "provisional", "unregistered")


def bucket_row(
    store: str,
    period: str,
    start: str,
    label: str,
    day: str,
    figures: dict[str, Any],
    provisional: bool,
    revision: int,
) -> dict[str, Any]:
    """One feed row: identity, revision, flags, then every figure."""
    return {
        "store": store,
        "period": period,
        "start": start,
        "label": label,
        "day": day,
        "revision": revision,
        "provisional": provisional,
        "unregistered": bool(figures.get("unregistered", False)),
    } | derive(period, figures)


def _utc_range(db: Db, store: str, first: date, last: date) -> tuple[str, str]:
    """The UTC start bounds [lo, hi) of a store's local days first..last."""
    tz = store_info(db, store).tz
    lo = day_bounds(first, tz)[0].strftime("%Y-%m-%dT%H:%MZ")
    hi = day_bounds(last, tz)[1].strftime("%Y-%m-%dT%H:%MZ")
    return lo, hi


def bucket_body(
    store: str,
    period: str,
    start: str,
    label: str,
    day: str,
    figures_text: str,
    provisional: bool,
    revision: int,
) -> str:
    """A stored bucket's feed row as JSON text, exactly as a store's JSON feed holds it.

    Written beside the bucket (`hq_feed.body`) by whoever writes the bucket, from the
    stored figures text, so the feed API joins these instead of deriving every row.
    """
    row = bucket_row(store, period, start, label, day, _decode(figures_text), provisional, revision)
    return _encode(row).decode()


def store_feed(db: Db, store: str, period: str, first: date, last: date) -> list[dict[str, Any]]:
    """A store's buckets for local days first..last (inclusive), in time order."""
    lo, hi = _utc_range(db, store, first, last)
    rows = db.q(
        "SELECT start, label, day, figures, provisional, revision FROM hq_feed"
        " WHERE store = ? AND period = ? AND start >= ? AND start < ? ORDER BY start",
        (store, period, lo, hi),
    )
    return [
        bucket_row(store, period, start, label, day, _decode(fig), bool(prov), int(rev))
        for start, label, day, fig, prov, rev in rows
    ]


def store_feed_json(db: Db, store: str, period: str, first: date, last: date) -> bytes:
    """`store_feed` as a JSON array, byte for byte what encoding its rows gives, built
    from the stored bodies (a body not filled in yet is derived here)."""
    lo, hi = _utc_range(db, store, first, last)
    # Joined by the database: no Python string per bucket. Falls back to reading the
    # rows only while some bucket has no stored body yet.
    where = "store = ? AND period = ? AND start >= ? AND start < ?"
    if db.dialect == "postgresql":
        sql = f"SELECT string_agg(body, ',' ORDER BY start), count(body), count(*) FROM hq_feed WHERE {where}"
    else:  # SQLite 3.40 (Debian 12) has no ORDER BY inside group_concat
        sql = (
            "SELECT group_concat(body, ','), count(body), count(*) FROM"
            f" (SELECT body FROM hq_feed WHERE {where} ORDER BY start)"
        )
    joined, with_body, total = db.q(sql, (store, period, lo, hi))[0]
    if with_body == total:
        return f"[{joined or ''}]".encode()
    rows = db.q(
        "SELECT body, CASE WHEN body IS NULL THEN figures END, start, label, day, provisional,"
        f" revision FROM hq_feed WHERE {where} ORDER BY start",
        (store, period, lo, hi),
    )
    parts = [
        body
        if body is not None
        else bucket_body(store, period, start, label, day, fig, bool(prov), int(rev))
        for body, fig, start, label, day, prov, rev in rows
    ]
    return f"[{','.join(parts)}]".encode()


def chain_feed(db: Db, period: str, first: date, last: date) -> list[dict[str, Any]]:
    """The chain roll-up: days by local date, hours by UTC hour, over every store."""
    rows = db.q(
        "SELECT start, day, figures, provisional, revision FROM hq_feed"
        " WHERE period = ? AND day >= ? AND day <= ?",
        (period, first.isoformat(), last.isoformat()),
    )
    groups: dict[str, list[tuple[str, dict, bool, int]]] = {}
    for start, day, fig, prov, rev in rows:
        key = day if period == "day" else start
        groups.setdefault(key, []).append((day, _decode(fig), bool(prov), int(rev)))
    out = []
    for key in sorted(groups):
        members = groups[key]
        figures = sum_figures(f for _, f, _, _ in members)
        figures.pop("unregistered", None)
        day = min(d for d, _, _, _ in members)
        out.append(
            bucket_row(
                CHAIN,
                period,
                key if period == "hour" else day,
                key,
                day,
                figures,
                any(p for _, _, p, _ in members),
                sum(r for _, _, _, r in members),
            )
            | {"stores": len(members)}
        )
    return out


_decode = msgspec.json.Decoder(dict).decode
_encode = msgspec.json.Encoder().encode


def feed_signature(db: Db, store: str | None, period: str, first: date, last: date) -> str:
    """What a feed's content depends on, as one text: the (store, start, revision) of every
    bucket `store_feed` (or, for store None, `chain_feed`) reads. Cheap: three columns,
    joined by the database (an HTTP ETag is its hash)."""
    if store is None:
        where = "period = ? AND day >= ? AND day <= ?"
        params: tuple = (period, first.isoformat(), last.isoformat())
    else:
        where = "store = ? AND period = ? AND start >= ? AND start < ?"
        params = (store, period, *_utc_range(db, store, first, last))
    item = "store || '|' || start || '|' || revision"
    if db.dialect == "postgresql":
        sql = f"SELECT string_agg({item}, ';' ORDER BY store, start) FROM hq_feed WHERE {where}"
    else:  # SQLite 3.40 (Debian 12) has no ORDER BY inside group_concat
        sql = (
            f"SELECT group_concat(v, ';') FROM (SELECT {item} AS v FROM hq_feed"
            f" WHERE {where} ORDER BY store, start)"
        )
    return db.q(sql, params)[0][0] or ""


def to_csv(rows: Iterable[dict[str, Any]]) -> str:
    """Feed rows as CSV: one column per figure, door counts as a JSON column."""
    rows = list(rows)
    if not rows:
        return ""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                k: json.dumps(v, sort_keys=True) if isinstance(v, dict) else _cell(v)
                for k, v in row.items()
            }
        )
    return buf.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
