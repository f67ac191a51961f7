"""Store status and alerts at chain scale: what one evaluation and one status read cost.

    .venv/bin/python bench/hq_alerts.py [--stores 1000] [--hours 6] [--no-pg] [--no-sqlite]

A head office with `--stores` registered stores (open all day, doors main and side),
each with `--hours` of door counts (one a minute per door) ingested like the
ingester does, an online state, yesterday's day bucket; 3 % of the stores offline for
20 minutes, 10 % with a sequence gap open for 2 hours, 5 % with an imbalanced day,
2 % with a dead letter. Timed through the functions `hq run` and the web use:

- `evaluate` (hq/alerts.py): the first run (raises every alert), then 10 more with
  nothing changing (what the feed worker spends every `alerts.interval_s`, 30 s);
- `store_statuses` of every store (the stores overview) and of one store;
- `open_alerts` of every store.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from edge.visits import format_ts  # noqa: E402
from hq.alerts import evaluate, open_alerts  # noqa: E402
from hq.db import Db  # noqa: E402
from hq.imports.stores import parse_store  # noqa: E402
from hq.pg_store import PgHqStore  # noqa: E402
from hq.sqlite_store import SqliteHqStore  # noqa: E402
from hq.status import store_statuses  # noqa: E402
from hq.storage import EventRow  # noqa: E402
from sync.wire import StoreState  # noqa: E402

ALWAYS = "mon-sun 00:00-24:00"


def timed(fn, runs: int) -> dict[str, float]:
    """p50 and max milliseconds of `runs` calls of fn()."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return {"p50_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1)}


def fill(hq, stores: int, hours: int, now: datetime) -> None:
    """The chain described in the module docstring."""
    at = format_ts(now)
    names = [f"s{i:04d}" for i in range(stores)]
    rows = [
        parse_store(dict(store=s, name=s, timezone="UTC", hours=ALWAYS, doors="main|side"), i)
        for i, s in enumerate(names, 1)
    ]
    assert not hq.import_stores(rows, at).rejected
    start = now - timedelta(hours=hours)
    for i, store in enumerate(names):
        events = []
        for minute in range(hours * 60):
            ts = format_ts(start + timedelta(minutes=minute))
            for door in ("main", "side"):
                data = f'{{"door":"{door}","direction":"in","count":1,"sensor":"s"}}'
                seq = len(events) + 1
                events.append(EventRow(store, seq, f"id-{seq}", "door.count", ts, "dev", data,
                                       True, "boot"))  # fmt: skip
        if i % 10 == 0:  # a gap two hours old: one event never arrived
            events.pop(len(events) // 2)
        for chunk in range(0, len(events), 5000):
            hq.ingest(events[chunk : chunk + 5000], format_ts(now - timedelta(hours=2)))
        state = StoreState(v=1, online=i % 33 != 0, boot_id="boot", outbox=0)
        seen = now - timedelta(minutes=20) if i % 33 == 0 else now
        hq.record_state(store, state, format_ts(seen))
        if i % 50 == 0:
            hq.dead_letter(f"touchpoint/v1/{store}/up/events", store, "bad", b"{", at)
    yesterday = (now - timedelta(days=1)).date()
    with hq.transaction() as cur:
        p = hq.placeholder
        cur.executemany(
            "INSERT INTO hq_feed (store, period, start, label, day, figures, provisional,"
            f" revision, updated_at) VALUES ({p}, 'day', {p}, {p}, {p}, {p}, {p}, 1, {p})",
            [
                (s, f"{yesterday}T00:00Z", str(yesterday), str(yesterday),
                 json.dumps({"entries": 500, "exits": 400 if i % 20 == 0 else 497}), False, at)
                for i, s in enumerate(names)
            ],
        )  # fmt: skip


def run_backend(hq, args) -> dict:
    """Fill one database and time the reads on it."""
    now = datetime.now(UTC).replace(microsecond=0)
    t = time.perf_counter()
    fill(hq, args.stores, args.hours, now)
    out: dict = {"fill_s": round(time.perf_counter() - t, 1)}
    db = Db(hq)
    t = time.perf_counter()
    first = evaluate(db, now)
    out["evaluate_first_ms"] = round((time.perf_counter() - t) * 1000, 1)
    out["raised"] = first.raised
    out["evaluate_steady"] = timed(lambda: evaluate(db, now), 10)
    out["statuses_all"] = timed(lambda: store_statuses(db, now), 10)
    out["status_one_store"] = timed(lambda: store_statuses(db, now, {"s0001"}), 50)
    out["open_alerts_all"] = timed(lambda: open_alerts(db), 20)
    kinds: dict[str, int] = {}
    for alert in open_alerts(db):
        kinds[alert.kind] = kinds.get(alert.kind, 0) + 1
    out["open_by_kind"] = kinds
    hq.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--stores", type=int, default=1000)
    ap.add_argument("--hours", type=int, default=6)
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--no-sqlite", action="store_true")
    args = ap.parse_args()
    result: dict = {"stores": args.stores, "hours_of_counts": args.hours}
    with tempfile.TemporaryDirectory(prefix="hq-alerts-bench-") as tmp:
        if not args.no_sqlite:
            result["sqlite"] = run_backend(SqliteHqStore(Path(tmp) / "hq.db"), args)
        if not args.no_pg:
            from tests.pg_cluster import PgCluster

            with PgCluster() as pg:
                with psycopg.connect(pg.dsn(), autocommit=True) as admin:
                    admin.execute("CREATE DATABASE bench")
                result["postgresql"] = run_backend(PgHqStore(pg.dsn("bench")), args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
