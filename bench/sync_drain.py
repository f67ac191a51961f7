"""Store → HQ sync throughput and latency, against the naive design, in one run.

    .venv/bin/python bench/sync_drain.py [--events 100000] [--naive 5000] [--no-pg]

1. Drain: a 100,000-event backlog in a store database goes through the real
   uplink, a private mosquitto and `touchpoint hq run` (its own process) into HQ
   SQLite, acks included: events/s until the store has learnt HQ's watermark.
2. Naive: one MQTT message per event with `wait_for_publish`, and a consumer that
   inserts and commits each one: events/s. Ratio drain/naive (target ≥ 20×).
3. Ceiling: a bare batched publish → insert loop with no outbox and no acks.
4. Latency: with the store online, events committed at 200/s for 10 s; time from
   an event's commit at the store until the store holds HQ's ack for it (HQ acks
   after its commit, so this is an upper bound): p50/p95 (target p95 ≤ 1 s).
5. PostgreSQL: 4 stores' backlogs (100,000 events in all) into a throwaway
   PostgreSQL cluster with one ingester, then two, twice each, best of each
   (target ≥ 1.6×). Several stores,
   because one store's batches are serialised on its watermark row by design.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import msgspec  # noqa: E402
import paho.mqtt.client as mqtt  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402

from edge.eventlog import EventLog  # noqa: E402
from edge.events import DoorCount, Event  # noqa: E402
from sync import wire  # noqa: E402
from sync.mosquitto import MosquittoProcess  # noqa: E402
from sync.uplink import Uplink, UplinkSettings  # noqa: E402

KEY = b"bench-chain-key"
HQ_TOML = """
[hq]
id = "{id}"
[database]
backend = "{backend}"
path = "{db}"
dsn_file = "{dsn_file}"
[mqtt]
host = "127.0.0.1"
port = {port}
tls = false
username = "{id}"
password_file = ""
[identity]
active_key = "k1"
[[identity.keys]]
id = "k1"
file = "chain-key"
"""


def fill_store(db: Path, n: int) -> None:
    """A store database with `n` door.count events (the backlog)."""
    with EventLog(db, boot_id="bench") as log:
        payload = DoorCount(door="main", direction="in", count=1, sensor="bench")
        for _ in range(n):
            log.append(payload, "door")
        assert log.flush(600), "store backlog not committed"


def store_acked(db: Path) -> int:
    """HQ's watermark as the store knows it."""
    row = (
        sqlite3.connect(db).execute("SELECT value FROM state WHERE key = 'hq_acked_seq'").fetchone()
    )
    return int(row[0]) if row else 0


def start_ingesters(tmp: Path, broker, n: int, backend: str = "sqlite", dsn: str = "") -> list:
    """`touchpoint hq run` processes sharing the load."""
    (tmp / "chain-key").write_bytes(KEY)
    (tmp / "dsn").write_text(dsn or "unused")
    procs = []
    for i in range(n):
        cfg = tmp / f"hq-{i}.toml"
        cfg.write_text(
            HQ_TOML.format(
                id=f"hq-{tmp.name}-{i}",
                backend=backend,
                db=tmp / "hq.db",
                dsn_file=tmp / "dsn",
                port=broker.port,
            )
        )
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "from touchpoint.cli import main; main()",
                    "hq",
                    "run",
                    "-c",
                    str(cfg),
                    "--log-level",
                    "warning",
                ],
                env={**os.environ, "PYTHONPATH": str(ROOT)},
                stderr=subprocess.DEVNULL,
            )
        )
    time.sleep(1.5)  # let them connect and subscribe
    return procs


def stop_all(procs) -> None:
    """SIGTERM and reap."""
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()


