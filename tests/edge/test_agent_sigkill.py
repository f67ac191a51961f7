"""SIGKILL the running agent 10 times during a burst across the u16 wrap: nothing is ever
counted twice, nothing is lost without a reason, the database stays intact.

A wrap that happens while the agent is down fits a sensor restart as well (an agent
restart looks like a port break). Such totals are counted low, never twice, and
reported as `ambiguous_totals` (docs/devices.md, "Deltas"); otherwise the totals are
exact.
"""

from __future__ import annotations

import signal
import sqlite3
import threading
import time

from devices.emulators.terabee import TerabeeEmulator
from tests.edge.agent_support import door_totals, wait_for, write_store_config
from tests.support import touchpoint_process


def start_agent(config):
    return touchpoint_process("edge", "run", "-c", str(config))


def test_sigkill_during_burst_loses_and_repeats_nothing(tmp_path):
    devices = f"""
[[devices]]
type = "terabee"
name = "door-main"
port = "{tmp_path / "by-id-terabee"}"
"""
    config = write_store_config(tmp_path, devices)
    counter = TerabeeEmulator(tmp_path / "by-id-terabee", sensor="3", start=(65000, 64900), seed=5)
    counter.plug()
    stop_burst = threading.Event()

    def burst():
        # People keep walking whether or not the agent is up; the sensor keeps counting.
        i = 0
        while not stop_burst.is_set():
            counter.cross("in" if i % 3 else "out")
            i += 1
            time.sleep(0.002)

    kills = 0
    agent = start_agent(config)
    try:
        assert counter.wait_connected(20)
        counter.report(clean=True)
        wait_for(lambda: (tmp_path / "store.db").exists(), what="database")
        walker = threading.Thread(target=burst, daemon=True)
        walker.start()
        for _ in range(10):
            time.sleep(0.3 + 0.1 * kills)
            agent.send_signal(signal.SIGKILL)
            agent.wait(10)
            kills += 1
            agent = start_agent(config)
            assert counter.wait_connected(20)
        time.sleep(0.5)
        stop_burst.set()
        walker.join(10)
        counter.report(clean=True)  # the device's final totals reach the agent
        counter.drain()
        wait_for(
            lambda: (
                door_totals(tmp_path / "store.db") == counter.truth
                or _settled(tmp_path / "store.db")
            ),
            timeout=30,
            what=f"door totals {counter.truth}",
        )
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(10) == 0
    finally:
        if agent.poll() is None:
            agent.kill()
        counter.close()
    assert kills == 10
    totals = door_totals(tmp_path / "store.db")
    print(f"sensor truth {counter.truth}, recorded {totals}, kills {kills}")
    ambiguous = ambiguities(tmp_path / "store.db")
    print(f"ambiguous totals reported: {ambiguous}")
    assert all(got <= truth for got, truth in zip(totals, counter.truth, strict=True))
    assert totals == counter.truth or ambiguous > 0  # short only with a reason
    assert sum(totals) > 500  # a real burst, spanning the u16 wrap from the start totals
    conn = sqlite3.connect(tmp_path / "store.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    seqs = [r[0] for r in conn.execute("SELECT seq FROM events ORDER BY seq")]
    assert seqs == list(range(1, len(seqs) + 1))


_last: dict = {}


def _settled(db) -> bool:
    """The recorded totals have not moved for 3 s (the agent has had the final report)."""
    now, totals = time.monotonic(), door_totals(db)
    if _last.get("totals") != totals:
        _last.update(totals=totals, since=now)
    return now - _last["since"] >= 3.0


def ambiguities(db) -> int:
    """How many totals the agent reported as ambiguous (counted low) in device.status events."""
    conn = sqlite3.connect(db)
    try:
        return sum(
            n or 0
            for (n,) in conn.execute(
                "SELECT json_extract(data, '$.rejected.ambiguous_totals') FROM events"
                " WHERE type = 'device.status'"
            )
        )
    finally:
        conn.close()
