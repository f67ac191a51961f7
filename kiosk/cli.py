"""`touchpoint kiosk -c FILE`: the shopper kiosk in this terminal (tty1 under systemd)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click


@click.command("kiosk")
@click.option(
    "-c",
    "--config",
    "config_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Store config file (its [kiosk] section and database).",
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
def kiosk_command(config_file: Path, log_file: Path | None, serve_port: int | None) -> None:
    """Run the endless-aisle kiosk for shoppers on this terminal, or serve it to a browser."""
    from edge.config import load_store_config
    from edge.configtree import ConfigError, SecretResolver

    try:
        secrets = SecretResolver.from_environ(config_file)
        cfg = load_store_config(config_file, secrets)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    if log_file is not None:
        logging.basicConfig(filename=log_file, level=logging.INFO)
    if serve_port is not None:
        from kiosk.serve import serve

        serve(config_file, serve_port)
        return
    from kiosk.factory import build_kiosk

    kiosk = build_kiosk(cfg, secrets)
    try:
        kiosk.app.run()
    finally:
        kiosk.close()
