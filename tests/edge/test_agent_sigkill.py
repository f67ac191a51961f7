"""SIGKILL the running agent 10 times during a burst: totals still equal the sensor's, DB intact."""

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
            lambda: door_totals(tmp_path / "store.db") == counter.truth,
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
    assert totals == counter.truth
    assert sum(totals) > 500  # a real burst, spanning the u16 wrap from the start totals
    conn = sqlite3.connect(tmp_path / "store.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    seqs = [r[0] for r in conn.execute("SELECT seq FROM events ORDER BY seq")]
    assert seqs == list(range(1, len(seqs) + 1))