def cpu_seconds(pids: list[int]) -> float:
    """User+system CPU seconds used so far by these processes."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def postgres_pids() -> list[int]:
    """Every postgres server process on the machine (the throwaway cluster's)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


CPU: dict[str, float] = {}


def drain(
    tmp: Path,
    broker,
    n: int,
    ingesters: int = 1,
    backend: str = "sqlite",
    dsn: str = "",
    stores: int = 1,
) -> float:
    """Events/s for a backlog of `n` (split over `stores`) through the real uplinks and ingester(s)."""
    dbs = [tmp / f"store-{i}.db" for i in range(stores)]
    for db in dbs:
        fill_store(db, n // stores)
    procs = start_ingesters(tmp, broker, ingesters, backend, dsn)
    ups = [
        Uplink(
            UplinkSettings(
                store=f"{tmp.name}-{i}",
                db_path=db,
                host=broker.host,
                port=broker.port,
                boot_id="bench",
                max_inflight=16,
            )
        )
        for i, db in enumerate(dbs)
    ]
    ing_pids = [p.pid for p in procs]
    before = (cpu_seconds(ing_pids), cpu_seconds(postgres_pids()), time.process_time())
    t0 = time.perf_counter()
    for up in ups:
        up.start()
    try:
        deadline = time.monotonic() + 600
        while any(store_acked(db) < n // stores for db in dbs) and time.monotonic() < deadline:
            time.sleep(0.01)
        elapsed = time.perf_counter() - t0
        # Where the CPU went, per second of drain (2 cores = 2.0 in all).
        CPU.clear()
        CPU["ingesters"] = (cpu_seconds(ing_pids) - before[0]) / elapsed
        CPU["postgres"] = (cpu_seconds(postgres_pids()) - before[1]) / elapsed
        CPU["uplinks"] = (time.process_time() - before[2]) / elapsed
    finally:
        for up in ups:
            up.stop()
        stop_all(procs)
    return (n // stores) * stores / elapsed


def naive(tmp: Path, broker, n: int) -> float:
    """One message per event, wait_for_publish each; the consumer commits each."""
    db = sqlite3.connect(tmp / "naive.db", check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE e (store TEXT, seq INTEGER, body TEXT, PRIMARY KEY (store, seq))")
    done = threading.Event()
    got = [0]

    def on_message(client, userdata, msg) -> None:
        ev = json.loads(msg.payload)
        db.execute(
            "INSERT OR IGNORE INTO e VALUES (?, ?, ?)", ("naive", ev["seq"], msg.payload.decode())
        )
        db.commit()
        got[0] += 1
        if got[0] >= n:
            done.set()

    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="naive-hq", protocol=mqtt.MQTTv5)
    sub.on_message = on_message
    sub.connect(broker.host, broker.port)
    sub.subscribe("naive/+", qos=1)
    sub.loop_start()
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="naive-store", protocol=mqtt.MQTTv5)
    pub.connect(broker.host, broker.port)
    pub.loop_start()
    time.sleep(0.5)
    body = {"type": "door.count", "data": {"door": "main", "direction": "in", "count": 1}}
    t0 = time.perf_counter()
    for seq in range(1, n + 1):
        pub.publish("naive/events", json.dumps(body | {"seq": seq}), qos=1).wait_for_publish(10)
    done.wait(300)
    elapsed = time.perf_counter() - t0
    for c in (pub, sub):
        c.loop_stop()
        c.disconnect()
    return n / elapsed


def ceiling(tmp: Path, broker, n: int) -> float:
    """The same batches published and inserted with no outbox, no validation and no acks."""
    fill_store(tmp / "src.db", n)
    src = sqlite3.connect(tmp / "src.db")
    rows = src.execute(
        "SELECT seq, id, type, ts, device, data, clock_ok, boot_id FROM events ORDER BY seq"
    ).fetchall()
    payloads = []
    for start in range(0, n, 900):
        chunk = rows[start : start + 900]
        events = [
            Event(
                seq=r[0],
                id=r[1],
                type=r[2],
                ts=r[3],
                device=r[4],
                data=msgspec.Raw(r[5].encode()),
                clock_ok=bool(r[6]),
                boot_id=r[7],
            )
            for r in chunk
        ]
        payloads.append(
            wire.encode(
                wire.Batch(
                    v=1,
                    store="c",
                    boot_id="b",
                    first_seq=chunk[0][0],
                    last_seq=chunk[-1][0],
                    events=events,
                )
            )
        )
    db = sqlite3.connect(tmp / "ceiling.db", check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute(
        "CREATE TABLE e (store TEXT, seq INTEGER, id TEXT, type TEXT, ts TEXT, device TEXT, data TEXT,"
        " clock_ok INTEGER, boot_id TEXT, PRIMARY KEY (store, seq))"
    )
    inbox: queue.Queue = queue.Queue()
    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="ceil-hq", protocol=mqtt.MQTTv5)
    sub.on_message = lambda c, u, m: inbox.put(m.payload)
    sub.connect(broker.host, broker.port)
    sub.subscribe("ceiling/+", qos=1)
    sub.loop_start()
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="ceil-store", protocol=mqtt.MQTTv5)
    pub.connect(broker.host, broker.port)
    pub.loop_start()
    time.sleep(0.5)
    decoder = msgspec.json.Decoder(wire.Batch)
    t0 = time.perf_counter()
    for payload in payloads:
        pub.publish("ceiling/events", payload, qos=1)
    stored = 0
    while stored < n:
        batch = decoder.decode(inbox.get(timeout=60))
        db.executemany(
            "INSERT OR IGNORE INTO e VALUES ('c', ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (e.seq, e.id, e.type, e.ts, e.device, bytes(e.data).decode(), e.clock_ok, e.boot_id)
                for e in batch.events
            ],
        )
        db.commit()
        stored += len(batch.events)
    elapsed = time.perf_counter() - t0
    for c in (pub, sub):
        c.loop_stop()
        c.disconnect()
    return n / elapsed


def latency(tmp: Path, broker, seconds: float = 10.0, rate: float = 200.0) -> tuple[float, float]:
    """p50, p95 seconds from an event's commit at the store until the store holds HQ's ack for it.

    The ack is published only after HQ's commit, so this bounds commit-to-commit from above.
    """
    d = tmp / "latency"
    d.mkdir()
    db = d / "live.db"
    log = EventLog(db, boot_id="bench", commit_interval=0.0).start()
    procs = start_ingesters(d, broker, 1)
    up = Uplink(
        UplinkSettings(
            store="live", db_path=db, host=broker.host, port=broker.port, boot_id="bench"
        )
    )
    up.start()
    time.sleep(1.0)
    payload = DoorCount(door="main", direction="in", count=1, sensor="bench")
    committed: list[float] = []  # commit time of seq i+1
    t_end = time.monotonic() + seconds
    while time.monotonic() < t_end:
        log.append(payload, "door")
        log.flush()
        committed.append(time.time())
        time.sleep(1 / rate)
    deadline = time.monotonic() + 60
    while store_acked(db) < len(committed) and time.monotonic() < deadline:
        time.sleep(0.05)
    up.stop()
    log.stop()
    stop_all(procs)
    acks = sorted(up.stats.ack_events)
    lags, i = [], 0
    for seq, t_commit in enumerate(committed, start=1):
        while i < len(acks) and acks[i][1] < seq:
            i += 1
        if i < len(acks):
            lags.append(acks[i][0] - t_commit)
    lags.sort()
    return lags[len(lags) // 2], lags[int(len(lags) * 0.95)]


def create_database(pg, name: str) -> str:
    """A fresh database on the throwaway cluster; its DSN."""
    import psycopg

    with psycopg.connect(pg.dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return pg.dsn(name)


def main() -> None:
    """Run every measurement and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=100_000, help="backlog size")
    ap.add_argument("--naive", type=int, default=5_000, help="events for the naive design")
    ap.add_argument("--no-pg", action="store_true", help="skip the PostgreSQL measurements")
    args = ap.parse_args()
    result: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as t, MosquittoProcess(Path(t) / "broker") as broker:
        tmp = Path(t)
        for name, fn in (
            ("drain", lambda d: drain(d, broker, args.events)),
            ("naive", lambda d: naive(d, broker, args.naive)),
            ("ceiling", lambda d: ceiling(d, broker, args.events)),
        ):
            d = tmp / name
            d.mkdir()
            result[f"{name}_events_per_s"] = round(fn(d))
            print(f"{name}: {result[f'{name}_events_per_s']:,} events/s", flush=True)
        p50, p95 = latency(tmp, broker)
        result["latency_p50_s"], result["latency_p95_s"] = round(p50, 3), round(p95, 3)
        print(
            f"latency store commit → HQ ack back at the store: p50 {p50:.3f}s p95 {p95:.3f}s (target p95 ≤ 1 s)"
        )
        if not args.no_pg:
            from tests.pg_cluster import PgCluster

            with PgCluster() as pg:
                # Alternating runs, best of each: this shared 2-core machine is noisy.
                best: dict[int, float] = {1: 0.0, 2: 0.0}
                for attempt, k in enumerate((1, 2, 1, 2)):
                    d = tmp / f"pg{k}-{attempt}"
                    d.mkdir()
                    dsn = create_database(pg, f"bench{k}_{attempt}")
                    rate = drain(
                        d, broker, args.events, ingesters=k, backend="postgresql", dsn=dsn, stores=4
                    )
                    best[k] = max(best[k], rate)
                    cpu = ", ".join(f"{n} {v:.2f}" for n, v in CPU.items())
                    print(
                        f"postgresql, {k} ingester(s): {rate:,.0f} events/s; CPU cores busy: {cpu}",
                        flush=True,
                    )
                for k in (1, 2):
                    result[f"pg_{k}_ingesters_events_per_s"] = round(best[k])
            result["pg_scaling"] = round(
                result["pg_2_ingesters_events_per_s"] / result["pg_1_ingesters_events_per_s"], 2
            )
    result["drain_vs_naive"] = round(result["drain_events_per_s"] / result["naive_events_per_s"], 1)
    print(
        f"drain is {result['drain_vs_naive']}x the naive design (target ≥ 20x, ≥ 30,000 events/s)"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
