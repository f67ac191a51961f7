"""What every long-running `touchpoint` service shares: logging, signals, the sd_notify loop."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import click

from edge.sdnotify import Notifier

LOG_LEVELS = ["debug", "info", "warning", "error"]


def config_option(what: str):
    """The `-c/--config FILE` option every service command takes."""
    return click.option(
        "-c",
        "--config",
        "config",
        required=True,
        type=click.Path(path_type=Path, dir_okay=False),
        help=f"{what} config file (TOML).",
    )


log_level_option = click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(LOG_LEVELS),
    help="Log verbosity (to stderr/journald).",
)


def configure_logging(level: str) -> None:
    """Log to stderr (journald under systemd) at `level`."""
    logging.basicConfig(
        level=level.upper(), stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def serve(
    tick: Callable[[], str | None],
    stop: threading.Event,
    status: str,
    notifier: Notifier | None = None,
) -> None:
    """Tell systemd READY, then call `tick` and ping the watchdog until `stop` is set.

    A `tick` that returns text updates systemd's STATUS= when the text changes.
    """
    notifier = notifier or Notifier()
    notifier.ready(status)
    interval = min(1.0, notifier.watchdog_interval or 1.0)
    while not stop.wait(interval):
        text = tick()  # a hung tick means no ping: systemd restarts us
        if text is not None and text != status:
            status = text
            notifier.status(text)
        notifier.watchdog()
    notifier.stopping()
