"""`touchpoint hq order-status ID`: an order's status in the shopper's words."""

from __future__ import annotations

import json
from pathlib import Path

import click

from edge.daemon import config_option


@click.command("order-status")
@config_option("HQ")
@click.argument("order_id")
@click.option(
    "--lang",
    type=click.Choice(["nl", "en"]),
    default="nl",
    show_default=True,
    help="The shopper's language.",
)
@click.option("--json", "as_json", is_flag=True, help="All fields as JSON instead of the text.")
def order_status_command(config: Path, order_id: str, lang: str, as_json: bool) -> None:
    """Print a pick-up order's status as the shopper reads it (the kiosk's words).

    Exit 2 when head office has no such order.
    """
    from hq.feed_cli import open_db
    from hq.orders.status import order_status

    _cfg, db = open_db(config)
    try:
        status = order_status(db, order_id, lang)  # type: ignore[arg-type]
    finally:
        db.store.close()
    if status is None:
        click.echo(f"no order {order_id!r} at head office", err=True)
        raise SystemExit(2)
    click.echo(json.dumps(status.as_dict()) if as_json else status.text)
