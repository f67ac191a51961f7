"""HqStore behaviour, run identically on SQLite and PostgreSQL (the `hq_target` fixture)."""

from __future__ import annotations

import json
import random
import sqlite3
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from msgspec.structs import replace

from edge.events import DoorCount, encode_data
from hq import schema
from hq.storage import MAX_DEAD_LETTER_BYTES, EventRow, HqStore, IngestOutcome
from sync.wire import StoreState
from tests.hq_db import HqTarget
from tests.pg_cluster import PgCluster, PgClusterError

NOW = "2024-05-01T12:00:00.000Z"


def door(
    store: str,
    seq: int,
    *,
    ts: str = "2024-05-01T09:15:00.000Z",
    door_id: str = "front",
    direction: str = "in",
    count: int = 1,
    error: str | None = None,
) -> EventRow:
    """A door.count row."""
    data = encode_data(DoorCount(door=door_id, direction=direction, count=count, sensor="tb-1"))
    return EventRow(
        store=store,
        seq=seq,
        id=str(uuid.uuid4()),
        type="door.count",
        ts=ts,
        device="door-1",
        data=data,
        clock_ok=True,
        boot_id="boot-a",
        error=error,
    )


def run(store: str, first: int, last: int) -> list[EventRow]:
    """door.count rows for seqs first..last."""
    return [door(store, s) for s in range(first, last + 1)]


def state(online: bool, boot_id: str, outbox: int = 0) -> StoreState:
    return StoreState(v=1, online=online, boot_id=boot_id, outbox=outbox)


def total_in(hq: HqStore, store: str) -> int:
    return sum(row[3] for row in hq.door_counts(store))


def test_ingest_stores_rows_and_advances_the_watermark(hq_store: HqStore) -> None:
    out = hq_store.ingest(run("s1", 1, 10), NOW)
    assert (out.inserted, out.duplicates, out.acked, out.max_seq) == (10, 0, {"s1": 10}, {"s1": 10})
    mark = hq_store.marks()["s1"]
    assert (mark.acked_through, mark.max_seq, mark.events, mark.duplicates) == (10, 10, 10, 0)
    assert mark.last_batch_at == NOW
    assert mark.online is None and mark.state is None
    assert hq_store.ingest([], NOW).inserted == 0


def test_reingest_counts_duplicates_and_does_not_store_them(hq_store: HqStore) -> None:
    hq_store.ingest(run("s1", 1, 10), NOW)
    out = hq_store.ingest(run("s1", 1, 12), NOW)
    assert (out.inserted, out.duplicates, out.acked["s1"]) == (2, 10, 12)
    # The same seq twice inside one batch is one row and one duplicate.
    out = hq_store.ingest([door("s1", 13), door("s1", 13)], NOW)
    assert (out.inserted, out.duplicates) == (1, 1)
    mark = hq_store.marks()["s1"]
    assert (mark.events, mark.duplicates, mark.acked_through) == (13, 11, 13)
    assert total_in(hq_store, "s1") == 13


def test_out_of_order_batches_hold_the_watermark_at_the_gap(hq_store: HqStore) -> None:
    assert hq_store.ingest(run("s1", 2, 3), NOW).acked == {"s1": 0}
    assert hq_store.ingest(run("s1", 1, 1), NOW).acked == {"s1": 3}
    assert hq_store.ingest(run("s1", 11, 15), NOW).acked == {"s1": 3}
    out = hq_store.ingest(run("s1", 8, 10), NOW)
    assert (out.acked, out.max_seq) == ({"s1": 3}, {"s1": 15})
    assert hq_store.ingest(list(reversed(run("s1", 4, 7))), NOW).acked == {"s1": 15}
    mark = hq_store.marks()["s1"]
    assert (mark.acked_through, mark.max_seq, mark.events) == (15, 15, 15)


def test_a_gap_far_behind_a_long_run_is_closed_in_one_step(hq_store: HqStore) -> None:
    hq_store.ingest(run("s1", 2, 30_000), NOW)
    assert hq_store.marks()["s1"].acked_through == 0
    # One row fills the gap; the scan grows its chunks until it passes 30,000 rows.
    assert hq_store.ingest(run("s1", 1, 1), NOW).acked == {"s1": 30_000}


def test_one_batch_may_touch_several_stores(hq_store: HqStore) -> None:
    rows = run("b", 1, 3) + run("a", 1, 2) + run("c", 2, 2)
    out = hq_store.ingest(rows, NOW)
    assert out.acked == {"a": 2, "b": 3, "c": 0}
    assert out.max_seq == {"a": 2, "b": 3, "c": 2}
    assert sorted(hq_store.marks()) == ["a", "b", "c"]


