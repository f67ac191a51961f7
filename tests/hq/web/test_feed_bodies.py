"""The feed bodies stored with the buckets (`hq_feed.body`) are exactly the derived rows, and
the feed pages (`hq_feed_page`) exactly those bodies joined, on SQLite and PostgreSQL:
after the first rollup, after a new revision, and for rows from before the schema kept
them (derived on reading, then filled in by the feed worker)."""

from __future__ import annotations

import sqlite3
from datetime import date

import msgspec
from litestar.testing import TestClient

from hq import schema
from hq.db import Db
from hq.feeds import bucket_body, store_feed, store_feed_json, store_page
from hq.rollup import Rollup
from hq.sqlite_store import SqliteHqStore
from tests.hq.feed_pages import assert_pages_match
from tests.hq.storelog import deliver
from tests.hq.web.support import DAY, LATER, roll

D = date.fromisoformat(DAY)


def _check(db: Db) -> int:
    """Every stored body equals the row derived from the bucket; each store's JSON feed
    equals its derived rows encoded. Returns how many bodies were compared."""
    rows = db.q(
        "SELECT store, period, start, label, day, figures, provisional, revision, body"
        " FROM hq_feed ORDER BY store, period, start"
    )
    for store, period, start, label, day, fig, prov, rev, body in rows:
        assert body == bucket_body(store, period, start, label, day, fig, bool(prov), int(rev))
    for store in ("s1", "s2"):
        for period in ("hour", "day"):
            derived = msgspec.json.encode(store_feed(db, store, period, D, D))
            assert store_feed_json(db, store, period, D, D) == derived
    assert_pages_match(db)
    return len(rows)


def test_stored_bodies_are_the_derived_rows_also_after_a_new_revision(web_hq):
    db = Db(web_hq.writer)
    assert _check(db) == 2 * 25  # two stores: 24 hours and the day each
    log = web_hq.logs["s1"]
    log.door(f"{DAY}T08:40:00.000Z", count=2)
    deliver(web_hq.writer, "s1", log.payloads(log.events[-1:]))
    roll(web_hq.writer)
    (body,) = db.q(
        "SELECT body FROM hq_feed WHERE store = 's1' AND period = 'hour' AND start = ?",
        (f"{DAY}T08:00Z",),
    )[0]
    row = msgspec.json.decode(body)
    assert (row["revision"], row["entries"], row["store"]) == (2, 5, "s1")
    _check(db)
    auth = web_hq.bearer(web_hq.token_all)
    with TestClient(web_hq.app()) as client:
        served = client.get(f"/api/v1/stores/s1/feed?from={DAY}&period=hour", headers=auth)
    assert served.content == msgspec.json.encode(store_feed(db, "s1", "hour", D, D))


def test_rows_without_a_body_are_derived_then_filled_by_the_worker(web_hq):
    db = Db(web_hq.writer)
    with db.tx() as tx:  # as a database migrated from before the bodies holds them
        tx.execute("UPDATE hq_feed SET body = NULL")
        tx.execute("UPDATE hq_feed_page SET body = NULL")
    assert store_page(db, "s1", "hour", D, D)[1] is None
    fallback = store_feed_json(db, "s1", "hour", D, D)
    assert fallback == msgspec.json.encode(store_feed(db, "s1", "hour", D, D))
    rollup = Rollup(db, now=lambda: LATER)
    assert rollup.fill_bodies(limit=30) == 30
    assert len(db.q("SELECT 1 FROM hq_feed WHERE body IS NULL")) == 20
    assert_pages_match(db)
    assert rollup.fill_bodies() == 20 and rollup.fill_bodies() == 0
    _check(db)


def test_a_database_from_before_the_bodies_migrates_and_the_worker_fills_them(tmp_path):
    path = tmp_path / "hq.db"
    with sqlite3.connect(path) as conn:  # the schema as it was before the bodies (v7)
        conn.execute(schema.VERSION_TABLE)
        for version, statements in schema.migrations("sqlite", 0)[:6]:
            for stmt in statements:
                conn.execute(stmt)
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
        conn.execute(
            "INSERT INTO hq_feed (store, period, start, label, day, figures, provisional,"
            " revision, updated_at) VALUES ('s1', 'day', ?, ?, ?, ?, 0, 3, 'x')",
            (f"{DAY}T00:00Z", DAY, DAY, '{"entries":4,"visitors":4,"transactions":1}'),
        )
    store = SqliteHqStore(path)
    try:
        db = Db(store)
        assert db.q("SELECT max(version) FROM schema_version")[0][0] == schema.SCHEMA_VERSION
        assert db.q("SELECT body FROM hq_feed") == [(None,)]
        served = store_feed_json(db, "s1", "day", D, D)  # derived while the body is missing
        assert served == msgspec.json.encode(store_feed(db, "s1", "day", D, D))
        assert Rollup(db, now=lambda: LATER).fill_bodies() == 1
        (body,) = db.q("SELECT body FROM hq_feed")[0]
        assert f"[{body}]".encode() == served
        assert msgspec.json.decode(body)["conversion"] == 0.25
        assert store_page(db, "s1", "day", D, D)[1] == served
        assert_pages_match(db)
    finally:
        store.close()


def test_a_database_from_before_the_pages_migrates_with_its_pages(tmp_path):
    """v8 -> v9: the pages are built from the stored buckets by the migration itself."""
    path = tmp_path / "hq.db"
    day = '{"entries":4,"visitors":4,"transactions":1}'
    with sqlite3.connect(path) as conn:  # the schema as it was before the pages (v8)
        conn.execute(schema.VERSION_TABLE)
        for version, statements in schema.migrations("sqlite", 0)[:8]:
            for stmt in statements:
                conn.execute(stmt)
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
        rows = [
            ("s1", "hour", f"{DAY}T{h:02d}:00Z", f"{DAY}T{h:02d}:00+00:00", DAY, day, 0, h % 3 + 1)
            for h in (23, 4, 11)  # not in time order
        ] + [
            ("s1", "day", f"{DAY}T00:00Z", DAY, DAY, day, 0, 2),
            ("s2", "day", f"{DAY}T00:00Z", DAY, DAY, day, 1, 1),
        ]
        conn.executemany(
            "INSERT INTO hq_feed (store, period, start, label, day, figures, provisional,"
            " revision, updated_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'x', ?)",
            [(*r, bucket_body(*r[:5], r[5], bool(r[6]), r[7])) for r in rows],
        )
        conn.execute("UPDATE hq_feed SET body = NULL WHERE store = 's2'")
    store = SqliteHqStore(path)
    try:
        db = Db(store)
        assert assert_pages_match(db) == 3
        assert store_page(db, "s1", "hour", D, D)[1] == msgspec.json.encode(
            store_feed(db, "s1", "hour", D, D)
        )
        assert store_page(db, "s2", "day", D, D)[1] is None  # waits for its body
        assert Rollup(db, now=lambda: LATER).fill_bodies() == 1
        assert assert_pages_match(db) == 3
    finally:
        store.close()
