"""The feed pages (`hq_feed_page`) hold exactly the derived feed rows of each store-day, on
SQLite and PostgreSQL: after the first rollup, after a new revision, and after an upgrade
from the per-bucket bodies of schema version 7 (built by the migration; a page waiting
for a body is derived on reading, then filled in by the feed worker)."""

from __future__ import annotations

import gzip
import sqlite3
from datetime import date

import msgspec
from litestar.testing import TestClient

from hq import schema
from hq.db import Db
from hq.feeds import bucket_body, store_feed, store_feed_json, store_page, store_page_gzip
from hq.rollup import Rollup
from hq.sqlite_store import SqliteHqStore
from tests.hq.feed_pages import assert_pages_match
from tests.hq.storelog import deliver
from tests.hq.web.support import DAY, LATER, roll

D = date.fromisoformat(DAY)


def _check(db: Db) -> int:
    """Every page is the oracle's; each store's JSON feed equals its derived rows
    encoded. Returns how many pages."""
    for store in ("s1", "s2"):
        for period in ("hour", "day"):
            derived = msgspec.json.encode(store_feed(db, store, period, D, D))
            assert store_feed_json(db, store, period, D, D) == derived
            assert store_page(db, store, period, D, D)[1] == derived
    return assert_pages_match(db)


def test_pages_are_the_derived_rows_also_after_a_new_revision(web_hq):
    db = Db(web_hq.writer)
    assert _check(db) == 2 * 2  # two stores: a page of hours and one of the day each
    log = web_hq.logs["s1"]
    log.door(f"{DAY}T08:40:00.000Z", count=2)
    deliver(web_hq.writer, "s1", log.payloads(log.events[-1:]))
    roll(web_hq.writer)
    rows = msgspec.json.decode(store_page(db, "s1", "hour", D, D)[1])
    row = next(r for r in rows if r["start"] == f"{DAY}T08:00Z")
    assert (row["revision"], row["entries"], row["store"]) == (2, 5, "s1")
    _check(db)
    auth = web_hq.bearer(web_hq.token_all)
    with TestClient(web_hq.app()) as client:
        served = client.get(f"/api/v1/stores/s1/feed?from={DAY}&period=hour", headers=auth)
    assert served.content == msgspec.json.encode(store_feed(db, "s1", "hour", D, D))


def test_pages_waiting_for_a_body_are_derived_then_filled_by_the_worker(web_hq):
    db = Db(web_hq.writer)
    with db.tx() as tx:  # as an upgrade leaves a day with a bucket that had no v7 body
        tx.execute("UPDATE hq_feed_page SET body = NULL")
    assert store_page(db, "s1", "hour", D, D)[1] is None
    fallback = store_feed_json(db, "s1", "hour", D, D)
    assert fallback == msgspec.json.encode(store_feed(db, "s1", "hour", D, D))
    rollup = Rollup(db, now=lambda: LATER)
    assert rollup.fill_pages(limit=1) == 1
    assert len(db.q("SELECT 1 FROM hq_feed_page WHERE body IS NULL")) == 2
    assert rollup.fill_pages() == 1 and rollup.fill_pages() == 0
    _check(db)


def _database_at(path, version: int, rows: list[tuple], with_bodies: bool) -> None:
    """An SQLite HQ database at an older schema version holding these buckets."""
    with sqlite3.connect(path) as conn:
        conn.execute(schema.VERSION_TABLE)
        for v, statements in schema.migrations("sqlite", 0)[:version]:
            for stmt in statements:
                conn.execute(stmt)
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (v,))
        columns = "store, period, start, label, day, figures, provisional, revision, updated_at"
        if with_bodies:
            conn.executemany(
                f"INSERT INTO hq_feed ({columns}, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'x', ?)",
                [(*r, bucket_body(*r[:5], r[5], bool(r[6]), r[7])) for r in rows],
            )
        else:
            conn.executemany(
                f"INSERT INTO hq_feed ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'x')", rows
            )


FIGURES = '{"entries":4,"visitors":4,"transactions":1}'


def test_a_database_from_before_the_bodies_migrates_and_the_worker_fills_its_pages(tmp_path):
    path = tmp_path / "hq.db"
    _database_at(path, 6, [("s1", "day", f"{DAY}T00:00Z", DAY, DAY, FIGURES, 0, 3)], False)
    store = SqliteHqStore(path)
    try:
        db = Db(store)
        assert db.q("SELECT max(version) FROM schema_version")[0][0] == schema.SCHEMA_VERSION
        assert db.q("SELECT signature, body FROM hq_feed_page") == [(f"s1|{DAY}T00:00Z|3", None)]
        served = store_feed_json(db, "s1", "day", D, D)  # derived while the page waits
        assert served == msgspec.json.encode(store_feed(db, "s1", "day", D, D))
        assert Rollup(db, now=lambda: LATER).fill_pages() == 1
        assert store_page(db, "s1", "day", D, D)[1] == served
        assert msgspec.json.decode(served)[0]["conversion"] == 0.25
        assert_pages_match(db)
    finally:
        store.close()


def test_a_database_with_bodies_migrates_with_its_pages_built_from_them(tmp_path):
    """v8 -> v9: the pages are built from the stored v7 bodies by the migration itself."""
    path = tmp_path / "hq.db"
    rows = [
        ("s1", "hour", f"{DAY}T{h:02d}:00Z", f"{DAY}T{h:02d}:00+00:00", DAY, FIGURES, 0, h % 3 + 1)
        for h in (23, 4, 11)  # not in time order
    ] + [
        ("s1", "day", f"{DAY}T00:00Z", DAY, DAY, FIGURES, 0, 2),
        ("s2", "day", f"{DAY}T00:00Z", DAY, DAY, FIGURES, 1, 1),
    ]
    _database_at(path, 8, rows, True)
    with sqlite3.connect(path) as conn:  # one bucket written before v7 kept bodies
        conn.execute("UPDATE hq_feed SET body = NULL WHERE store = 's2'")
    store = SqliteHqStore(path)
    try:
        db = Db(store)
        assert store_page(db, "s1", "hour", D, D)[1] == msgspec.json.encode(
            store_feed(db, "s1", "hour", D, D)
        )
        assert store_page(db, "s2", "day", D, D)[1] is None  # waits for its body
        # v10: no page has its deflated piece yet, so none is served gzip-encoded.
        assert store_page_gzip(db, "s1", "hour", D, D) == (
            store_page(db, "s1", "hour", D, D)[0],
            False,
            None,
        )
        rollup = Rollup(db, now=lambda: LATER)
        assert rollup.fill_pages() == 1  # bodies first: s2's page is built whole
        assert rollup.fill_pages() == 2  # then the pieces of s1's two pages
        assert rollup.fill_pages() == 0
        assert assert_pages_match(db) == 3
        signature, complete, joined = store_page_gzip(db, "s1", "hour", D, D)
        assert complete and signature == store_page(db, "s1", "hour", D, D)[0]
        assert gzip.decompress(joined) == store_page(db, "s1", "hour", D, D)[1]
    finally:
        store.close()
