"""`touchpoint edge …`: run the store agent (with its uplink to head office), or see its state.

This lives in `touchpoint/`, the composition root, because running a store joins
layers that must not import each other: the agent (`edge/`) and the uplink (`sync/`).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

import click

from edge.configtree import ConfigError, SecretResolver
from edge.daemon import config_option, configure_logging, log_level_option, stop_on_signals


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
@config_option("Store")
@log_level_option
def run(config: Path, log_level: str) -> None:
    """Run the store agent until SIGTERM/SIGINT: devices → events in the store database."""
    from edge.agent import Agent

    configure_logging(log_level)
    cfg = _load(config)
    secrets = SecretResolver.from_environ(config)
    extra = {}
    if cfg.mqtt.enabled:
        from sync.uplink import uplink_factory
        from touchpoint import __version__

        extra["uplink"] = uplink_factory(cfg, secrets, __version__)
    agent = Agent(cfg, secrets, extra_components=extra)
    stop = stop_on_signals()
    logging.getLogger("edge").info(
        "store %s: agent starting with %d device(s)", cfg.store.id, len(cfg.devices)
    )
    agent.run(stop)


def uplink_line(st: dict) -> str:
    """The uplink in one line a person on the phone with the store can read out."""
    from sync.link import duration_text

    state, up, since = st["uplink_state"], st["uplink"], st["uplink_since"]
    if state == "disabled":
        return "disabled (mqtt.enabled = false)"
    if state == "not_started":
        return "no report yet (the agent has not run with MQTT enabled)"
    if state == "stale":
        return f"no report since {since}: is the agent running?"
    oldest = st["oldest_unsent_s"]
    backlog = f"outbox {st['outbox']} event(s)" + (
        f", oldest unsent {duration_text(oldest)} old"
        if oldest is not None and st["outbox"]
        else ""
    )
    if state == "connected":
        eta = f", about {up['eta_s']:.0f}s to drain" if up.get("eta_s") else ""
        return f"connected since {since}; {backlog}, acked at {up['rate_per_s']:g}/s{eta}"
    retry = f"; next try within {up['retry_in_s']:g}s" if up.get("retry_in_s") else ""
    error = up.get("last_error") or ""
    last = f"; last error: {error}" if error and error != up.get("offline_reason") else ""
    return f"OFFLINE since {since} ({up.get('offline_reason') or 'no connection'}){last}; {backlog}{retry}"


@edge_group.command("status")
@config_option("Store")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
def status(config: Path, as_json: bool) -> None:
    """Today's entries, exits, visitors and identified visits; device health; outbox and acked seq."""
    from edge.db import StoreDbMissing
    from edge.status import store_status

    cfg = _load(config)
    try:
        st = store_status(cfg)
    except StoreDbMissing as exc:
        click.echo(f"store {cfg.store.id}: {exc}", err=True)
        raise SystemExit(1) from None
    except sqlite3.DatabaseError as exc:  # not a database, a lock held past the timeout
        click.echo(
            f"store {cfg.store.id}: cannot read {cfg.database.path}: {exc}; try again", err=True
        )
        raise SystemExit(1) from None
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
    click.echo(f"  uplink: {uplink_line(st)}")
    click.echo(f"  disk {st['disk']['state']} {st['disk']['detail']}")
    for name, dev in st["devices"].items():
        click.echo(f"  {name:<16} {dev['type']:<15} {dev['state']:<12} {dev['detail']}")
