"""Retention and disk: prune only acknowledged *and* old events; low disk raises an alarm."""

from __future__ import annotations

import json
import sqlite3
import time

from edge.agent import Agent
from edge.clock import Clock
from edge.config import load_store_config
from edge.configtree import SecretResolver
from edge.events import DoorCount
from tests.edge.agent_support import write_store_config


class ShiftedClock(Clock):
    def __init__(self) -> None:
        super().__init__()
        self.shift = 0.0

    def now(self) -> float:
        return time.time() + self.shift


def test_prune_keeps_unacked_and_recent_events(tmp_path):
    cfg = load_store_config(write_store_config(tmp_path, ""))
    clock = ShiftedClock()
    agent = Agent(cfg, SecretResolver.from_environ(tmp_path / "store.toml"), clock=clock)
    agent.start()
    clock.shift = -40 * 86400  # 40 days ago (retention is 30 days)
    for _ in range(10):
        agent.eventlog.append(DoorCount(door="m", direction="in", count=1, sensor="s"), "d")
    agent.eventlog.flush()
    clock.shift = 0.0
    for _ in range(5):
        agent.eventlog.append(DoorCount(door="m", direction="in", count=1, sensor="s"), "d")
    agent.eventlog.set_state("hq_acked_seq", "6")  # HQ has 1..6
    agent.eventlog.flush()
    assert agent.prune() == 6  # old and acked: 1..6; old but not acked (7..10) stay
    agent.stop()
    seqs = [
        r[0]
        for r in sqlite3.connect(tmp_path / "store.db").execute(
            "SELECT seq FROM events ORDER BY seq"
        )
    ]
    assert seqs[:4] == [7, 8, 9, 10] and len(seqs) >= 9


def test_low_disk_raises_an_alarm_and_a_status_flag(tmp_path):
    config = write_store_config(tmp_path, "")
    config.write_text(
        config.read_text().replace(
            "commit_interval_ms = 5", "commit_interval_ms = 5\nmin_free_mb = 100000"
        )
    )
    cfg = load_store_config(config)
    agent = Agent(cfg, SecretResolver.from_environ(config))
    agent.start()
    agent.tick()  # housekeeping runs on the first tick
    agent.stop()
    assert agent.low_disk
    conn = sqlite3.connect(tmp_path / "store.db")
    row = conn.execute(
        "SELECT data FROM events WHERE type = 'device.status' AND device = 'disk'"
    ).fetchone()
    assert json.loads(row[0])["state"] == "alarm"
    health = json.loads(
        conn.execute("SELECT value FROM state WHERE key = 'health:disk'").fetchone()[0]
    )
    assert health["state"] == "alarm" and "MB free" in health["detail"]


def test_housekeeping_expires_pickup_no_shows_on_the_agents_clock(tmp_path):
    from sync.downlink import DownlinkApplier
    from tests.pickup_support import SetClock, at, desk, events, order, send

    cfg = load_store_config(write_store_config(tmp_path, ""))
    clock = SetClock(at("2025-06-07T08:00:00Z"))
    d = desk(tmp_path / "store.db", clock)
    send(d.conn, DownlinkApplier(d.stamper), order(lines=1, hold_days=1))
    d.set_line("W-1", 1, "to_pick", "picked", None)
    d.mark_ready("W-1", {}, None)
    agent = Agent(cfg, SecretResolver.from_environ(tmp_path / "store.toml"), clock=clock)
    agent.start()
    try:
        agent.tick()  # first housekeeping: not due yet (pick-up-by 8 June 23:59:59 in Amsterdam)
        assert events(tmp_path / "store.db", "pickup.no_show") == []
        clock.set(at("2025-06-09T00:00:00Z"))
        assert agent.expire_pickups() == ["W-1"]
    finally:
        agent.stop()
    assert events(tmp_path / "store.db", "pickup.no_show")[0][1]["lines"] == [1]
