"""`touchpoint hq serve`, `hq user add|list|remove`, `hq token add|list|remove`."""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from edge.configtree import SecretResolver
from edge.daemon import config_option, configure_logging, log_level_option
from hq.web.accounts import (
    AccountError,
    Accounts,
    add_token,
    add_user,
    list_tokens,
    list_users,
    parse_stores,
    remove_token,
    remove_user,
)

STORES_HELP = "Comma-separated store ids this one may see; omit for every store and the chain."


def _files(config: Path):
    from hq.cli import load_config
    from hq.web.app import resolve

    cfg = load_config(config)
    base = Path(config).resolve().parent
    return cfg, resolve(cfg.web.users_file, base), resolve(cfg.web.tokens_file, base)


def _fail(exc: Exception) -> None:
    click.echo(f"error: {exc}", err=True)
    raise SystemExit(2)


@click.command("serve")
@config_option("HQ")
@click.option("--host", default=None, help="Listen address (default: web.host).")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=None, help="Port (default: web.port)."
)
@click.option(
    "--workers",
    type=click.IntRange(0, 64),
    default=None,
    help="Worker processes (default: web.workers; 0 = one per CPU).",
)
@log_level_option
def serve(
    config: Path, host: str | None, port: int | None, workers: int | None, log_level: str
) -> None:
    """Serve the feed API (/api/v1, OpenAPI at /schema/openapi.json) and the dashboard."""
    import uvicorn

    from hq.backends import open_hq_reader
    from hq.schema import SCHEMA_VERSION
    from hq.storage import StoreUnavailable
    from hq.web.app import resolve
    from hq.web.webstate import WebState, WebStateError
    from hq.web.worker import environment

    configure_logging(log_level)
    cfg, users, tokens = _files(config)
    secrets = SecretResolver.from_environ(config)
    w = cfg.web
    if cfg.database.backend == "sqlite" and not Path(cfg.database.path).is_file():
        _fail(ValueError(f"no HQ database at {cfg.database.path} (run `hq run` first)"))
    # Checked once here, so a mistake is one message (exit 2), not one per worker.
    try:
        reader = open_hq_reader(cfg.database, secrets, dsn_file=w.dsn_file, size=1)
        reader.query("SELECT 1 FROM hq_feed LIMIT 1")
        version = reader.query("SELECT max(version) FROM schema_version")[0][0] or 0
        reader.close()
        # The server reads only; `hq run` (or any writer) brings the schema up to date.
        if version < SCHEMA_VERSION:
            _fail(
                ValueError(
                    f"the HQ database is at schema version {version}, this version needs"
                    f" {SCHEMA_VERSION}: start `touchpoint hq run` once to upgrade it"
                )
            )
        Accounts(users, tokens)
        WebState(resolve(w.state_file, Path(config).resolve().parent)).close()
    except (StoreUnavailable, FileNotFoundError, AccountError, WebStateError) as exc:
        _fail(ValueError(f"cannot serve: {exc}"))
    if w.orders:
        from hq.web.orders import open_order_intake

        try:
            open_order_intake(cfg, secrets).close()
        except (StoreUnavailable, OSError) as exc:
            _fail(ValueError(f"cannot open the orders connection (web.orders): {exc}"))
    workers = (w.workers if workers is None else workers) or os.cpu_count() or 1
    host, port = host or w.host, port or w.port
    os.environ.update(environment(config, log_level))
    options = {
        "app": "hq.web.worker:build",
        "factory": True,
        "log_level": log_level,
        "proxy_headers": bool(w.trusted_proxy),
        "forwarded_allow_ips": w.trusted_proxy or None,
        "server_header": False,
    }
    if workers == 1:
        uvicorn.run(**options, host=host, port=port)
        return
    # Several workers: each listens on a socket of its own (hq/web/supervisor.py).
    from hq.web.supervisor import Supervisor, check_port

    try:
        check_port(host, port)
    except OSError as exc:
        _fail(ValueError(f"cannot listen on {host}:{port}: {exc.strerror or exc}"))
    raise SystemExit(Supervisor(options, host, port, workers).run())


@contextlib.contextmanager
def _person_errors() -> Iterator[None]:
    """A person's mistake (bad name, unknown user, unreadable file): its reason, exit 2."""
    try:
        yield
    except (AccountError, OSError) as exc:
        _fail(exc)


def _print(kind: str, records: list) -> None:
    for r in records:
        rights = {"rights": r.rights} if kind == "token" else {}
        click.echo(json.dumps({kind: r.name, "stores": r.stores, **rights, "created": r.created}))


def _read_password(password_file: Path | None) -> str:
    if password_file is not None:
        lines = password_file.read_text().splitlines()
        return lines[0] if lines else ""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("password: ")
    if getpass.getpass("again: ") != password:
        raise AccountError("the passwords differ")
    return password


@click.group("user")
def user_group() -> None:
    """Dashboard users: name, password (scrypt) and store scope (web.users_file)."""


@user_group.command("add")
@config_option("HQ")
@click.argument("name")
@click.option("--stores", default=None, help=STORES_HELP)
@click.option(
    "--password-file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Read the password from this file (first line); else from stdin, or asked for.",
)
def user_add(config: Path, name: str, stores: str | None, password_file: Path | None) -> None:
    """Add a user, or set a new password and scope for one."""
    _, users, _ = _files(config)
    with _person_errors():
        scope = parse_stores(stores)
        add_user(users, name, _read_password(password_file), scope)
    click.echo(json.dumps({"user": name, "stores": scope, "file": str(users)}))


@user_group.command("list")
@config_option("HQ")
def user_list(config: Path) -> None:
    """List the users and their store scopes (JSON lines)."""
    with _person_errors():
        _print("user", list_users(_files(config)[1]))


@user_group.command("remove")
@config_option("HQ")
@click.argument("name")
def user_remove(config: Path, name: str) -> None:
    """Remove a user; their sessions end at their next request."""
    with _person_errors():
        remove_user(_files(config)[1], name)


@click.group("token")
def token_group() -> None:
    """API bearer tokens, stored as hashes only (web.tokens_file)."""


@token_group.command("add")
@config_option("HQ")
@click.argument("name")
@click.option("--stores", default=None, help=STORES_HELP)
@click.option(
    "--orders",
    is_flag=True,
    help="May also send the web shop's orders (POST /api/v1/orders) for its stores.",
)
def token_add(config: Path, name: str, stores: str | None, orders: bool) -> None:
    """Make a token for an API client and print it once (it is not stored)."""
    with _person_errors():
        rights = ["orders"] if orders else []
        click.echo(add_token(_files(config)[2], name, parse_stores(stores), rights))


@token_group.command("list")
@config_option("HQ")
def token_list(config: Path) -> None:
    """List the tokens' names and scopes (JSON lines)."""
    with _person_errors():
        _print("token", list_tokens(_files(config)[2]))


@token_group.command("remove")
@config_option("HQ")
@click.argument("name")
def token_remove(config: Path, name: str) -> None:
    """Revoke a token by name."""
    with _person_errors():
        remove_token(_files(config)[2], name)
