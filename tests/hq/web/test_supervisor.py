"""`hq serve`'s supervisor (hq/web/supervisor.py) with real worker processes on real
sockets, serving a bare app that answers with its pid: a burst of keep-alive
connections spreads over the workers, a killed worker is replaced, a worker that cannot
start stops the supervisor, SIGTERM stops them all, and a port already taken is refused."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.mosquitto import free_port
from tests.hq.web.test_serve import hq_config, touchpoint

ROOT = Path(__file__).resolve().parents[3]
BURST = 64


def supervise(
    port: int,
    app: str = "tests.hq.web.pid_app:app",
    workers: int = 2,
    stale_s: float = 10.0,
    env: dict[str, str] | None = None,
):
    """The supervisor in a process of its own (it owns the signals), on 127.0.0.1:port."""
    options = {"app": app, "log_level": "info"}
    code = (
        "import sys; from hq.web.supervisor import Supervisor; "
        f"sys.exit(Supervisor({options!r}, '127.0.0.1', {port}, {workers}, {stale_s}).run())"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def pid_of(port: int, conn: http.client.HTTPConnection | None = None) -> int:
    """The pid of the worker that answers a GET (on `conn`, else a new connection)."""
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/")
    return int(conn.getresponse().read())


def answering(port: int, process: subprocess.Popen, timeout: float = 30) -> set[int]:
    """Wait until the workers answer; the pids seen over a few dozen connections."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read()
        try:
            return {pid_of(port) for _ in range(40)}
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the workers never answered")


@pytest.fixture
def served() -> Iterator[tuple[int, subprocess.Popen]]:
    port = free_port()
    process = supervise(port)
    try:
        yield port, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(30)


def test_a_burst_of_keep_alive_connections_spreads_over_the_workers(served):
    port, process = served
    pids: set[int] = set()
    while len(pids) < 2:
        pids |= answering(port, process)
    # One worker is busy with a long request when 64 clients connect at once (BI tools
    # refreshing on the hour). With uvicorn's one shared socket the idle worker accepted
    # all of them, and kept every keep-alive connection for good.
    busy = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    busy_pid = pid_of(port, busy)
    busy.request("GET", "/block")
    time.sleep(0.1)
    conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(BURST)]
    for conn in conns:
        conn.connect()
    held = Counter(pid_of(port, conn) for conn in conns)
    assert int(busy.getresponse().read()) == busy_pid
    for conn in conns:  # keep-alive: the same worker answers again
        assert held[pid_of(port, conn)] > 0
        conn.close()
    assert set(held) == pids
    # The kernel hashes connections over the 2 sockets: fewer than 16 of 64 on one
    # worker has a chance of about 1 in 25,000.
    assert min(held.values()) >= BURST // 4, held


def test_a_killed_worker_is_replaced(served):
    port, process = served
    pids = answering(port, process)
    while len(pids) < 2:
        pids |= answering(port, process)
    victim = min(pids)
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    seen: set[int] = set()
    while time.monotonic() < deadline and len(seen) < 2:
        seen |= answering(port, process)
    assert victim not in seen and len(seen) == 2, seen
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0
    assert f"worker {victim} died" in process.stderr.read()


def test_sigterm_stops_every_worker(served):
    port, process = served
    pids = set()
    while len(pids) < 2:
        pids |= answering(port, process)
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0
    for pid in pids:
        assert (
            not Path(f"/proc/{pid}").exists()
            or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
        )
    with pytest.raises(OSError):
        pid_of(port)


def test_a_worker_that_cannot_start_stops_the_supervisor():
    process = supervise(free_port(), app="tests.hq.web.no_such_module:app")
    assert process.wait(60) == 3
    assert "failed to start" in process.stderr.read()


def test_serve_refuses_a_port_already_taken(tmp_path):
    port = free_port()
    config = hq_config(tmp_path, port)
    from hq.sqlite_store import SqliteHqStore

    SqliteHqStore(tmp_path / "hq.db").close()
    with socket.create_server(("127.0.0.1", port)):
        taken = touchpoint(
            "hq", "serve", "-c", str(config), "--host", "127.0.0.1", "--workers", "2"
        )
    assert taken.exit_code == 2 and f"cannot listen on 127.0.0.1:{port}" in taken.stderr


def test_a_worker_whose_event_loop_hangs_is_replaced():
    port = free_port()
    process = supervise(port, stale_s=2.0)
    try:
        pids: set[int] = set()
        while len(pids) < 2:
            pids |= answering(port, process)
        stuck = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        victim = pid_of(port, stuck)
        stuck.request("GET", "/hang")  # its loop now sleeps a minute, alive but deaf
        deadline = time.monotonic() + 30
        seen: set[int] = set()
        while time.monotonic() < deadline and (len(seen) < 2 or victim in seen):
            seen = answering(port, process, timeout=5)
        assert victim not in seen and len(seen) == 2, seen
        assert not Path(f"/proc/{victim}").exists()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    assert f"worker {victim}'s event loop has not run for" in process.stderr.read()


def test_the_supervisor_alone_pings_the_watchdog(tmp_path):
    """Under systemd (NOTIFY_SOCKET, WATCHDOG_USEC) the workers report READY and the
    supervisor sends every WATCHDOG=1: the sender of each datagram is read from its
    credentials (SO_PASSCRED)."""
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    sock.settimeout(0.2)
    port = free_port()
    env = {"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "1000000"}  # ping every 0.5 s
    process = supervise(port, env=env)
    got: list[tuple[int, str]] = []
    try:
        workers: set[int] = set()
        while len(workers) < 2:
            workers |= answering(port, process)
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            try:
                data, ancillary, _, _ = sock.recvmsg(1024, socket.CMSG_SPACE(12))
            except TimeoutError:
                continue
            (sender,) = [
                int.from_bytes(cdata[:4], "little")
                for level, kind, cdata in ancillary
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS
            ]
            got.append((sender, data.decode()))
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
        sock.close()
    pings = [sender for sender, text in got if "WATCHDOG=1" in text]
    assert len(pings) >= 4 and set(pings) == {process.pid}, got
    ready = {sender for sender, text in got if "READY=1" in text}
    assert ready == workers, got