def test_rows_with_an_error_count_for_contiguity_but_not_in_feeds(hq_store: HqStore) -> None:
    rows = run("s1", 1, 5)
    rows[2] = door("s1", 3, count=50, error="door.count: Expected `int`")
    out = hq_store.ingest(rows, NOW)
    assert (out.inserted, out.acked["s1"]) == (5, 5)
    assert total_in(hq_store, "s1") == 4


def test_a_payload_jsonb_cannot_read_is_kept_as_an_error(hq_store: HqStore) -> None:
    bad = door("s1", 1)
    bad = replace(bad, data=bad.data.replace("front", "fr\\u0000nt"))
    nul_device = replace(door("s1", 2), device="door\x001")
    out = hq_store.ingest([bad, nul_device, door("s1", 3)], NOW)
    assert (out.inserted, out.acked["s1"]) == (3, 3)
    assert hq_store.door_counts("s1") == [("s1", "front", "2024-05-01T09:00", 2, 0)]


def test_store_state_ignores_a_stale_will(hq_store: HqStore) -> None:
    assert hq_store.record_state("s1", state(True, "boot-1", outbox=7), NOW)
    mark = hq_store.marks()["s1"]
    assert (mark.online, mark.boot_id, mark.state_at) == (True, "boot-1", NOW)
    assert mark.state is not None and mark.state["outbox"] == 7
    # The store rebooted; the broker then delivers the old boot's will.
    assert hq_store.record_state("s1", state(True, "boot-2"), "t2")
    assert not hq_store.record_state("s1", state(False, "boot-1"), "t3")
    mark = hq_store.marks()["s1"]
    assert (mark.online, mark.boot_id, mark.state_at) == (True, "boot-2", "t2")
    # The current boot's will is accepted, and a birth after a will brings it back.
    assert hq_store.record_state("s1", state(False, "boot-2"), "t4")
    assert hq_store.marks()["s1"].online is False
    assert hq_store.record_state("s1", state(True, "boot-3"), "t5")
    mark = hq_store.marks()["s1"]
    assert (mark.online, mark.boot_id, mark.state_at) == (True, "boot-3", "t5")


def test_a_will_for_an_unknown_store_is_recorded(hq_store: HqStore) -> None:
    assert hq_store.record_state("s9", state(False, "boot-1"), NOW)
    assert hq_store.marks()["s9"].online is False


def test_state_and_events_share_a_store_mark(hq_store: HqStore) -> None:
    hq_store.record_state("s1", state(True, "boot-1"), NOW)
    hq_store.ingest(run("s1", 1, 4), "t2")
    mark = hq_store.marks()["s1"]
    assert (mark.online, mark.acked_through, mark.last_batch_at, mark.state_at) == (
        True,
        4,
        "t2",
        NOW,
    )


def test_dead_letters_keep_the_reason_and_a_bounded_payload(hq_store: HqStore) -> None:
    hq_store.dead_letter(
        "touchpoint/v1/s1/up/events",
        "s1",
        "store 's2' in the payload",
        b'{"v":1,"store":"s2"}',
        NOW,
    )
    hq_store.dead_letter(
        "touchpoint/v1/s1/up/events",
        None,
        "not JSON",
        b"\xff\x00junk" + b"x" * (2 * MAX_DEAD_LETTER_BYTES),
        "t2",
    )
    newest, oldest = hq_store.dead_letters()
    assert (oldest["topic"], oldest["store"], oldest["reason"], oldest["received_at"]) == (
        "touchpoint/v1/s1/up/events",
        "s1",
        "store 's2' in the payload",
        NOW,
    )
    assert json.loads(oldest["payload"]) == {"v": 1, "store": "s2"}
    assert newest["store"] is None and newest["reason"] == "not JSON"
    assert newest["payload"].startswith("\ufffd\ufffdjunk")
    assert len(newest["payload"]) == MAX_DEAD_LETTER_BYTES
    assert [d["reason"] for d in hq_store.dead_letters(limit=1)] == ["not JSON"]


def test_door_counts_sum_per_store_door_and_hour(hq_store: HqStore) -> None:
    rows = [
        door("s1", 1, ts="2024-05-01T09:00:00.000Z", count=2),
        door("s1", 2, ts="2024-05-01T09:59:59.999Z", count=3),
        door("s1", 3, ts="2024-05-01T09:30:00.000Z", direction="out", count=4),
        door("s1", 4, ts="2024-05-01T10:00:00.000Z", count=1),
        door("s1", 5, ts="2024-05-01T10:05:00.000Z", door_id="back", direction="out", count=6),
        door("s2", 1, ts="2024-05-01T09:10:00.000Z", count=9),
    ]
    other = door("s1", 6)
    rows.append(replace(other, type="nps.response", data='{"score":9,"touchpoint":"kiosk"}'))
    hq_store.ingest(rows, NOW)
    assert hq_store.door_counts() == [
        ("s1", "back", "2024-05-01T10:00", 0, 6),
        ("s1", "front", "2024-05-01T09:00", 5, 4),
        ("s1", "front", "2024-05-01T10:00", 1, 0),
        ("s2", "front", "2024-05-01T09:00", 9, 0),
    ]
    assert hq_store.door_counts("s2") == [("s2", "front", "2024-05-01T09:00", 9, 0)]
    assert hq_store.door_counts("nope") == []


