"""`touchpoint hq feed`, `hq forget`, `hq export-subject`: feeds and GDPR requests."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from edge.configtree import SecretResolver
from edge.daemon import config_option


def open_db(config: Path):
    """The HQ database of a config, seen through `hq.db.Db` (exit 2 on a bad config)."""
    from hq.backends import open_hq_store
    from hq.cli import load_config
    from hq.db import Db

    cfg = load_config(config)
    return cfg, Db(open_hq_store(cfg.database, SecretResolver.from_environ(config)))


def windows_of(cfg):
    """The matching windows of an HQ config."""
    from hq.facts import Windows

    f = cfg.feeds
    return Windows(f.visit_window_min * 60.0, f.online_before_days, f.online_after_days)


def _day(value: str | None, default: date) -> date:
    if value is None:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected a date YYYY-MM-DD, got {value!r}") from None


@click.command("feed")
@config_option("HQ")
@click.option("--store", "store", default=None, help="One store's feed.")
@click.option("--chain", is_flag=True, help="The chain roll-up over every store.")
@click.option("--from", "first", default=None, help="First local day, YYYY-MM-DD (default today).")
@click.option("--to", "last", default=None, help="Last local day, YYYY-MM-DD (default --from).")
@click.option(
    "--period",
    type=click.Choice(["hour", "day"]),
    default="day",
    show_default=True,
    help="Hourly or daily buckets.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "csv"]),
    default="json",
    show_default=True,
    help="JSON (one array) or CSV (one row per bucket).",
)
def feed(config: Path, store: str | None, chain: bool, first, last, period: str, fmt: str) -> None:
    """Print a store's or the chain's visitor and conversion feed (docs/metrics.md)."""
    from hq.feeds import chain_feed, store_feed, to_csv

    if bool(store) == chain:
        raise click.UsageError("give exactly one of --store S or --chain")
    cfg, db = open_db(config)
    try:
        today = datetime.now(ZoneInfo(cfg.hq.timezone)).date()
        lo = _day(first, today)
        hi = _day(last, lo)
        if hi < lo:
            raise click.BadParameter("--to is before --from")
        rows = chain_feed(db, period, lo, hi) if chain else store_feed(db, store, period, lo, hi)
    finally:
        db.store.close()
    click.echo(to_csv(rows) if fmt == "csv" else json.dumps(rows, indent=1), nl=fmt == "json")


@click.command("forget")
@config_option("HQ")
@click.option("--customer", required=True, help="The customer id to erase.")
def forget(config: Path, customer: str) -> None:
    """Erase a customer: profile, pseudonyms and links (GDPR right to erasure)."""
    from hq.privacy import forget as erase

    cfg, db = open_db(config)
    try:
        erased = erase(db, customer, windows_of(cfg))
    finally:
        db.store.close()
    if not erased.profile and not erased.pseudonyms and not erased.visits:
        click.echo(f"no data held for customer {customer!r}", err=True)
        raise SystemExit(2)
    click.echo(json.dumps({"customer": customer, "erased": erased.__dict__}))


@click.command("export-subject")
@config_option("HQ")
@click.option("--customer", required=True, help="The customer id whose data to print.")
def export_subject(config: Path, customer: str) -> None:
    """Print everything head office holds about a customer (GDPR right of access)."""
    from hq.privacy import export_subject as export

    _cfg, db = open_db(config)
    try:
        data = export(db, customer)
    finally:
        db.store.close()
    if data is None:
        click.echo(f"no data held for customer {customer!r}", err=True)
        raise SystemExit(2)
    click.echo(json.dumps(data, indent=1))
