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
from datetime import date, timedelta
from typing import Any

import msgspec

from edge.visits import day_bounds
from hq import deflated
from hq.db import Db, Tx
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

    Joined per local day into the bucket's page (`hq_feed_page`, `rebuild_pages`) by
    whoever writes the bucket, so the feed API serves pages instead of deriving rows.
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


def store_page(
    db: Db, store: str, period: str, first: date, last: date, bodies: bool = True
) -> tuple[str, bytes | None]:
    """A store's feed for local days first..last from its pages (hq_feed_page), read in
    one statement: the signature (`feed_signature`) and, with `bodies`, the JSON array
    byte for byte what encoding `store_feed`'s rows gives; None instead of the array
    when not asked for, or while a bucket of the range has no stored body yet."""
    # SQLite hands the text over as bytes, not decoded only to be encoded again.
    body = ("CAST(body AS BLOB)" if db.dialect == "sqlite" else "body") if bodies else "NULL"
    rows = db.q(
        f"SELECT signature, {body} FROM hq_feed_page"
        " WHERE store = ? AND period = ? AND day >= ? AND day <= ? ORDER BY day",
        (store, period, first.isoformat(), last.isoformat()),
    )
    signature = ";".join(sig for sig, _ in rows)
    if not bodies or any(body is None for _, body in rows):
        return signature, None
    return signature, _json_array([body for _, body in rows])


def store_page_gzip(
    db: Db, store: str, period: str, first: date, last: date, bodies: bool = True
) -> tuple[str, bool, bytes | None]:
    """`store_page`, gzip-encoded (hq/deflated.py): the signature, whether every page of
    the range has its deflated piece, and (with `bodies`, when it has) one gzip member
    whose content is byte for byte the JSON array `store_page` gives."""
    piece = "deflated" if bodies else "NULL"
    rows = db.q(
        f"SELECT signature, deflated IS NOT NULL, {piece} FROM hq_feed_page"
        " WHERE store = ? AND period = ? AND day >= ? AND day <= ? ORDER BY day",
        (store, period, first.isoformat(), last.isoformat()),
    )
    signature = ";".join(sig for sig, _, _ in rows)
    complete = all(has for _, has, _ in rows)
    if not bodies or not complete:
        return signature, complete, None
    return signature, True, deflated.gzip_array([bytes(p) for _, _, p in rows])


def _json_array(items: list[bytes] | list[str]) -> bytes:
    """`[a,b,…]` of JSON texts, joined at once: a store-month is most of a megabyte, and
    each big temporary copy costs more than the join itself."""
    if not items:
        return b"[]"
    raw = isinstance(items[0], bytes)
    open_, comma, close = (b"[", b",", b"]") if raw else ("[", ",", "]")
    pieces: list = [open_]
    for item in items:
        pieces += (item, comma)
    pieces[-1] = close
    return b"".join(pieces) if raw else "".join(pieces).encode()


def store_feed_json(db: Db, store: str, period: str, first: date, last: date) -> bytes:
    """`store_feed` as a JSON array, byte for byte what encoding its rows gives: the
    stored pages, or (while a page waits for its body after an upgrade) the buckets'
    rows, each derived here unless it still has the body schema version 7 stored."""
    joined = store_page(db, store, period, first, last)[1]
    if joined is not None:
        return joined
    lo, hi = _utc_range(db, store, first, last)
    rows = db.q(
        "SELECT body, CASE WHEN body IS NULL THEN figures END, start, label, day, provisional,"
        " revision FROM hq_feed WHERE store = ? AND period = ? AND start >= ? AND start < ?"
        " ORDER BY start",
        (store, period, lo, hi),
    )
    return _json_array(
        [
            body
            if body is not None
            else bucket_body(store, period, start, label, day, fig, bool(prov), int(rev))
            for body, fig, start, label, day, prov, rev in rows
        ]
    )


def rebuild_pages(
    tx: Tx, days: Iterable[tuple[str, str]], bodies: dict[tuple[str, str, str], str] | None = None
) -> None:
    """Write the pages of these (store, local day)s again from their buckets, in the
    transaction that changed the buckets (a day left with no bucket has no page).

    A bucket's row is derived from its stored figures unless `bodies` has it by
    (store, period, start): the rollup passes those it has just derived.
    """
    keys = sorted(set(days))
    if not keys:
        return
    bodies = bodies or {}
    tx.executemany(
        "DELETE FROM hq_feed_page WHERE store = ? AND period IN ('hour', 'day') AND day = ?", keys
    )
    pages = []
    for store, day in keys:
        d = date.fromisoformat(day)
        # The primary key's range: a local day lies within the UTC days around it.
        rows = tx.execute(
            "SELECT period, start, label, figures, provisional, revision FROM hq_feed"
            " WHERE store = ? AND period IN ('day', 'hour') AND start >= ? AND start < ?"
            " AND day = ? ORDER BY period, start",
            (store, f"{d - timedelta(days=1)}T00:00Z", f"{d + timedelta(days=2)}T00:00Z", day),
        )
        for period in ("day", "hour"):
            mine = [r for r in rows if r[0] == period]
            if not mine:
                continue
            signature = ";".join(f"{store}|{start}|{rev}" for _, start, _, _, _, rev in mine)
            body = ",".join(
                bodies.get((store, period, start))
                or bucket_body(store, period, start, label, day, fig, bool(prov), int(rev))
                for _, start, label, fig, prov, rev in mine
            )
            pages.append((store, period, day, signature, body, deflated.pack(body.encode())))
    tx.executemany(
        "INSERT INTO hq_feed_page (store, period, day, signature, body, deflated)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        pages,
    )


def pack_pages(tx: Tx, limit: int) -> int:
    """Deflate up to `limit` pages that have their body but not yet its piece (pages
    from before schema version 10); how many."""
    rows = tx.execute(
        "SELECT store, period, day, body FROM hq_feed_page"
        f" WHERE deflated IS NULL AND body IS NOT NULL LIMIT {int(limit)}"
    )
    tx.executemany(
        "UPDATE hq_feed_page SET deflated = ? WHERE store = ? AND period = ? AND day = ?",
        [(deflated.pack(body.encode()), store, period, day) for store, period, day, body in rows],
    )
    return len(rows)


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
    bucket `store_feed` (or, for store None, `chain_feed`) reads, in (store, start) order.
    A store's is its pages' signatures joined; the chain's, three columns joined by the
    database. An HTTP ETag is its hash."""
    if store is not None:
        return store_page(db, store, period, first, last, bodies=False)[0]
    where = "period = ? AND day >= ? AND day <= ?"
    params = (period, first.isoformat(), last.isoformat())
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
