"""`touchpoint hq publish catalog|stock FILE`: the shell around hq/publish/runner.py.

Exit status: 0 every row published, 1 some rows rejected (the good ones are
published), 2 a bad command line, config or file, or nothing to publish, 3 the
broker failed or refused part of it (run it again: a newer version supersedes).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import click

from edge.daemon import config_option

_HELP = {
    "catalog": "Send the assortment (Merchant Center product feed fields) to every registered store.",
    "stock": "Send stock (local inventory feed: store_code, id, quantity) to every registered store:"
    " its own, online, and its nearest stores'.",
}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _fail(message: str, code: int) -> None:
    click.echo(message, err=True)
    raise SystemExit(code)


def sender_settings(cfg, secrets):
    """Broker connection of `hq publish`: [publish] user if set, else HQ's [mqtt] user."""
    from hq.publish.sender import SenderSettings

    m, p = cfg.mqtt, cfg.publish
    username = p.username or m.username
    password_file = p.password_file if p.username else (p.password_file or m.password_file)
    return SenderSettings(
        client_id=f"{cfg.hq.id}-publish",
        host=m.host,
        port=m.port,
        username=username,
        password=secrets.read(password_file).decode().strip() if password_file else None,
        tls=m.tls,
        ca_file=m.ca_file or None,
        keepalive_s=m.keepalive_s,
        max_inflight=p.max_inflight,
        timeout_s=p.timeout_s,
    )


def run_publish_command(kind_name: str, file: Path, config: Path) -> None:
    """Read, check and publish one file from the command line, and exit with its status."""
    from edge.configtree import SecretResolver
    from hq.backends import open_hq_store
    from hq.cli import load_config
    from hq.db import Db
    from hq.imports.runner import Kind, run_import
    from hq.imports.source import SourceError, file_format
    from hq.publish import ledger
    from hq.publish.rows import CATALOG_FIELDS, STOCK_FIELDS, parse_product, parse_stock
    from hq.publish.runner import Collector, batch_key, publish
    from hq.publish.sender import PublishError, Sender
    from hq.storage import StoreUnavailable

    t0 = time.monotonic()
    cfg = load_config(config)
    try:
        file_format(file)
    except SourceError as exc:
        raise click.UsageError(str(exc)) from None
    secrets = SecretResolver.from_environ(config)
    try:
        store = open_hq_store(cfg.database, secrets)
    except (OSError, StoreUnavailable) as exc:
        _fail(f"{config}: cannot open head office's database: {exc}", 2)
    try:
        db = Db(store)
        locations = ledger.registered_stores(db)
        if not locations:
            _fail("no stores in the registry: import them first (touchpoint hq import stores)", 2)
        collector = Collector(kind_name, set(locations))
        if kind_name == "catalog":
            currency = cfg.hq.currency
            kind = Kind(
                lambda row, line: parse_product(row, line, currency), batch_key, collector.write
            )
            fields = CATALOG_FIELDS
        else:
            kind = Kind(parse_stock, batch_key, collector.write)
            fields = STOCK_FIELDS

        def reject(line: int, reason: str) -> None:
            click.echo(f"{file}:{line}: {reason}", err=True)

        try:
            read = run_import(file, kind, fields, now=_now, on_reject=reject)
        except SourceError as exc:
            _fail(f"{file}: {exc}", 2)
        except OSError as exc:
            _fail(f"{exc.filename or file}: {exc.strerror or exc}", 2)
        if not collector.records:
            # Publishing nothing would empty every kiosk: never do that by accident.
            _fail(f"{file}: no good rows, nothing published", 1 if read.rejected else 2)
        try:
            settings = sender_settings(cfg, secrets)
        except OSError as exc:
            _fail(f"{config}: cannot read the broker password: {exc}", 2)
        sender = Sender(settings)
        try:
            sender.connect()
            summary = publish(
                kind_name,
                collector,
                locations,
                db,
                sender,
                nearest=cfg.publish.nearest_stores,
                now_iso=_now,
            )
        except PublishError as exc:
            _fail(f"{file}: publishing stopped, not every store has this version: {exc}", 3)
        finally:
            sender.close()
    except StoreUnavailable as exc:
        _fail(f"{file}: database failed: {exc}", 3)
    finally:
        store.close()
    summary.rejected = read.rejected
    summary.seconds = round(time.monotonic() - t0, 3)
    for s, reason in sorted(summary.refused.items()):
        click.echo(f"store {s}: the broker refused it: {reason}", err=True)
    if summary.unplaced:
        click.echo(
            f"stores without a location (no nearby stock for or from them): {', '.join(summary.unplaced)}",
            err=True,
        )
    if read.rejected_file:
        click.echo(f"rejected rows in {read.rejected_file}", err=True)
    click.echo(json.dumps(summary.__dict__))
    raise SystemExit(3 if summary.refused else 1 if summary.rejected else 0)


@click.group("publish")
def publish_group() -> None:
    """Send the catalog or stock to every registered store's downlink (docs/imports.md)."""


def _command(kind_name: str) -> click.Command:
    @publish_group.command(
        kind_name, help=_HELP[kind_name] + " CSV or JSONL. Exit 1 when any row is rejected."
    )
    @click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
    @config_option("HQ")
    def command(file: Path, config: Path) -> None:
        run_publish_command(kind_name, file, config)

    return command


for _kind in _HELP:
    _command(_kind)
