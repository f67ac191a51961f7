"""Head-office feeds: query speed at chain scale, ingest cost of keeping feeds current, and
how fast a store's backlog shows in its published feed. On SQLite and PostgreSQL.

    .venv/bin/python bench/hq_feed.py [--stores 1000] [--days 365] [--no-pg] [--no-sqlite]

1. Queries. `hq_feed` is filled with `--stores` × `--days` of hourly and daily buckets
   (figures shaped like real ones: busy in opening hours, empty at night; with the
   API's JSON body of each, as the feed worker writes it), then
   timed through the same functions `hq feed` and the API use: a store-month of hourly
   buckets (random store and month) and a chain roll-up of one day across all stores.
   Targets: p95 ≤ 20 ms and ≤ 200 ms.
2. Ingest. 100,000 events of 20 stores (a day of door counts, scans, visits), as
   validated rows in 2 MiB groups like the ingester's, stored once without feed upkeep
   (no dirty marks, no rollup) and once with it (dirty marks in the ingest
   transaction, the feed worker recomputing and "publishing" every second in another
   thread), alternated three times, best of each. Target: with ≥ 70 % of without.
3. Latency. One store's 24-hour backlog of 50,000 events is ingested; the time from
   the last commit to its day bucket, with every event counted, being handed to the
   publisher. Target ≤ 5 s.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from zoneinfo import ZoneInfo  # noqa: E402

import psycopg  # noqa: E402

from edge.visits import day_bounds, day_hours  # noqa: E402
from hq.db import Db  # noqa: E402
from hq.deflated import pack  # noqa: E402
from hq.feed_worker import FeedSettings, FeedWorker  # noqa: E402
from hq.feeds import bucket_body, chain_feed, store_feed  # noqa: E402
from hq.pg_store import PgHqStore  # noqa: E402
from hq.rollup import Rollup  # noqa: E402
from hq.sqlite_store import SqliteHqStore  # noqa: E402
from hq.triage import triage  # noqa: E402
from tests.hq.storelog import Msg, StoreLog  # noqa: E402

AMS = ZoneInfo("Europe/Amsterdam")
FIRST_DAY = date(2025, 1, 1)


def p(values: list[float], q: float) -> float:
    """The q-quantile of values."""
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


# --- 1. queries ---------------------------------------------------------------------


def hour_figures(rng: random.Random, local_hour: int) -> str:
    if not 9 <= local_hour < 21:
        return "{}"
    entries = rng.randrange(5, 60)
    txns = rng.randrange(0, entries // 3 + 1)
    fig = {
        "entries": entries, "exits": entries - rng.randrange(0, 3), "visitors": entries - 1,
        "transactions": txns, "net_sales_cents": txns * rng.randrange(1500, 6000),
        "identified_visits": rng.randrange(0, 6), "matched_visits": rng.randrange(0, 3),
        "occupancy_peak": rng.randrange(5, 40), "occupancy_end": rng.randrange(0, 30),
        "events": entries * 2, "doors": {"main": {"in": entries, "out": entries - 1, "undirected": 0}},
    }  # fmt: skip
    return json.dumps(fig, sort_keys=True, separators=(",", ":"))


def fill(db: Db, stores: int, days: int) -> float:
    """Write the registry and stores × days of buckets; seconds taken."""
    started = time.perf_counter()
    rng = random.Random(1)
    with db.tx() as tx:
        tx.executemany(
            "INSERT INTO hq_store_registry (store, name, timezone, hours, exceptions, doors,"
            " staff_count, updated_at) VALUES (?, ?, 'Europe/Amsterdam', '{}', '{}', '[]', 0, 'x')",
            [(f"s{i:04d}", f"Store {i}") for i in range(stores)],
        )
    templates = [[hour_figures(rng, h) for h in range(24)] for _ in range(20)]
    for d in range(days):
        day = FIRST_DAY + timedelta(days=d)
        slots = day_hours(day, AMS)
        start = day_bounds(day, AMS)[0].strftime("%Y-%m-%dT%H:%MZ")
        rows, pages = [], []
        for i in range(stores):
            t = templates[(i + d) % 20]
            store = f"s{i:04d}"
            hours = []
            for utc, label in slots:
                key = (store, "hour", utc.strftime("%Y-%m-%dT%H:%MZ"), label, day.isoformat())
                fig = t[int(label[11:13])]
                rows.append((*key, fig, False, 1, "x"))
                hours.append((key[2], bucket_body(*key, fig, False, 1)))
            key = (store, "day", start, day.isoformat(), day.isoformat())
            rows.append((*key, t[12], False, 1, "x"))
            # The day's feed pages, as feeds.rebuild_pages writes them.
            for period, items in (
                ("hour", hours),
                ("day", [(start, bucket_body(*key, t[12], False, 1))]),
            ):
                signature = ";".join(f"{store}|{s}|1" for s, _ in items)
                body = ",".join(b for _, b in items)
                pages.append((store, period, day.isoformat(), signature, body, pack(body.encode())))
        columns = "store, period, start, label, day, figures, provisional, revision, updated_at"
        if db.dialect == "postgresql":  # COPY: executemany would take most of the run
            with db.store.transaction() as cur:
                with cur.copy(f"COPY hq_feed ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                with cur.copy(
                    "COPY hq_feed_page (store, period, day, signature, body, deflated) FROM STDIN"
                ) as copy:
                    for row in pages:
                        copy.write_row(row)
            continue
        with db.tx() as tx:
            tx.executemany(
                f"INSERT INTO hq_feed ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
            )
            tx.executemany(
                "INSERT INTO hq_feed_page (store, period, day, signature, body, deflated)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                pages,
            )
    with db.tx() as tx:
        tx.execute("ANALYZE hq_feed" if db.dialect == "postgresql" else "ANALYZE")
    return time.perf_counter() - started


def time_queries(db: Db, stores: int, days: int, n: int = 200) -> dict:
    rng = random.Random(2)
    month, chain = [], []
    months = max(1, days // 31)
    for _ in range(n):
        store = f"s{rng.randrange(stores):04d}"
        first = FIRST_DAY + timedelta(days=31 * rng.randrange(months))
        t = time.perf_counter()
        rows = store_feed(db, store, "hour", first, first + timedelta(days=30))
        month.append(time.perf_counter() - t)
        assert len(rows) >= 24 * min(30, days), len(rows)
    for _ in range(max(20, n // 5)):
        d = FIRST_DAY + timedelta(days=rng.randrange(days))
        t = time.perf_counter()
        rows = chain_feed(db, "day", d, d)
        chain.append(time.perf_counter() - t)
        assert rows[0]["stores"] == stores
    return {
        "store_month_p50_ms": round(1000 * p(month, 0.5), 1),
        "store_month_p95_ms": round(1000 * p(month, 0.95), 1),
        "chain_day_p50_ms": round(1000 * p(chain, 0.5), 1),
        "chain_day_p95_ms": round(1000 * p(chain, 0.95), 1),
    }


# --- 2. ingest with and without feeds ---------------------------------------------


def store_day_log(store: str, day: date, events: int, rng: random.Random) -> StoreLog:
    """A realistic store-day: door counts through opening hours, some scans and visits."""
    log = StoreLog(store)
    start = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=7)
    for i in range(events):
        at = start + timedelta(seconds=i * 12 * 3600 / events)
        ts = at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        roll = rng.random()
        if roll < 0.9:
            log.door(ts, "in" if roll < 0.46 else "out", 1, door="main" if roll < 0.7 else "side")
        elif roll < 0.97:
            log.staff(ts)
        else:
            log.add("nps.response", ts, {"score": rng.randrange(11), "touchpoint": "kiosk"})
    return log


def groups_of(logs: list[StoreLog], group_bytes: int = 2 * 1024 * 1024) -> list[list]:
    """Validated rows in ingester-sized groups (the ingester's triage, done up front)."""
    payloads = [(log.store, pl) for log in logs for pl in log.payloads(size=1000)]
    random.Random(3).shuffle(payloads)
    groups, cur, size = [], [], 0
    for store, pl in payloads:
        cur.append(Msg(f"touchpoint/v1/{store}/up/events", pl))
        size += len(pl)
        if size >= group_bytes:
            groups.append(triage(cur, 1024 * 1024).rows)
            cur, size = [], 0
    if cur:
        groups.append(triage(cur, 1024 * 1024).rows)
    return groups


class StoreSpec:
    """Opens the bench's HQ store; picklable, so a feed worker process can open it too."""

    def __init__(self, backend: str, where: str) -> None:
        self.backend, self.where = backend, where

    def __call__(self, feed_marks: bool = True):
        if self.backend == "sqlite":
            return SqliteHqStore(Path(self.where), feed_marks=feed_marks)
        return PgHqStore(self.where, feed_marks=feed_marks)


def bench_worker(open_store) -> FeedWorker:
    """The feed worker as `hq run` runs it; publishing is sync_drain's business, not this."""
    return FeedWorker(
        lambda: open_store(feed_marks=True),
        lambda topic, payload, retain: True,
        FeedSettings(interval_s=1.0, provisional_s=60.0, settle_max_s=4.0),
        now=lambda: 1_900_000_000.0,
    )


def feed_process(open_store, stop) -> None:
    """A feed worker in a process of its own (the deployment docs/scaling.md advises)."""
    worker = bench_worker(open_store)
    worker.start()
    stop.wait()
    worker.stop()


def ingest_rate(open_store, groups: list[list], events: int, feeds: str) -> tuple[float, float]:
    """Events/s of the ingest loop, and how long after the last commit the feeds were current.

    `feeds`: "off" (no dirty marks, no rollup), "thread" (the feed worker in the ingesting
    process, as one `hq run` does) or "process" (the feed worker in its own process).
    """
    store = open_store(feed_marks=feeds != "off")
    worker = child = stop = None
    if feeds == "thread":
        worker = bench_worker(open_store)
        worker.start()
    elif feeds == "process":
        stop = multiprocessing.Event()
        child = multiprocessing.Process(target=feed_process, args=(open_store, stop))
        child.start()
    started = time.perf_counter()
    for rows in groups:
        store.ingest(rows, "2026-06-01T00:00:00.000Z")
    done = time.perf_counter()
    lag = 0.0
    if feeds != "off":
        db = Db(store)
        while db.q(
            "SELECT (SELECT count(*) FROM hq_dirty) + (SELECT count(*) FROM hq_feed_outbox)"
        )[0][0]:
            time.sleep(0.05)
        lag = time.perf_counter() - done
    if worker is not None:
        worker.stop()
    if child is not None:
        stop.set()
        child.join(30)
    store.close()
    return events / (done - started), lag


# --- 3. backlog latency -------------------------------------------------------------


def backlog_latency(open_store, events: int = 50_000) -> float:
    log = store_day_log("late-1", date(2026, 6, 2), events, random.Random(4))
    expected_in = sum(
        e["data"]["count"]
        for e in log.events
        if e["type"] == "door.count" and e["data"]["direction"] == "in"
    )
    groups = groups_of([log])
    seen = threading.Event()
    mark: dict[str, float] = {}

    def publish(topic: str, payload: bytes, retain: bool) -> bool:
        if topic.endswith("late-1/feed/day"):
            row = json.loads(payload)
            if row["entries"] == expected_in and not seen.is_set():
                mark["at"] = time.perf_counter()
                seen.set()
        return True

    worker = FeedWorker(lambda: open_store(feed_marks=True), publish,
                        FeedSettings(interval_s=1.0, settle_max_s=4.0), now=lambda: 1_900_000_000.0)  # fmt: skip
    store = open_store(feed_marks=True)
    worker.start()
    for rows in groups:
        store.ingest(rows, "2026-06-03T00:00:00.000Z")
    done = time.perf_counter()
    seen.wait(60)
    worker.stop()
    store.close()
    return mark.get("at", float("inf")) - done


def recompute_cost(open_store, events: int = 5000) -> float:
    """Milliseconds to recompute one busy store-day (what the rollup spends per store)."""
    store = open_store(feed_marks=True)
    log = store_day_log("busy-1", date(2026, 6, 4), events, random.Random(6))
    for rows in groups_of([log]):
        store.ingest(rows, "2026-06-05T00:00:00.000Z")
    rollup = Rollup(Db(store), now=lambda: 1_900_000_000.0)
    rollup.run_once()
    times = []
    for _ in range(10):
        t = time.perf_counter()
        rollup.recompute("busy-1", date(2026, 6, 4))
        times.append(time.perf_counter() - t)
    store.close()
    return 1000 * statistics.median(times)


# --- main ----------------------------------------------------------------------------


def run_backend(name: str, open_store, args) -> dict:
    out: dict = {}
    db = Db(open_store(feed_marks=True))
    took = fill(db, args.stores, args.days)
    print(
        f"{name}: filled {args.stores} stores x {args.days} days of buckets in {took:.0f} s",
        flush=True,
    )
    out |= time_queries(db, args.stores, args.days)
    db.store.close()
    print(f"{name}: store-month hourly feed p95 {out['store_month_p95_ms']} ms (p50"
          f" {out['store_month_p50_ms']}; target ≤ 20); chain day roll-up p95"
          f" {out['chain_day_p95_ms']} ms (p50 {out['chain_day_p50_ms']}; target ≤ 200)", flush=True)  # fmt: skip
    rng = random.Random(5)
    return out | ingest_and_latency(name, open_store, args, rng)


def ingest_and_latency(name, open_store, args, rng) -> dict:
    out: dict = {}
    best = {"off": 0.0, "thread": 0.0, "process": 0.0}
    for attempt in range(3):
        for i, feeds in enumerate(("off", "thread", "process")):
            day = date(2026, 6, 1) + timedelta(days=attempt * 3 + i)
            logs = [store_day_log(f"i{attempt}{i}-{s:02d}", day, args.events // 20, rng)
                    for s in range(20)]  # fmt: skip
            rate, lag = ingest_rate(open_store, groups_of(logs), args.events, feeds)
            best[feeds] = max(best[feeds], rate)
            print(f"{name}: ingest, feeds {feeds}: {rate:,.0f} events/s"
                  + (f"; feeds current {lag:.2f} s after the last commit" if feeds != "off" else ""),
                  flush=True)  # fmt: skip
    out["ingest_without_feeds_events_per_s"] = round(best["off"])
    out["ingest_with_feeds_events_per_s"] = round(best["thread"])
    out["ingest_with_feeds_ratio"] = round(best["thread"] / best["off"], 2)
    out["ingest_with_feed_process_events_per_s"] = round(best["process"])
    out["ingest_with_feed_process_ratio"] = round(best["process"] / best["off"], 2)
    print(f"{name}: with feeds kept current {out['ingest_with_feeds_ratio']:.0%} of without"
          f" (feed worker in the ingesting process), {out['ingest_with_feed_process_ratio']:.0%}"
          " (in a process of its own) (target ≥ 70 %)", flush=True)  # fmt: skip
    out["recompute_5000_event_day_ms"] = round(recompute_cost(open_store), 1)
    print(f"{name}: recomputing a 5,000-event store-day takes {out['recompute_5000_event_day_ms']} ms"
          " (median of 10)", flush=True)  # fmt: skip
    out["backlog_to_feed_s"] = round(backlog_latency(open_store), 2)
    print(f"{name}: a 50,000-event day in the published feed {out['backlog_to_feed_s']} s after"
          " its last commit (target ≤ 5 s)", flush=True)  # fmt: skip
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--stores", type=int, default=1000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--no-sqlite", action="store_true")
    args = ap.parse_args()
    result: dict = {"stores": args.stores, "days": args.days}
    with tempfile.TemporaryDirectory(prefix="hq-feed-bench-") as tmp:
        if not args.no_sqlite:
            path = Path(tmp) / "hq.db"
            result["sqlite"] = run_backend("sqlite", StoreSpec("sqlite", str(path)), args)
            path.unlink()
        if not args.no_pg:
            from tests.pg_cluster import PgCluster

            with PgCluster() as pg:
                with psycopg.connect(pg.dsn(), autocommit=True) as admin:
                    admin.execute("CREATE DATABASE bench")
                dsn = pg.dsn("bench")
                result["postgresql"] = run_backend("postgresql", StoreSpec("postgresql", dsn), args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