def test_data_survives_reopening(hq_target: HqTarget) -> None:
    first = hq_target.open()
    first.ingest(run("s1", 1, 3), NOW)
    first.record_state("s1", state(True, "boot-1"), NOW)
    first.close()
    again = hq_target.open()
    assert again.ingest(run("s1", 1, 4), NOW).duplicates == 3
    mark = again.marks()["s1"]
    assert (mark.acked_through, mark.online) == (4, True)


def test_a_database_with_a_newer_schema_is_refused(hq_target: HqTarget) -> None:
    hq_target.open().close()
    newer = schema.SCHEMA_VERSION + 1
    if hq_target.backend == "sqlite":
        with sqlite3.connect(hq_target.db.path) as conn:
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (newer,))
    else:
        dsn = hq_target.secrets.read(hq_target.db.dsn_file).decode()
        with psycopg.connect(dsn) as conn:
            conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (newer,))
    with pytest.raises(schema.SchemaError, match=f"version {newer}"):
        hq_target.open()


def _ingest_concurrently(
    target: HqTarget, parts: list[list[list[EventRow]]], *, lockstep: bool = False
) -> tuple[list[list[IngestOutcome]], float]:
    """Each part's batches ingested by its own store instance in its own thread.

    With `lockstep` the threads start each batch together, so their transactions
    overlap as much as they can. Returns every outcome per thread, and seconds taken.
    """
    stores = [target.open() for _ in parts]
    outcomes: list[list[IngestOutcome]] = [[] for _ in parts]
    failures: list[BaseException] = []
    barrier = threading.Barrier(len(parts))

    def work(k: int) -> None:
        try:
            barrier.wait(timeout=30)
            for batch in parts[k]:
                if lockstep:
                    barrier.wait(timeout=30)
                outcomes[k].append(stores[k].ingest(batch, NOW))
        except BaseException as exc:  # reported by the main thread
            barrier.abort()
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(parts))]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "an ingester thread hung"
    assert not failures, failures
    return outcomes, time.perf_counter() - began


def test_two_ingesters_writing_interleaved_halves_end_with_the_full_watermark(
    hq_target: HqTarget,
) -> None:
    n, size = 20_000, 200
    rows = run("s1", 1, n)
    # Round r: odd seqs of block r to one ingester, even ones to the other, at the same
    # moment. Neither can advance on its own rows, so only a transaction that sees the
    # other's commit (after the row lock) can reach the end of the block.
    halves = [[rows[i : i + 2 * size : 2] for i in range(start, n, 2 * size)] for start in (0, 1)]
    outcomes, took = _ingest_concurrently(hq_target, halves, lockstep=True)
    for r, pair in enumerate(zip(*outcomes, strict=True)):
        assert max(o.acked["s1"] for o in pair) == 2 * size * (r + 1), f"round {r}"
    mark = hq_target.open().marks()["s1"]
    assert (mark.acked_through, mark.max_seq, mark.events, mark.duplicates) == (n, n, n, 0)
    assert total_in(hq_target.opened[-1], "s1") == n
    # A figure for the curious (pytest -s), never asserted.
    print(
        f"{hq_target.backend}: 2 ingesters in lockstep, {n} rows in"
        f" {2 * len(halves[0])} transactions: {n / took:,.0f} rows/s"
    )


def test_two_ingesters_sending_the_same_rows_store_each_once(hq_target: HqTarget) -> None:
    n, size = 5_000, 250
    rows = run("s1", 1, n) + run("s2", 1, n)
    batches = [rows[i : i + size] for i in range(0, len(rows), size)]
    # Both get everything in different orders: they collide on keys and on store rows.
    parts = [random.Random(seed).sample(batches, len(batches)) for seed in (1, 2)]
    _ingest_concurrently(hq_target, parts)
    marks = hq_target.open().marks()
    for store in ("s1", "s2"):
        assert (marks[store].acked_through, marks[store].events) == (n, n)
    assert marks["s1"].duplicates + marks["s2"].duplicates == 2 * n


def test_a_missing_postgresql_is_an_error_not_a_skip(tmp_path: Path) -> None:
    with pytest.raises(PgClusterError, match="not installed"):
        PgCluster(tmp_path / "no-such-bin").start()
