"""`touchpoint hq serve --workers 2` under real uvicorn: a browser's requests land on both
worker processes and what a login leaves (session, CSRF secret, failed attempts) holds in
each. Every request goes over a connection of its own, and the worker that accepted it is
read from /proc (which process holds the server end of that TCP connection)."""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import pytest

from sync.mosquitto import free_port
from tests.hq.web.support import PASSWORD
from tests.hq.web.test_serve import filled_head_office, touchpoint, wait_healthy
from tests.support import touchpoint_process

TRIES = 40  # connections per check: enough for both workers to accept some


def children(pid: int) -> set[int]:
    """The worker processes uvicorn started (not multiprocessing's resource tracker)."""
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return {
        int(p) for p in text.split() if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()
    }


def socket_inodes(port: int, peer_port: int) -> set[str]:
    """Inodes of the server-side sockets of the loopback connection port <- peer_port."""
    out = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        cols = line.split()
        local, remote = cols[1], cols[2]
        if int(local.split(":")[1], 16) == port and int(remote.split(":")[1], 16) == peer_port:
            out.add(cols[9])
    return out


def holder(pids: set[int], inodes: set[str]) -> int | None:
    """The process (of `pids`) that has one of these sockets open."""
    wanted = {f"socket:[{i}]" for i in inodes}
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) in wanted:
                    return pid
            except OSError:
                continue
    return None


@dataclass
class Server:
    port: int
    config: Path
    process: subprocess.Popen
    workers: set[int]
    seen: list[int] = field(default_factory=list)

    def request(
        self, method: str, path: str, cookies: dict[str, str], form: dict | None = None
    ) -> tuple[int, dict[str, str], str]:
        """One request on a new connection: status, Set-Cookie values by name, body. Notes
        the worker that served it."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.connect()
        peer = conn.sock.getsockname()[1]
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        text = r.read().decode()
        self.seen.append(holder(self.workers, socket_inodes(self.port, peer)))
        conn.close()
        set_cookies = {}
        for value in r.headers.get_all("set-cookie") or []:
            name, _, rest = value.partition("=")
            set_cookies[name] = rest.split(";")[0]
        return r.status, set_cookies, text

    def served_by_both(self) -> bool:
        """Whether both workers served requests since the last call (then forget them)."""
        both = set(self.seen) == self.workers
        self.seen.clear()
        return both


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("workers")
    port = free_port()
    config = filled_head_office(tmp, port)
    (tmp / "pw").write_text(PASSWORD + "\n")
    for user in ("anna", "rita"):
        added = touchpoint("hq", "user", "add", user, "--password-file", str(tmp / "pw"), "-c", str(config))  # fmt: skip
        assert added.exit_code == 0
    process = touchpoint_process(
        "hq", "serve", "-c", str(config), "--workers", "2", stderr=subprocess.PIPE, text=True
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process)
        deadline = time.monotonic() + 30
        while len(children(process.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        workers = children(process.pid)
        assert len(workers) == 2
        for _ in range(50):  # both must be serving before the checks start
            wait_healthy(f"http://127.0.0.1:{port}", process)
        yield Server(port, config, process, workers)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(15)


def log_in(server: Server, user: str, password: str = PASSWORD) -> tuple[int, dict[str, str]]:
    """The login form fetched from one connection, posted on another; status, cookies."""
    _, cookies, page = server.request("GET", "/login", {})
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page)[1]
    form = {"username": user, "password": password, "_csrf_token": token}
    status, more, _ = server.request("POST", "/login", cookies, form)
    return status, cookies | more


def test_a_login_holds_on_both_workers_and_logout_ends_it_on_both(server):
    for _ in range(TRIES // 4):  # the form and its post on any pair of workers
        status, cookies = log_in(server, "anna")
        assert status == 303 and cookies["tp_session"]
    assert server.served_by_both()
    for _ in range(TRIES):
        assert server.request("GET", "/api/v1/stores", cookies)[0] == 200
    assert server.served_by_both()
    _, _, home = server.request("GET", "/", cookies)
    token = re.search(r'name="_csrf_token" value="([^"]+)"', home)[1]
    status, _, _ = server.request("POST", "/logout", cookies, {"_csrf_token": token})
    assert status == 303
    server.seen.clear()
    for _ in range(TRIES):
        assert server.request("GET", "/api/v1/stores", cookies)[0] == 401
    assert server.served_by_both()


def test_a_removed_user_loses_access_on_both_workers(server):
    status, cookies = log_in(server, "rita")
    assert status == 303
    assert touchpoint("hq", "user", "remove", "rita", "-c", str(server.config)).exit_code == 0
    server.seen.clear()
    for _ in range(TRIES):
        assert server.request("GET", "/api/v1/stores", cookies)[0] == 401
    assert server.served_by_both()


def test_the_login_rate_limit_counts_across_workers(server):
    statuses = [log_in(server, "anna", "wrong password")[0] for _ in range(TRIES // 2)]
    # web.login_attempts = 5 failures per user and address, wherever they landed.
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
    assert server.served_by_both()
