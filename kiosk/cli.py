"""`touchpoint kiosk -c FILE`: the kiosk in this terminal (tty1 under systemd), or served;
`touchpoint kiosk staff add|remove|list`: the store's staff PINs."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import click

CONFIG_HELP = "Store config file (its [kiosk] section and database)."


def _load(config_file: Path):
    from edge.config import load_store_config
    from edge.configtree import ConfigError, SecretResolver

    try:
        secrets = SecretResolver.from_environ(config_file)
        return load_store_config(config_file, secrets), secrets
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)


@click.group("kiosk", invoke_without_command=True)
@click.option(
    "-c",
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help=CONFIG_HELP + " Required to run the kiosk.",
)
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write logs here (the terminal belongs to the kiosk screen).",
)
@click.option(
    "--serve",
    "serve_port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Serve the kiosk to a browser on http://127.0.0.1:PORT (textual-serve) instead.",
)
@click.option(
    "--staff",
    "staff_only",
    is_flag=True,
    help="A staff terminal: the staff PIN screen, never the shopper's screens.",
)
@click.pass_context
def kiosk_command(
    ctx: click.Context,
    config_file: Path | None,
    log_file: Path | None,
    serve_port: int | None,
    staff_only: bool,
) -> None:
    """Run the endless-aisle kiosk for shoppers on this terminal, or serve it to a browser."""
    if ctx.invoked_subcommand is not None:
        return
    if config_file is None:
        raise click.UsageError("Missing option '-c' / '--config'.")
    cfg, secrets = _load(config_file)
    if log_file is not None:
        logging.basicConfig(filename=log_file, level=logging.INFO)
    if serve_port is not None:
        from kiosk.serve import serve

        serve(config_file, serve_port, staff_only=staff_only)
        return
    from kiosk.factory import build_kiosk

    kiosk = build_kiosk(cfg, secrets, staff_only=staff_only)
    try:
        kiosk.app.run()
    finally:
        kiosk.close()


@kiosk_command.group("staff")
def staff_group() -> None:
    """Staff who may use staff mode, each with a PIN (stored as an scrypt hash)."""


def _registry(config_file: Path):
    from edge.db import open_store_db
    from kiosk.core.staff import StaffRegistry

    cfg, secrets = _load(config_file)
    db = open_store_db(cfg.database.path, busy_timeout_ms=cfg.database.busy_timeout_ms)
    active = next(k for k in cfg.identity.keys if k.id == cfg.identity.active_key)
    return StaffRegistry(db.conn, key=secrets.read(active.file), store=cfg.store.id)


config_option = click.option(
    "-c",
    "--config",
    "config_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help=CONFIG_HELP,
)


@staff_group.command("add")
@click.argument("name")
@config_option
@click.option(
    "--pin-file",
    type=click.File("r"),
    default=None,
    help="Read the PIN from this file's first line (- for stdin) instead of a prompt.",
)
def staff_add(name: str, config_file: Path, pin_file) -> None:
    """Add a staff member NAME with a PIN of 4 to 8 digits, or give NAME a new PIN."""
    from kiosk.core.staff import StaffError

    registry = _registry(config_file)
    if pin_file is not None:
        pin = pin_file.readline().strip()
    else:
        pin = click.prompt("PIN", hide_input=True, confirmation_prompt=True)
    try:
        registry.add(name, pin, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    except StaffError as exc:
        click.echo(f"staff add: {exc}", err=True)
        sys.exit(2)
    click.echo(f"{name.strip()}: PIN set")


@staff_group.command("remove")
@click.argument("name")
@config_option
def staff_remove(name: str, config_file: Path) -> None:
    """Remove staff member NAME (exit 1 if there is none)."""
    if not _registry(config_file).remove(name):
        click.echo(f"staff remove: no staff member {name!r}", err=True)
        sys.exit(1)
    click.echo(f"{name}: removed")


@staff_group.command("list")
@config_option
def staff_list(config_file: Path) -> None:
    """List the staff names (never their PINs)."""
    for name in _registry(config_file).names():
        click.echo(name)
