"""One `hq serve` worker process: its app, built from the config named in the environment.

`touchpoint hq serve --workers N` hands uvicorn `hq.web.worker:build` as an app factory;
uvicorn starts N processes (fresh interpreters), and each builds its own app with its
own read-only database pool. The CLI checks the config, database, accounts and state
file once before that, so a mistake is one message and exit 2, not N tracebacks; it
passes the config path and log level in `SERVE_ENV` (read when a worker builds its
app, never at import). What the workers share lives in the web state file
(hq/web/webstate.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from pathlib import Path

from litestar import Litestar

SERVE_ENV = "TOUCHPOINT_HQ_SERVE"


def lifespan_notifier():
    """READY once the app starts (the unit says NotifyAccess=all); WATCHDOG pings from the
    event loop while it runs, where the watchdog is this process's to ping: a single
    worker. Several workers do not see WATCHDOG_USEC; their supervisor pings while every
    worker's loop beats (hq/web/supervisor.py)."""
    from edge.sdnotify import Notifier

    notifier = Notifier()
    interval = notifier.watchdog_interval
    tasks: list[asyncio.Task] = []

    async def ping() -> None:
        while True:
            await asyncio.sleep(interval)
            notifier.watchdog()

    def start() -> None:
        notifier.ready("serving")
        if interval:
            tasks.append(asyncio.get_running_loop().create_task(ping()))

    async def stop() -> None:
        notifier.stopping()
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return start, stop


def environment(config: Path, log_level: str) -> dict[str, str]:
    """What `build` needs, as the environment variable a worker inherits."""
    return {SERVE_ENV: json.dumps({"config": str(Path(config).resolve()), "log_level": log_level})}


def build() -> Litestar:
    """The app of one worker process (uvicorn's factory)."""
    from edge.configtree import SecretResolver
    from edge.daemon import configure_logging
    from hq.backends import open_hq_reader
    from hq.cli import load_config
    from hq.web.app import create_app
    from hq.web.memory import keep_heap

    keep_heap()
    given = json.loads(os.environ[SERVE_ENV])
    config = Path(given["config"])
    configure_logging(given["log_level"])
    cfg = load_config(config)
    w = cfg.web
    reader = open_hq_reader(
        cfg.database,
        SecretResolver.from_environ(config),
        dsn_file=w.dsn_file,
        size=w.db_connections,
    )
    secrets = SecretResolver.from_environ(config)
    intake = None
    closing = [reader.close]
    if w.orders:  # POST /api/v1/orders: the one writer (hq/web/orders.py)
        from hq.web.orders import open_order_intake

        intake = open_order_intake(cfg, secrets)
        closing.append(intake.close)
    start, stop = lifespan_notifier()
    return create_app(
        cfg,
        reader,
        base_dir=config.parent,
        on_startup=[start],
        on_shutdown=[stop, *closing],
        orders=intake,
    )
