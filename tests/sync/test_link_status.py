"""What an installer sees across a broker outage: `edge status` and the logs of both ends.

A real mosquitto is killed and restarted under a running `touchpoint edge run` (with
its uplink) and `touchpoint hq run`. The status must say OFFLINE with the reason while
the broker is down (it said "connected" for the whole outage before), and each end must
log the disconnect and the reconnect once, at INFO, with the reason and the backoff.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time

from edge.eventlog import EventLog
from edge.events import DoorCount
from edge.status import UPLINK_STALE_S, uplink_state
from hq.config import HqDatabaseSection
from sync.mosquitto import free_port
from tests.edge.agent_support import wait_for, write_store_config
from tests.support import touchpoint, touchpoint_process
from tests.sync.hq_config import write_hq_configs


def mqtt_section(port: int) -> str:
    return f'host = "127.0.0.1"\nport = {port}\ntls = false'


def status(config) -> dict:
    result = touchpoint("edge", "status", "-c", str(config), "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def link(config) -> str | None:
    """The uplink state, or None while there is no database yet (the agent is starting)."""
    result = touchpoint("edge", "status", "-c", str(config), "--json")
    return json.loads(result.stdout)["uplink_state"] if result.returncode == 0 else None


def status_text(config) -> str:
    result = touchpoint("edge", "status", "-c", str(config))
    assert result.returncode == 0, result.stderr
    return next(line for line in result.stdout.splitlines() if "uplink:" in line)


def add_events(db, n: int) -> None:
    """Events recorded while the broker is down (another writer on the same store DB)."""
    log = EventLog(db, boot_id="test")
    for _ in range(n):
        log.append(DoorCount(door="main", direction="in", count=1, sensor="t"), "door")
    log.stop()


def lines(path, pattern: str) -> list[str]:
    return [ln for ln in path.read_text().splitlines() if re.search(pattern, ln)]


def test_status_and_logs_tell_the_truth_through_a_broker_kill_and_restart(mosquitto, tmp_path):
    config = write_store_config(tmp_path, "", mqtt=mqtt_section(mosquitto.port))
    hq_dir = tmp_path / "hq"
    hq_dir.mkdir()
    hq_db = HqDatabaseSection(path=str(hq_dir / "hq.db"))
    (hq_config,) = write_hq_configs(hq_dir, hq_db, mosquitto.port)
    agent_log, hq_log = tmp_path / "agent.log", tmp_path / "hq.log"
    with open(agent_log, "wb") as a_out, open(hq_log, "wb") as h_out:
        agent = touchpoint_process(
            "edge", "run", "-c", str(config), stdout=a_out, stderr=subprocess.STDOUT
        )
        hq = touchpoint_process(
            "hq", "run", "-c", str(hq_config), stdout=h_out, stderr=subprocess.STDOUT
        )
        try:
            wait_for(lambda: link(config) == "connected", 30, "connected")
            assert re.fullmatch(
                r"  uplink: connected since \d\d:\d\d; outbox \d+ .*", status_text(config)
            )

            mosquitto.kill()
            killed_at = time.monotonic()
            add_events(tmp_path / "store.db", 25)
            wait_for(lambda: link(config) == "offline", 10, "offline")
            noticed_s = time.monotonic() - killed_at
            time.sleep(1.5)
            st = status(config)
            assert st["uplink"]["offline_reason"].startswith("connection lost")
            assert st["outbox"] >= 25 and st["oldest_unsent_s"] >= 1
            text = status_text(config)
            assert re.match(
                r"  uplink: OFFLINE since \d\d:\d\d \(connection lost: .+\).*; outbox \d+ event\(s\), oldest unsent \d+s old",
                text,
            ), text
            # Still offline a few seconds later (retries failing): still said so.
            time.sleep(3)
            assert link(config) == "offline"

            mosquitto.start()
            wait_for(lambda: link(config) == "connected", 60, "reconnected")
            wait_for(lambda: status(config)["outbox"] == 0, 30, "outbox drained after the outage")
            assert status_text(config).startswith("  uplink: connected since")
        finally:
            for proc in (agent, hq):
                proc.send_signal(signal.SIGTERM)
            assert agent.wait(20) == 0 and hq.wait(20) == 0
    print(f"\noutage noticed by edge status after {noticed_s:.1f}s")
    print(status_text(config))
    for name, log in (("uplink", agent_log), ("ingest", hq_log)):
        down = lines(log, rf"INFO .*{name}: disconnected from the broker")
        up = lines(
            log,
            rf"INFO .*{name}: connected to the broker at 127.0.0.1:{mosquitto.port} after \S+ offline",
        )
        assert len(down) == 1, f"{name}: {down}"
        assert "(connection lost" in down[0] and "reconnecting in 1s, backing off to 30s" in down[0]
        assert len(up) == 1, f"{name}: {lines(log, 'broker')}"
        # Failed attempts during the outage: DEBUG only, never one INFO line each.
        assert not lines(log, rf"INFO .*{name}: cannot connect"), log.read_text()
        print(down[0], up[0], sep="\n")
    # The ingester's exit report says which counters cover this run and which are lifetime.
    report = json.loads(hq_log.read_text().strip().splitlines()[-1])
    assert report["this_run"]["inserted"] >= 25
    assert report["lifetime"]["events"] >= report["this_run"]["inserted"]
    assert report["lifetime"]["stores"] == 1
    # A second ingester process: nothing new this run, the lifetime figures unchanged.
    again_log = tmp_path / "hq-again.log"
    with open(again_log, "wb") as out:
        again = touchpoint_process(
            "hq", "run", "-c", str(hq_config), stdout=out, stderr=subprocess.STDOUT
        )
        wait_for(lambda: "ingest: connected" in again_log.read_text(), 30, "second ingester up")
        again.send_signal(signal.SIGTERM)
        assert again.wait(20) == 0
    second = json.loads(again_log.read_text().strip().splitlines()[-1])
    assert second["this_run"]["inserted"] == 0
    assert second["lifetime"] == report["lifetime"]


def test_a_broker_never_reachable_is_offline_not_not_running(tmp_path):
    config = write_store_config(tmp_path, "", mqtt=mqtt_section(free_port()))
    agent_log = tmp_path / "agent.log"
    with open(agent_log, "wb") as out:
        agent = touchpoint_process(
            "edge",
            "run",
            "-c",
            str(config),
            "--log-level",
            "info",
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(lambda: link(config) == "offline", 10, "offline")
            time.sleep(4)  # attempts at 0, 1, 3 s: several failures
            st = status(config)
            assert st["uplink"]["failed_attempts"] >= 2
            assert "cannot reach the broker" in st["uplink"]["offline_reason"]
            text = status_text(config)
            assert "OFFLINE since" in text and "not running" not in text, text
        finally:
            agent.send_signal(signal.SIGTERM)
            assert agent.wait(20) == 0
    cannot = lines(agent_log, r"INFO .*uplink: cannot connect to the broker")
    assert len(cannot) == 1 and "retrying in 1s, backing off to 30s" in cannot[0]


def test_uplink_state_when_disabled_never_started_or_stale():
    now = 1_800_000_000.0
    fresh = {"connected": True, "since": now - 60, "updated": now - 1}
    assert uplink_state(True, fresh, now) == ("connected", now - 60)
    assert uplink_state(True, {**fresh, "connected": False}, now)[0] == "offline"
    assert uplink_state(False, fresh, now) == ("disabled", None)
    assert uplink_state(True, None, now) == ("not_started", None)
    old = {**fresh, "updated": now - UPLINK_STALE_S - 1}
    # The agent stopped (or hangs): its last word is not the truth any more.
    assert uplink_state(True, old, now) == ("stale", old["updated"])
