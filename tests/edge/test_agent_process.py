"""`touchpoint edge run` as systemd runs it: sd_notify, SIGTERM deadline, privacy of its logs."""

from __future__ import annotations

import json
import random
import signal
import socket
import sqlite3
import subprocess
import time

from devices.emulators.scanner import ScannerEmulator, with_check_digit
from devices.emulators.terabee import TerabeeEmulator
from tests.edge.agent_support import door_totals, wait_for, write_store_config
from tests.edge.agent_support import terabee_and_scanner as devices
from tests.support import touchpoint, touchpoint_process


def spawn(config, env=None, log=None):
    out = {"stdout": log, "stderr": subprocess.STDOUT} if log else {}
    return touchpoint_process(
        "edge", "run", "-c", str(config), "--log-level", "debug", env=env, **out
    )


def test_sd_notify_ready_and_watchdog_then_sigterm_within_5s(tmp_path):
    config = write_store_config(tmp_path, devices(tmp_path))
    counter = TerabeeEmulator(tmp_path / "by-id-terabee", sensor="1")
    counter.plug()
    sock_path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(sock_path)
    sock.settimeout(20)
    agent = spawn(config, {"NOTIFY_SOCKET": sock_path, "WATCHDOG_USEC": "1000000"})
    try:
        messages = [sock.recv(4096).decode()]
        assert messages[0].startswith("READY=1")
        messages.append(sock.recv(4096).decode())
        assert messages[1] == "WATCHDOG=1"
        assert counter.wait_connected(10)
        counter.report(clean=True)
        counter.cross("in", 25)
        counter.drain()
        # Everything the device reported is committed by the time the agent has exited.
        started = time.monotonic()
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(10) == 0
        assert time.monotonic() - started < 5.0
        assert door_totals(tmp_path / "store.db") == counter.truth == (25, 0)
    finally:
        if agent.poll() is None:
            agent.kill()
        counter.close()
        sock.close()


def test_1000_loyalty_scans_leave_no_raw_number_in_db_wal_or_logs(tmp_path):
    config = write_store_config(tmp_path, devices(tmp_path))
    scanner = ScannerEmulator(tmp_path / "by-id-scanner", duplicate_window=0)
    scanner.plug()
    rng = random.Random(11)
    numbers = [
        with_check_digit("2" + "".join(rng.choice("0123456789") for _ in range(11)))
        for _ in range(1000)
    ]
    log_path = tmp_path / "agent.log"
    with open(log_path, "wb") as log:
        agent = spawn(config, log=log)
        try:
            assert scanner.wait_connected(10)
            for number in numbers:
                assert scanner.scan(number, "]E0")
            scanner.drain()

            def scans() -> int:
                conn = sqlite3.connect(tmp_path / "store.db", timeout=10)
                try:
                    return conn.execute(
                        "SELECT count(*) FROM events WHERE type = 'scan'"
                    ).fetchone()[0]
                except sqlite3.OperationalError:
                    return 0
                finally:
                    conn.close()

            wait_for(lambda: scans() == len(numbers), timeout=120, what="1000 scans recorded")
            # Read the WAL while the agent still holds it open (before checkpoint on exit).
            wal = (
                (tmp_path / "store.db-wal").read_bytes()
                if (tmp_path / "store.db-wal").exists()
                else b""
            )
            agent.send_signal(signal.SIGTERM)
            assert agent.wait(10) == 0
        finally:
            if agent.poll() is None:
                agent.kill()
            scanner.close()
    blobs = {
        "db": (tmp_path / "store.db").read_bytes(),
        "wal": wal,
        "log": log_path.read_bytes(),
    }
    assert b"DEBUG" in blobs["log"] or blobs["log"]  # the agent did log (at debug level)
    for number in numbers:
        for name, blob in blobs.items():
            assert number.encode() not in blob, f"raw loyalty number found in {name}"
            assert number[:-1].encode() not in blob, f"loyalty digits found in {name}"


def touchpoint_status(config):
    result = touchpoint("edge", "status", "-c", str(config), "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_edge_status_reports_counts_health_and_outbox(tmp_path):
    config = write_store_config(tmp_path, devices(tmp_path))
    counter = TerabeeEmulator(tmp_path / "by-id-terabee", sensor="1")
    counter.plug()
    agent = spawn(config)
    try:
        assert counter.wait_connected(10)
        counter.report(clean=True)
        counter.cross("in", 7)
        counter.cross("out", 3)
        counter.drain()
        wait_for(lambda: door_totals(tmp_path / "store.db") == (7, 3), what="counts")
        st = touchpoint_status(config)
    finally:
        agent.send_signal(signal.SIGTERM)
        agent.wait(10)
        counter.close()
    assert (st["entries"], st["exits"], st["visitors"], st["occupancy"]) == (7, 3, 7, 4)
    assert st["devices"]["door-main"]["state"] == "connected"
    assert st["devices"]["scan-door"]["state"] in ("disconnected", "error")  # not plugged in
    assert st["outbox"] == st["last_seq"] > 0 and st["acked_seq"] == 0
    text = touchpoint("edge", "status", "-c", str(config))
    assert text.returncode == 0 and "entries 7" in text.stdout and "door-main" in text.stdout


def test_edge_run_with_a_broken_config_exits_2(tmp_path):
    config = write_store_config(
        tmp_path, '[[devices]]\ntype = "terabee"\nname = "x"\nport = "ttyUSB0"\n'
    )
    result = touchpoint("edge", "run", "-c", str(config))
    assert result.returncode == 2
    assert "devices[0].port" in result.stderr
