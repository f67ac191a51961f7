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

Each worker's event loop writes a heartbeat (a shared array, one slot per worker)
every second. A worker whose loop has not run for `stale_s` (a handler stuck in a
blocking call holds every request of that worker) is killed and replaced. The
supervisor, not the workers, pings systemd's watchdog, and only while every worker's
heartbeat is fresh: with every worker pinging, one hung worker went unnoticed as long
as another pinged. The workers still report READY (the unit's NotifyAccess=all).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from multiprocessing.context import SpawnProcess
from typing import Any

from edge.sdnotify import Notifier

# uvicorn's exit status for a worker that failed before serving (uvicorn.config).
STARTUP_FAILURE = 3
BACKLOG = 2048
STOP_WAIT_S = 10.0  # within the unit's TimeoutStopSec=15
BEAT_S = 1.0
# A worker's loop silent this long is hung: replaced well within the unit's WatchdogSec=30.
STALE_S = 10.0
# The workers' environment lacks these: the supervisor alone pings the watchdog.
WATCHDOG_ENV = ("WATCHDOG_USEC", "WATCHDOG_PID")

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


def _worker(options: dict[str, Any], host: str, port: int, beats: Any, slot: int) -> None:
    """One worker process: its own socket in the group, uvicorn serving the app on it,
    and the heartbeat of its event loop in `beats[slot]`."""
    import asyncio

    import uvicorn

    config = uvicorn.Config(**options)
    try:
        sock = listening_socket(host, port, reuse_port=True)
    except OSError as exc:
        log.error("worker %d cannot listen on %s:%d: %s", os.getpid(), host, port, exc)
        sys.exit(STARTUP_FAILURE)
    server = uvicorn.Server(config)

    async def beat() -> None:
        while True:
            beats[slot] = time.monotonic()
            await asyncio.sleep(BEAT_S)

    async def serve() -> None:
        task = asyncio.get_running_loop().create_task(beat())
        try:
            await server.serve(sockets=[sock])
        finally:
            task.cancel()

    with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
        runner.run(serve())
    if not server.started:
        sys.exit(STARTUP_FAILURE)


class Supervisor:
    """`workers` processes serving `options` (uvicorn.Config's keywords) on host:port."""

    def __init__(
        self,
        options: dict[str, Any],
        host: str,
        port: int,
        workers: int,
        stale_s: float = STALE_S,
    ) -> None:
        self.options, self.host, self.port, self.workers = options, host, port, workers
        self.stale_s = stale_s
        self.processes: list[SpawnProcess] = []
        self.stop = threading.Event()
        self.failed = False
        # Each worker's last heartbeat (time.monotonic(), one clock for every process);
        # 0 until its loop first runs.
        self.beats = _spawn.Array("d", workers, lock=False)
        self.notifier = Notifier()

    def _start(self, slot: int) -> SpawnProcess:
        self.beats[slot] = 0.0
        process = _spawn.Process(
            target=_worker, args=(self.options, self.host, self.port, self.beats, slot)
        )
        process.start()
        return process

    def run(self) -> int:
        """Serve until SIGTERM / SIGINT (0), or until a worker cannot start (3)."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stop.set())
        for name in WATCHDOG_ENV:
            os.environ.pop(name, None)  # the workers inherit the rest (NOTIFY_SOCKET: READY)
        self.processes = [self._start(slot) for slot in range(self.workers)]
        log.info(
            "started %d workers, each on its own socket: %s",
            self.workers,
            " ".join(str(p.pid) for p in self.processes),
        )
        pinged = 0.0
        while not self.stop.wait(0.5):
            self._replace_dead()
            healthy = self._kill_hung()
            interval = self.notifier.watchdog_interval
            if healthy and interval and time.monotonic() - pinged >= interval:
                self.notifier.watchdog()
                pinged = time.monotonic()
        self._stop_all()
        return STARTUP_FAILURE if self.failed else 0

    def _replace_dead(self) -> None:
        for slot, process in enumerate(self.processes):
            if process.is_alive():
                continue
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                log.error("worker %d failed to start; stopping", process.pid)
                self.failed = True
                self.stop.set()
                return
            log.warning("worker %d died (exit %s); starting another", process.pid, process.exitcode)
            self.processes[slot] = self._start(slot)

    def _kill_hung(self) -> bool:
        """Kill each worker whose event loop has not run for stale_s (it is replaced on
        the next pass); whether every worker's heartbeat is fresh."""
        now, healthy = time.monotonic(), True
        for slot, process in enumerate(self.processes):
            beat = self.beats[slot]
            if not beat or now - beat <= self.stale_s:
                continue  # not started yet (a dead one is replaced), or alive
            healthy = False
            if process.is_alive() and process.pid is not None:
                log.error(
                    "worker %d's event loop has not run for %.0f s; killed",
                    process.pid,
                    now - beat,
                )
                os.kill(process.pid, signal.SIGKILL)
        return healthy

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
