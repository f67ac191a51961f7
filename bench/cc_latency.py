"""Click & collect: an order imported at head office until it is in the store's staff queue.

    .venv/bin/python bench/cc_latency.py [--orders 200] [--gap 0.05] [--batch 500]

Starts a private mosquitto, the real `touchpoint hq run` (SQLite, shipped defaults: the
order worker looks every 0.2 s, the feed worker runs beside it) and the real store
agent `touchpoint edge run`, online. Then imports orders one at a time with the import
code `hq import orders` runs, and times each from its commit at head office until the
store database's pick-up queue holds it (polled every 2 ms, as fast as a staff screen
could see it). Prints p50/p95/p99/max; target: p95 ≤ 2 s. Then one file of `--batch`
orders at once: the time until the last of them is in the queue.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from edge.identity import Pseudonymiser  # noqa: E402
from hq.config import load_hq_config  # noqa: E402
from hq.imports.runner import FIELDS, kind_for, run_import  # noqa: E402
from hq.orders.intake import rules_from_config  # noqa: E402
from hq.sqlite_store import SqliteHqStore  # noqa: E402
from sync.mosquitto import MosquittoProcess  # noqa: E402

KEY = b"bench chain key 0123456789"
HQ_TOML = """
[hq]
id = "hq-bench"
timezone = "UTC"
[database]
path = "{tmp}/hq.db"
[mqtt]
host = "127.0.0.1"
port = {port}
tls = false
[identity]
active_key = "k1"
[[identity.keys]]
id = "k1"
file = "chain-key"
"""
STORE_TOML = """
[store]
id = "s1"
timezone = "UTC"
[database]
path = "{tmp}/store.db"
[identity]
active_key = "k1"
[[identity.keys]]
id = "k1"
file = "chain-key"
[mqtt]
host = "127.0.0.1"
port = {port}
tls = false
"""
COMMAND = [sys.executable, "-c", "from touchpoint.cli import main; main()"]


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def start(args: list[str], log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open(log, "wb") as out:
        return subprocess.Popen([*COMMAND, *args], env=env, stdout=out, stderr=subprocess.STDOUT)


def wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.002)


def in_queue(conn: sqlite3.Connection, order_id: str) -> bool:
    try:
        return bool(
            conn.execute(
                "SELECT 1 FROM pickup_orders WHERE order_id = ? AND ended IS NULL", (order_id,)
            ).fetchone()
        )
    except sqlite3.OperationalError:  # the agent is still creating its tables
        return False


def order(n: int) -> dict:
    return {
        "order_id": f"B-{n:06d}",
        "store": "s1",
        "lines": "SKU-1:1|SKU-2:2",
        "promised_at": "2030-01-01T12:00:00Z",
        "first_name": "Anna",
        "code": f"TPO-B{n:06d}",
    }


def main() -> None:
    """Run the benchmark and print its figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=200, help="orders imported one at a time")
    ap.add_argument("--gap", type=float, default=0.05, help="seconds between two imports")
    ap.add_argument("--batch", type=int, default=500, help="orders in the one-file run (0: skip)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cc-") as tmp_name:
        tmp = Path(tmp_name)
        broker = MosquittoProcess(tmp / "mosquitto").start()
        (tmp / "chain-key").write_bytes(KEY)
        (tmp / "hq.toml").write_text(HQ_TOML.format(tmp=tmp, port=broker.port))
        (tmp / "store.toml").write_text(STORE_TOML.format(tmp=tmp, port=broker.port))
        cfg = load_hq_config(tmp / "hq.toml")
        hq_store = SqliteHqStore(tmp / "hq.db")
        stores = tmp / "stores.csv"
        stores.write_text("store,name,timezone,hours\ns1,Bench,UTC,mon-sun 00:00-24:00\n")
        run_import(stores, kind_for("stores", hq_store, Pseudonymiser({"k1": KEY}, "k1"), "EUR"),
                   FIELDS["stores"], now=lambda: "2026-12-01T00:00:00.000Z",
                   on_reject=lambda line, reason: None)  # fmt: skip
        kind = kind_for("orders", hq_store, None, "EUR", rules_from_config(cfg, {"k1": KEY}))  # type: ignore[arg-type]
        hq = start(["hq", "run", "-c", str(tmp / "hq.toml")], tmp / "hq.log")
        agent = start(["edge", "run", "-c", str(tmp / "store.toml")], tmp / "agent.log")
        store_conn = None
        try:
            wait(lambda: bool(hq_store.query(
                "SELECT 1 FROM hq_stores WHERE store = 's1' AND online = 1")), 30, "store online")  # fmt: skip
            store_conn = sqlite3.connect(tmp / "store.db", timeout=5)
            path = tmp / "orders.jsonl"

            def import_file(rows: list[dict]) -> float:
                path.write_text("".join(json.dumps(r) + "\n" for r in rows))
                summary = run_import(path, kind, FIELDS["orders"],
                                     now=lambda: "2026-12-01T00:00:00.000Z",
                                     on_reject=lambda line, reason: print(line, reason))  # fmt: skip
                assert summary.imported == len(rows), summary.line()
                return time.perf_counter()  # committed at head office

            # Warm-up: the first order also makes the agent create its tables.
            import_file([order(0)])
            wait(lambda: in_queue(store_conn, order(0)["order_id"]), 30, "the first order")
            latencies = []
            for n in range(1, args.orders + 1):
                committed = import_file([order(n)])
                wait(lambda n=n: in_queue(store_conn, order(n)["order_id"]), 30, f"order {n}")
                latencies.append(time.perf_counter() - committed)
                time.sleep(args.gap)
            print(
                f"{args.orders} orders, one import each, store online: commit at head office"
                f" -> in the store's queue: p50 {percentile(latencies, 50):.3f} s,"
                f" p95 {percentile(latencies, 95):.3f} s, p99 {percentile(latencies, 99):.3f} s,"
                f" max {max(latencies):.3f} s (target p95 <= 2 s;"
                f" orders.interval_s = {cfg.orders.interval_s})"
            )
            if args.batch:
                rows = [order(100_000 + n) for n in range(args.batch)]
                started = time.perf_counter()
                committed = import_file(rows)
                last = rows[-1]["order_id"]
                wait(lambda: in_queue(store_conn, last), 60, "the batch")
                done = time.perf_counter()
                print(
                    f"{args.batch} orders in one file: import {committed - started:.2f} s,"
                    f" then {done - committed:.2f} s until the last is in the store's queue"
                )
        finally:
            if store_conn is not None:
                store_conn.close()
            for proc in (agent, hq):
                proc.terminate()
            for proc in (agent, hq):
                proc.wait(30)
            hq_store.close()
            broker.stop()


if __name__ == "__main__":
    main()
