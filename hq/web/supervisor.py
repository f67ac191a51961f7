"""`hq serve`'s worker processes, each listening on a socket of its own (SO_REUSEPORT).

uvicorn's own supervisor binds one socket and hands it to every worker. Whichever
worker's event loop is awake accepts, and it accepts every connection waiting when it
wakes. A burst of keep-alive connections (BI tools refreshing on the hour, or the 32
clients of bench/hq_api.py) then lands on one worker, which serves them all on one core
while the other idles: over 2 workers, 32/0, 27/5 and 28/4 were measured, and the
feed's p95 followed the busier worker.

Here each worker binds its own listening socket to the same address with SO_REUSEPORT,
and the kernel spreads new connections over the sockets by a hash of each connection.
The supervisor starts the workers (fresh interpreters, as uvicorn's does), replaces
one that dies, stops when a worker cannot start (the app, the config or the socket is
broken, and a restart would fail the same way), and passes SIGTERM / SIGINT on for a
graceful shutdown.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
from multiprocessing.context import SpawnProcess
from typing import Any

# uvicorn's exit status for a worker that failed before serving (uvicorn.config).
STARTUP_FAILURE = 3
BACKLOG = 2048
STOP_WAIT_S = 10.0  # within the unit's TimeoutStopSec=15

log = logging.getLogger("uvicorn.error")
_spawn = multiprocessing.get_context("spawn")


def listening_socket(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    """A TCP socket listening on host:port; with `reuse_port`, one of a group."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


def check_port(host: str, port: int) -> None:
    """OSError when something already listens on host:port. Bound without SO_REUSEPORT,
    so another server's reuse-port group (even another `hq serve`) is refused too rather
    than silently joined."""
    listening_socket(host, port, reuse_port=False).close()


def _worker(options: dict[str, Any], host: str, port: int) -> None:
    """One worker process: its own socket in the group, uvicorn serving the app on it."""
    import uvicorn

    config = uvicorn.Config(**options)
    try:
        sock = listening_socket(host, port, reuse_port=True)
    except OSError as exc:
        log.error("worker %d cannot listen on %s:%d: %s", os.getpid(), host, port, exc)
        sys.exit(STARTUP_FAILURE)
    server = uvicorn.Server(config)
    server.run(sockets=[sock])
    if not server.started:
        sys.exit(STARTUP_FAILURE)


class Supervisor:
    """`workers` processes serving `options` (uvicorn.Config's keywords) on host:port."""

    def __init__(self, options: dict[str, Any], host: str, port: int, workers: int) -> None:
        self.options, self.host, self.port, self.workers = options, host, port, workers
        self.processes: list[SpawnProcess] = []
        self.stop = threading.Event()
        self.failed = False

    def _start(self) -> SpawnProcess:
        process = _spawn.Process(target=_worker, args=(self.options, self.host, self.port))
        process.start()
        return process

    def run(self) -> int:
        """Serve until SIGTERM / SIGINT (0), or until a worker cannot start (3)."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stop.set())
        self.processes = [self._start() for _ in range(self.workers)]
        log.info(
            "started %d workers, each on its own socket: %s",
            self.workers,
            " ".join(str(p.pid) for p in self.processes),
        )
        while not self.stop.wait(0.5):
            self._replace_dead()
        self._stop_all()
        return STARTUP_FAILURE if self.failed else 0

    def _replace_dead(self) -> None:
        for i, process in enumerate(self.processes):
            if process.is_alive():
                continue
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                log.error("worker %d failed to start; stopping", process.pid)
                self.failed = True
                self.stop.set()
                return
            log.warning("worker %d died (exit %s); starting another", process.pid, process.exitcode)
            self.processes[i] = self._start()

    def _stop_all(self) -> None:
        for process in self.processes:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)
        for process in self.processes:
            process.join(STOP_WAIT_S)
            if process.is_alive():
                log.warning("worker %d did not stop in %.0f s; killed", process.pid, STOP_WAIT_S)
                process.kill()
                process.join()
