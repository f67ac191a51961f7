"""The store event log: gap-free seq under concurrency, group commits, atomic state."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from edge.db import open_store_db
from edge.eventlog import EventLog
from edge.events import DoorCount, decode_data

PAYLOAD = DoorCount(door="main", direction="in", count=1, sensor="s1")


def test_100k_events_from_4_threads_have_gap_free_unique_seq(store_db_path):
    log = EventLog(store_db_path).start()

    def produce(worker: int) -> None:
        for i in range(25_000):
            log.append(DoorCount(door=f"d{worker}", direction="in", count=1, sensor=str(i)), "t")

    threads = [threading.Thread(target=produce, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert log.flush(60)
    log.stop()
    assert log.commits < 100_000 / 10  # really group-committed, not one commit per event

    conn = sqlite3.connect(store_db_path)
    seqs = [r[0] for r in conn.execute("SELECT seq FROM events ORDER BY seq")]
    assert seqs == list(range(1, 100_001))
    ids = conn.execute("SELECT COUNT(DISTINCT id) FROM events").fetchone()[0]
    assert ids == 100_000
    per_worker = dict(
        conn.execute("SELECT json_extract(data, '$.door'), COUNT(*) FROM events GROUP BY 1")
    )
    assert per_worker == {f"d{w}": 25_000 for w in range(4)}


def test_event_row_has_envelope_fields(store_db_path):
    with EventLog(store_db_path, boot_id="boot-1") as log:
        log.append(PAYLOAD, "door-main")
        assert log.flush()
    row = (
        sqlite3.connect(store_db_path)
        .execute("SELECT seq, id, type, ts, device, data, clock_ok, boot_id FROM events")
        .fetchone()
    )
    seq, uid, type_, ts, device, data, clock_ok, boot_id = row
    assert seq == 1
    assert uid[14] == "7"  # UUID version 7: time-ordered ids
    assert type_ == "door.count"
    assert ts.endswith("Z") and len(ts) == len("2026-01-01T00:00:00.000Z")
    assert device == "door-main" and boot_id == "boot-1" and clock_ok in (0, 1)
    assert decode_data(type_, data) == PAYLOAD


def test_state_commits_with_its_events(store_db_path):
    with EventLog(store_db_path) as log:
        log.append(PAYLOAD, "c", state=("counter:c", '{"in": 5}'))
        log.flush()
    db = open_store_db(store_db_path)
    assert db["state"].get("counter:c")["value"] == '{"in": 5}'
    assert db["events"].count == 1


def test_seq_continues_after_restart_and_is_never_reused(store_db_path):
    with EventLog(store_db_path) as log:
        for _ in range(10):
            log.append(PAYLOAD, "c")
    db = open_store_db(store_db_path)
    db.execute("DELETE FROM events WHERE seq > 5")  # pruning the newest must not free seqs
    with EventLog(store_db_path) as log:
        log.append(PAYLOAD, "c")
    assert [r[0] for r in db.execute("SELECT seq FROM events ORDER BY seq")] == [1, 2, 3, 4, 5, 11]


def test_events_are_append_only(store_db_path):
    with EventLog(store_db_path) as log:
        log.append(PAYLOAD, "c")
    conn = sqlite3.connect(store_db_path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE events SET device = 'x'")


def test_commit_waits_for_a_locked_database_instead_of_dropping(store_db_path):
    log = EventLog(store_db_path, busy_timeout_ms=100).start()
    blocker = sqlite3.connect(store_db_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another writer (the kiosk) holds the lock
    log.append(PAYLOAD, "c")
    assert not log.flush(timeout=0.5)
    blocker.execute("COMMIT")
    assert log.flush(timeout=10)
    log.stop()
    assert log.errors >= 1
    assert sqlite3.connect(store_db_path).execute("SELECT COUNT(*) FROM events").fetchone()[0] == 1


def test_database_pragmas(store_db_path):
    db = open_store_db(store_db_path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
