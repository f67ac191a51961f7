"""`touchpoint hq …`: the head-office ingester."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import click

from edge.configtree import ConfigError, SecretResolver
from edge.daemon import config_option, configure_logging, log_level_option, serve, stop_on_signals


def load_config(config: Path):
    """Load an HQ config or exit 2 listing every problem."""
    from hq.config import load_hq_config

    try:
        return load_hq_config(config)
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(problem.render(exc.file), err=True)
        raise SystemExit(2) from None


def ingester_from_config(cfg, secrets: SecretResolver):
    """An `Ingester` for an HQ config (its store opens the configured backend)."""
    from hq.backends import open_hq_store
    from hq.ingest import Ingester, IngestSettings

    m = cfg.mqtt
    settings = IngestSettings(
        client_id=cfg.hq.id,
        host=m.host,
        port=m.port,
        username=m.username,
        password=secrets.read(m.password_file).decode() if m.password_file else None,
        tls=m.tls,
        ca_file=m.ca_file or None,
        keepalive_s=m.keepalive_s,
        session_expiry_s=m.session_expiry_s,
        gap_timeout_s=cfg.ingest.gap_timeout_s,
        max_batch_bytes=cfg.ingest.max_batch_kib * 1024,
    )
    return Ingester(settings, lambda: open_hq_store(cfg.database, secrets))


def feed_worker_from_config(cfg, secrets: SecretResolver, ingester):
    """The feed worker of `hq run`, publishing with the ingester's MQTT client (None if off)."""
    if not cfg.feeds.enabled:
        return None
    from hq.backends import open_hq_store
    from hq.feed_cli import windows_of
    from hq.feed_worker import FeedSettings, FeedWorker, client_publisher

    f = cfg.feeds
    settings = FeedSettings(
        interval_s=f.interval_s,
        today_every_s=f.today_every_s,
        settle_max_s=f.settle_max_s,
        provisional_s=f.provisional_s,
        housekeeping_s=f.housekeeping_s,
        unconsented_ttl_h=cfg.privacy.unconsented_ttl_h,
        personal_event_days=cfg.privacy.personal_event_days,
        event_retention_days=cfg.privacy.event_retention_days,
        windows=windows_of(cfg),
    )
    return FeedWorker(
        lambda: open_hq_store(cfg.database, secrets),
        client_publisher(ingester.client),
        settings,
        steps=alert_steps(cfg),
    )


def alert_steps(cfg) -> list:
    """The alerts' step of the feed worker, from `[alerts]` (none when disabled)."""
    if not cfg.alerts.enabled:
        return []
    from dataclasses import fields

    from hq.alert_rules import AlertRules
    from hq.alert_step import AlertStep

    a = cfg.alerts
    # The rules' thresholds are the [alerts] keys of the same names.
    rules = AlertRules(**{f.name: getattr(a, f.name) for f in fields(AlertRules)})
    step = AlertStep(
        rules, interval_s=a.interval_s, expected=cfg.hq.stores, offline_after_s=a.unseen_s
    )
    return [step]


def order_worker_from_config(cfg, secrets: SecretResolver, ingester):
    """The order worker of `hq run` (click & collect), sending with the ingester's client."""
    if not cfg.orders.enabled:
        return None
    from hq.backends import open_hq_store
    from hq.feed_worker import client_publisher
    from hq.orders.tracker import TrackSettings
    from hq.orders.worker import OrderWorker, OrderWorkerSettings

    o = cfg.orders
    settings = OrderWorkerSettings(o.interval_s, TrackSettings(o.hold_days, o.kiosk_promise_h))
    return OrderWorker(
        lambda: open_hq_store(cfg.database, secrets), client_publisher(ingester.client), settings
    )


def responder_from_config(cfg, secrets: SecretResolver):
    """The lookup responder of `hq run` on its own broker user and connection (None if off)."""
    if not cfg.lookup.enabled:
        return None
    from hq.backends import open_hq_store
    from hq.lookup import LookupResponder, LookupSettings

    m, lk = cfg.mqtt, cfg.lookup
    settings = LookupSettings(
        client_id=f"{cfg.hq.id}-lookup",
        host=m.host,
        port=m.port,
        username=lk.username or f"{m.username}-lookup",
        password=secrets.read(lk.password_file).decode() if lk.password_file else None,
        tls=m.tls,
        ca_file=m.ca_file or None,
        keepalive_s=m.keepalive_s,
        max_age_s=lk.max_age_s,
    )
    return LookupResponder(settings, lambda: open_hq_store(cfg.database, secrets))


@click.group("hq")
def hq_group() -> None:
    """Head office: ingest store events over MQTT, import master data, publish catalog and stock."""


def _add_import_group() -> None:
    from hq.imports.cli import import_group
    from hq.publish.cli import publish_group

    hq_group.add_command(import_group)
    hq_group.add_command(publish_group)


_add_import_group()


@hq_group.command("run")
@config_option("HQ")
@log_level_option
def run(config: Path, log_level: str) -> None:
    """Run one ingester until SIGTERM/SIGINT (start several to share the load)."""
    configure_logging(log_level)
    cfg = load_config(config)
    ingester = ingester_from_config(cfg, SecretResolver.from_environ(config))
    stop = stop_on_signals()

    lookups = responder_from_config(cfg, SecretResolver.from_environ(config))

    def check() -> str:
        for name, part in (("ingest", ingester), ("lookup", lookups)):
            if part is not None and not part.alive:
                logging.getLogger("hq").error("%s worker died; exiting for a restart", name)
                raise SystemExit(1)
        if lookups is None:
            return ingester.status_line()
        return f"{ingester.status_line()}; {lookups.status_line()}"

    feeds = feed_worker_from_config(cfg, SecretResolver.from_environ(config), ingester)
    orders = order_worker_from_config(cfg, SecretResolver.from_environ(config), ingester)
    ingester.start()
    if lookups is not None:
        lookups.start()
    if feeds is not None:
        feeds.start()
    if orders is not None:
        orders.start()
    serve(check, stop, f"ingester {cfg.hq.id}")
    if orders is not None:
        orders.stop()
    if feeds is not None:
        feeds.stop()
    if lookups is not None:
        lookups.stop()
    ingester.stop()
    this_run = ingester.stats.__dict__ | {"gaps": len(ingester.stats.gaps)}
    if lookups is not None:
        this_run["lookups"] = lookups.stats.__dict__
    if orders is not None:
        this_run["orders"] = orders.stats.__dict__
    # Counters of this process only; the lifetime figures are the database's own.
    click.echo(json.dumps({"this_run": this_run, "lifetime": lifetime_counts(ingester)}), err=True)


def lifetime_counts(ingester) -> dict | str:
    """Totals over every ingester and restart, from the database (`hq_stores`)."""
    try:
        store = ingester.store_factory()
    except Exception as exc:  # the database may be the reason we stop
        return f"unavailable: {exc}"
    try:
        marks = store.marks().values()
    except Exception as exc:
        return f"unavailable: {exc}"
    finally:
        store.close()
    return {
        "stores": len(marks),
        "events": sum(m.events for m in marks),
        "duplicates": sum(m.duplicates for m in marks),
    }


def _register() -> None:
    from hq.feed_cli import export_subject, feed, forget
    from hq.orders.cli import order_status_command

    for command in (feed, forget, export_subject, order_status_command):
        hq_group.add_command(command)


_register()


def _register_web() -> None:
    """`hq serve`, `hq user …`, `hq token …` (hq/web/cli.py)."""
    from hq.web.cli import serve, token_group, user_group

    for command in (serve, user_group, token_group):
        hq_group.add_command(command)


_register_web()
