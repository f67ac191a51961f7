"""`touchpoint broker …`: head office's mosquitto set-up (config, access rules, passwords, TLS)."""

from __future__ import annotations

from pathlib import Path

import click

from sync.broker_config import BrokerConfigError, make_spec, parse_ids
from sync.broker_files import BrokerSetupError, write_broker_dir


@click.group("broker")
def broker_group() -> None:
    """Head-office broker set-up."""


@broker_group.command("config")
@click.option(
    "--stores",
    required=True,
    help="Comma-separated store ids (A-Z a-z 0-9 _ -, 1-32 characters): the full list; "
    "a store left out loses broker access.",
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Directory to write (created if missing; re-running keeps existing passwords).",
)
@click.option(
    "--hq-user",
    "hq_users",
    multiple=True,
    default=("hq",),
    show_default=True,
    help="HQ broker user; repeat for one user per ingester (the client id is forced to "
    "the user name, so ingesters sharing a user would disconnect each other).",
)
@click.option(
    "--feeds-user",
    default=None,
    help="Also make a read-only user for touchpoint/v1/+/feed/# and +/alerts (dashboards).",
)
@click.option(
    "--tls-port",
    type=int,
    default=8883,
    show_default=True,
    help="Port of the TLS listener stores connect to.",
)
@click.option(
    "--plain-port",
    type=int,
    default=None,
    help="Also listen without TLS on this port, on a loopback address only (HQ-local "
    "ingesters, tests).",
)
@click.option(
    "--plain-bind",
    default="127.0.0.1",
    show_default=True,
    help="Loopback address the plain listener binds to.",
)
@click.option(
    "--rotate",
    multiple=True,
    help="Give this user (store, HQ user, STORE-kiosk or HQ-lookup) a new password; "
    "repeatable. Re-provision its credential file afterwards.",
)
@click.option(
    "--broker-user",
    default="mosquitto",
    show_default=True,
    help="System user mosquitto runs as; when run as root, the files it reads are "
    "made readable by that user's group.",
)
@click.option(
    "--dynsec-plugin",
    default=None,
    help="Path of mosquitto_dynamic_security.so, which enforces the access rules "
    "(default: found under /usr/lib and /usr/local/lib).",
)
def config(
    stores: str,
    out: Path,
    hq_users: tuple[str, ...],
    feeds_user: str | None,
    tls_port: int,
    plain_port: int | None,
    plain_bind: str,
    rotate: tuple[str, ...],
    broker_user: str,
    dynsec_plugin: str | None,
) -> None:
    """Write a mosquitto config, access rules and password file for head office into --out."""
    try:
        spec = make_spec(
            out,
            parse_ids(stores),
            hq_users=tuple(hq_users),
            feeds_user=feeds_user,
            tls_port=tls_port,
            plain_port=plain_port,
            plain_bind=plain_bind,
        )
        report = write_broker_dir(
            spec, rotate=tuple(rotate), broker_user=broker_user, dynsec_plugin=dynsec_plugin
        )
    except BrokerConfigError as exc:
        for line in str(exc).splitlines():
            click.echo(f"error: {line}", err=True)
        raise SystemExit(2) from None
    except (BrokerSetupError, OSError) as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from None

    for path in report.written:
        click.echo(f"wrote {path}")
    for label, users in (
        ("new password", report.new_passwords),
        ("rotated password", report.rotated),
        ("kept password", report.kept_passwords),
    ):
        if users:
            click.echo(f"{label}: {', '.join(users)}")
    for name in report.orphans:
        click.echo(
            f"warning: {spec.credentials_dir / name} is for a user not in this config: "
            "it has no broker access now",
            err=True,
        )
    for note in report.notes:
        click.echo(f"note: {note}")
    click.echo(
        f"next: copy {spec.credentials_dir}/STORE to that store's Pi as its mqtt.password_file, "
        f"{spec.credentials_dir}/STORE-kiosk as its kiosk.mqtt_password_file "
        f"and {spec.tls_dir / 'ca.crt'} as its mqtt.ca_file; see docs/broker.md"
    )
