"""Chaos: 100,000 events from 3 stores while the broker, agents and ingester are SIGKILLed.

Real processes throughout: a private mosquitto (with persistence), three
`touchpoint edge run` agents each reading an emulated Terabee counter on a pty, and
head office: one `touchpoint hq run` on SQLite, or two sharing the load on
PostgreSQL (the scale-out set-up, where two ingesters commit batches of the same
store concurrently). During the traffic:
- the broker is killed 10 times, a store agent 10 times, an ingester 10 times, at
  random moments; on PostgreSQL the database server also crashes 5 times;
- store 3 is partitioned from the broker for over 60 s (a proxy the test cuts) and
  keeps recording.
Afterwards, HQ's totals per store and per hour must equal each store's, and both
must equal what the sensors counted: 0 lost, 0 double counted.
"""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.emulators.terabee import TerabeeEmulator
from edge.configtree import SecretResolver
from hq.backends import open_hq_store
from hq.config import HqDatabaseSection
from hq.storage import HqStore, StoreUnavailable
from sync.mosquitto import MosquittoProcess
from tests.edge.agent_support import write_store_config
from tests.pg_cluster import PgCluster
from tests.support import touchpoint_process
from tests.sync.hq_config import write_hq_configs
from tests.tcp_proxy import CuttableProxy

STORES = ("chaos-1", "chaos-2", "chaos-3")
TARGET_EVENTS = 100_000
PARTITION_S = 62.0


