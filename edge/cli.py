"""`touchpoint edge …` and `touchpoint token …`: the store agent and app QR tokens."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
import time
from pathlib import Path

import click

from edge.configtree import ConfigError, SecretResolver


def _load(config: Path):
    from edge.config import load_store_config

    try:
        return load_store_config(config)
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(problem.render(exc.file), err=True)
        raise SystemExit(2) from None


@click.group("edge")
def edge_group() -> None:
    """The store agent: run it, or see its state."""


@edge_group.command("run")
@click.option(
    "-c",
    "--config",
    "config",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Store config file (TOML).",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
    help="Log verbosity (to stderr/journald).",
)
def run(config: Path, log_level: str) -> None:
    """Run the store agent until SIGTERM/SIGINT: devices → events in the store database."""
    from edge.agent import Agent

    logging.basicConfig(
        level=log_level.upper(), stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    cfg = _load(config)
    agent = Agent(cfg, SecretResolver.from_environ(config))
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    logging.getLogger("edge").info(
        "store %s: agent starting with %d device(s)", cfg.store.id, len(cfg.devices)
    )
    agent.run(stop)


@edge_group.command("status")
@click.option(
    "-c",
    "--config",
    "config",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Store config file (TOML).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
def status(config: Path, as_json: bool) -> None:
    """Today's entries, exits, visitors and identified visits; device health; outbox and acked seq."""
    from edge.status import store_status

    cfg = _load(config)
    st = store_status(cfg)
    if as_json:
        click.echo(json.dumps(st, sort_keys=True))
        return
    click.echo(
        f"store {st['store']}  day {st['day']}  clock {'ok' if st['clock_ok'] else 'NOT SYNCED'}"
    )
    click.echo(
        f"  entries {st['entries']}  exits {st['exits']}  visitors {st['visitors']:g}"
        f"  occupancy {st['occupancy']}  identified visits {st['identified_visits']}"
    )
    click.echo(
        f"  outbox {st['outbox']} event(s)  last seq {st['last_seq']}  acked by HQ {st['acked_seq']}"
    )
    click.echo(f"  disk {st['disk']['state']} {st['disk']['detail']}")
    for name, dev in st["devices"].items():
        click.echo(f"  {name:<16} {dev['type']:<15} {dev['state']:<12} {dev['detail']}")


@click.group("token")
def token_group() -> None:
    """App QR tokens: issue them (for the app back end and tests) and verify them."""


def _key(key_file: Path) -> bytes:
    try:
        key = key_file.read_bytes().rstrip(b"\r\n")
    except OSError as exc:
        raise click.UsageError(f"{key_file}: cannot read key file: {exc.strerror}") from None
    if not key:
        raise click.UsageError(f"{key_file}: key file is empty")
    return key


@token_group.command("issue")
@click.option(
    "--key-file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="File holding the app token signing key.",
)
@click.option("--customer", required=True, help="App customer id to put in the token.")
@click.option(
    "--step",
    "step_s",
    default=30,
    show_default=True,
    type=click.IntRange(5, 3600),
    help="Time step in seconds (must match the stores' identity.token_step_s).",
)
@click.option(
    "--at", "at", type=float, default=None, help="Issue as of this Unix time (default: now)."
)
def issue(key_file: Path, customer: str, step_s: int, at: float | None) -> None:
    """Print a signed, short-lived app QR token for CUSTOMER."""
    from edge.identity import issue_token

    click.echo(issue_token(_key(key_file), customer, time.time() if at is None else at, step_s))


@token_group.command("verify")
@click.argument("token")
@click.option(
    "--key-file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="File holding the app token signing key.",
)
@click.option(
    "--step",
    "step_s",
    default=30,
    show_default=True,
    type=click.IntRange(5, 3600),
    help="Time step in seconds.",
)
@click.option(
    "--at", "at", type=float, default=None, help="Verify as of this Unix time (default: now)."
)
def verify(token: str, key_file: Path, step_s: int, at: float | None) -> None:
    """Check TOKEN's signature and freshness; exit 0 if valid, 1 with the reason if not."""
    from edge.identity import TokenVerifier

    result = TokenVerifier(_key(key_file), step_s).verify(token, time.time() if at is None else at)
    click.echo(json.dumps({"valid": result.valid, "reason": result.reason, "step": result.step}))
    raise SystemExit(0 if result.valid else 1)