def spawn(*args: str, log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return touchpoint_process(*args, stdout=out, stderr=subprocess.STDOUT)


def kill9(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)


def store_hours(db: Path) -> dict[tuple[str, str], int]:
    conn = sqlite3.connect(db, timeout=10)
    try:
        rows = conn.execute(
            "SELECT substr(ts, 1, 13) || ':00', json_extract(data, '$.direction'),"
            " SUM(json_extract(data, '$.count')) FROM events WHERE type = 'door.count' GROUP BY 1, 2"
        ).fetchall()
    finally:
        conn.close()
    return {(hour, direction): n for hour, direction, n in rows}


def store_last_seq(db: Path) -> int:
    conn = sqlite3.connect(db, timeout=10)
    try:
        row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
        return int(row[0]) if row else 0
    finally:
        conn.close()


def hq_hours(hq: HqStore, store: str) -> dict[tuple[str, str], int]:
    """(hour, direction) -> people, from head office's valid door.count events."""
    hours: dict[tuple[str, str], int] = {}
    for _, _, hour, n_in, n_out in hq.door_counts(store):
        for direction, n in (("in", n_in), ("out", n_out)):
            if n:
                hours[(hour, direction)] = hours.get((hour, direction), 0) + n
    return hours


def hq_acked(hq: HqStore) -> dict[str, int]:
    try:
        return {name: mark.acked_through for name, mark in hq.marks().items()}
    except StoreUnavailable:  # our connection died with a database crash: next poll reconnects
        return {}


@pytest.fixture(params=["sqlite", "postgresql"])
def hq_db(request, tmp_path) -> Iterator[tuple[HqDatabaseSection, PgCluster | None]]:
    """Head office's database: a SQLite file, or a PostgreSQL cluster of this test's own
    (the test crashes and restarts that server, so it cannot share the session's)."""
    if request.param == "sqlite":
        yield HqDatabaseSection(path=str(tmp_path / "hq.db")), None
        return
    with PgCluster() as pg:
        (tmp_path / "pg.dsn").write_text(pg.dsn() + "\n")
        yield HqDatabaseSection(backend="postgresql", dsn_file=str(tmp_path / "pg.dsn")), pg


@pytest.mark.slow
def test_chaos_nothing_lost_nothing_doubled(tmp_path, hq_db):
    db_section, pg = hq_db
    rng = random.Random(2026)
    logs = tmp_path / "logs"
    logs.mkdir()
    broker = MosquittoProcess(tmp_path / "broker").start()
    proxies = {s: CuttableProxy(broker.host, broker.port) for s in STORES}
    hq_dir = tmp_path / "hq"
    hq_dir.mkdir()
    hq_tomls = write_hq_configs(
        hq_dir, db_section, broker.port, 2 if pg else 1, name="hq-chaos", gap_timeout_s=3.0
    )
    hq = open_hq_store(db_section, SecretResolver(tmp_path))  # the test's own reader

    stores: dict[str, dict] = {}
    for i, name in enumerate(STORES):
        d = tmp_path / name
        d.mkdir()
        config = write_store_config(
            d,
            f'[[devices]]\ntype = "terabee"\nname = "door"\nport = "{d / "terabee"}"\n',
            mqtt=f'host = "127.0.0.1"\nport = {proxies[name].port}\ntls = false\nsession_expiry_s = 3600',
        )
        config.write_text(config.read_text().replace('id = "s1"', f'id = "{name}"'))
        counter = TerabeeEmulator(d / "terabee", sensor=str(i + 1), start=(rng.randrange(65536), 0))
        counter.plug()
        stores[name] = {
            "dir": d,
            "config": config,
            "counter": counter,
            "agent": spawn("edge", "run", "-c", str(config), log=logs / f"{name}.log"),
        }
    ingesters = [spawn("hq", "run", "-c", str(c), log=logs / f"{c.stem}.log") for c in hq_tomls]
    faults = {"broker": 0, "agent": 0, "ingester": 0, "database": 0, "partition_s": 0.0}
    stop_walk = threading.Event()

    def walk(name: str) -> None:
        counter = stores[name]["counter"]
        sent = 0
        while not stop_walk.is_set():
            counter.cross("in" if rng.random() < 0.55 else "out")
            sent += 1
            if sent % 50 == 0:
                time.sleep(0.1)  # ~450 crossings/s per store, spread over the partition

    try:
        for s in stores.values():
            assert s["counter"].wait_connected(20)
            s["counter"].report(clean=True)
        time.sleep(1.0)
        walkers = [threading.Thread(target=walk, args=(n,), daemon=True) for n in STORES]
        for w in walkers:
            w.start()
        started = time.monotonic()
        proxies["chaos-3"].cut()
        kinds = ["broker", "agent", "ingester"] * 10 + ["database"] * (5 if pg else 0)
        rng.shuffle(kinds)
        for kind in kinds:
            time.sleep(rng.uniform(0.8, 2.0))
            if kind == "broker":
                broker.kill()
                time.sleep(rng.uniform(0.1, 0.8))
                broker.start()
            elif kind == "database":  # PostgreSQL crashes (immediate stop) and comes back
                pg.kill_server()
                time.sleep(rng.uniform(0.1, 1.5))
                pg.start_server()
            elif kind == "agent":
                name = rng.choice(STORES)
                kill9(stores[name]["agent"])
                stores[name]["agent"] = spawn(
                    "edge", "run", "-c", str(stores[name]["config"]), log=logs / f"{name}.log"
                )
            else:
                i = rng.randrange(len(ingesters))
                kill9(ingesters[i])
                c = hq_tomls[i]
                ingesters[i] = spawn("hq", "run", "-c", str(c), log=logs / f"{c.stem}.log")
            faults[kind] += 1
        while time.monotonic() - started < PARTITION_S:
            time.sleep(0.5)
        faults["partition_s"] = round(time.monotonic() - started, 1)
        proxies["chaos-3"].heal()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # people keep walking until 100,000 events exist
            if sum(store_last_seq(s["dir"] / "store.db") for s in stores.values()) >= TARGET_EVENTS:
                break
            time.sleep(0.5)
        stop_walk.set()
        for w in walkers:
            w.join(30)
        for s in stores.values():
            s["counter"].wait_connected(20)
            s["counter"].report(clean=True)  # the final totals reach each agent
            s["counter"].drain()
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            acked = hq_acked(hq)
            if all(
                acked.get(n, -1) == store_last_seq(stores[n]["dir"] / "store.db") > 0
                for n in STORES
            ):
                break
            time.sleep(1.0)
    finally:
        stop_walk.set()
        for s in stores.values():
            if s["agent"].poll() is None:
                s["agent"].send_signal(signal.SIGTERM)
        for s in stores.values():
            try:
                s["agent"].wait(15)
            except subprocess.TimeoutExpired:
                s["agent"].kill()
            s["counter"].close()
        for ingester in ingesters:
            if ingester.poll() is None:
                ingester.send_signal(signal.SIGTERM)
        for ingester in ingesters:
            ingester.wait(15)
        for p in proxies.values():
            p.close()
        broker.stop()

    total_events = sum(store_last_seq(s["dir"] / "store.db") for s in stores.values())
    lines = [
        f"{db_section.backend}, {len(ingesters)} ingester(s); faults: {faults}",
        f"events recorded at the stores: {total_events}",
    ]
    ok = True
    acked = hq_acked(hq)
    for name, s in stores.items():
        db = s["dir"] / "store.db"
        edge_h, hq_h = store_hours(db), hq_hours(hq, name)
        truth = s["counter"].truth
        edge_t = (
            sum(v for (h, d), v in edge_h.items() if d == "in"),
            sum(v for (h, d), v in edge_h.items() if d == "out"),
        )
        hq_t = (
            sum(v for (h, d), v in hq_h.items() if d == "in"),
            sum(v for (h, d), v in hq_h.items() if d == "out"),
        )
        lost = sum(max(0, edge_h[k] - hq_h.get(k, 0)) for k in edge_h)
        doubled = sum(max(0, hq_h[k] - edge_h.get(k, 0)) for k in hq_h)
        same = edge_h == hq_h and edge_t == truth and acked.get(name) == store_last_seq(db)
        ok &= same
        lines.append(
            f"{name}: sensor {truth} edge {edge_t} hq {hq_t} acked {acked.get(name)}/"
            f"{store_last_seq(db)} lost {lost} doubled {doubled} {'OK' if same else 'MISMATCH'}"
        )
    hq.close()
    print("\n".join(lines))
    assert faults["broker"] == faults["agent"] == faults["ingester"] == 10
    assert faults["database"] == (5 if pg else 0)
    assert faults["partition_s"] >= 60
    assert total_events >= TARGET_EVENTS
    assert ok, "\n".join(lines)
