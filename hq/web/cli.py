"""`touchpoint hq serve`, `hq user add|list|remove`, `hq token add|list|remove`."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import json
import sys
from pathlib import Path

import click

from edge.configtree import SecretResolver
from edge.daemon import config_option, configure_logging, log_level_option

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


def _stores(text: str | None):
    from hq.web.accounts import AccountError, parse_stores

    try:
        return parse_stores(text)
    except AccountError as exc:
        _fail(exc)


def _lifespan_notifier():
    """READY once the app starts; WATCHDOG pings from the event loop while it runs."""
    from edge.sdnotify import Notifier

    notifier = Notifier()
    tasks: list[asyncio.Task] = []

    async def ping() -> None:
        while True:
            await asyncio.sleep(notifier.watchdog_interval or 3600)
            notifier.watchdog()

    def start() -> None:
        notifier.ready("serving")
        tasks.append(asyncio.get_running_loop().create_task(ping()))

    async def stop() -> None:
        notifier.stopping()
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return start, stop


@click.command("serve")
@config_option("HQ")
@click.option("--host", default=None, help="Listen address (default: web.host).")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=None, help="Port (default: web.port)."
)
@log_level_option
def serve(config: Path, host: str | None, port: int | None, log_level: str) -> None:
    """Serve the feed API (/api/v1, OpenAPI at /schema/openapi.json) and the dashboard."""
    import uvicorn

    from hq.backends import open_hq_reader
    from hq.storage import StoreUnavailable
    from hq.web.accounts import AccountError
    from hq.web.app import create_app

    configure_logging(log_level)
    cfg, _, _ = _files(config)
    secrets = SecretResolver.from_environ(config)
    w = cfg.web
    if cfg.database.backend == "sqlite" and not Path(cfg.database.path).is_file():
        _fail(ValueError(f"no HQ database at {cfg.database.path} (run `hq run` first)"))
    try:
        reader = open_hq_reader(cfg.database, secrets, dsn_file=w.dsn_file, size=w.db_connections)
        reader.query("SELECT 1 FROM hq_feed LIMIT 1")
    except (StoreUnavailable, FileNotFoundError) as exc:
        _fail(ValueError(f"cannot read the HQ database: {exc}"))
    start, stop = _lifespan_notifier()
    try:
        app = create_app(
            cfg,
            reader,
            base_dir=Path(config).resolve().parent,
            on_startup=[start],
            on_shutdown=[stop],
        )
    except AccountError as exc:
        _fail(exc)
    try:
        uvicorn.run(
            app,
            host=host or w.host,
            port=port or w.port,
            log_level=log_level,
            proxy_headers=False,
            server_header=False,
        )
    finally:
        reader.close()


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
    help="Read the password from this file (first line); else it is asked for.",
)
def user_add(config: Path, name: str, stores: str | None, password_file: Path | None) -> None:
    """Add a user, or set a new password and scope for one."""
    from hq.web.accounts import AccountError, add_user

    _, users, _ = _files(config)
    scope = _stores(stores)
    try:
        if password_file is not None:
            password = (
                password_file.read_text().splitlines()[0] if password_file.stat().st_size else ""
            )
        elif sys.stdin.isatty():
            password = getpass.getpass("password: ")
            if getpass.getpass("again: ") != password:
                raise AccountError("the passwords differ")
        else:
            password = sys.stdin.readline().rstrip("\r\n")
        add_user(users, name, password, scope)
    except (AccountError, OSError) as exc:
        _fail(exc)
    click.echo(json.dumps({"user": name, "stores": scope, "file": str(users)}))


@user_group.command("list")
@config_option("HQ")
def user_list(config: Path) -> None:
    """List the users and their store scopes (JSON lines)."""
    from hq.web.accounts import AccountError, list_users

    _, users, _ = _files(config)
    try:
        for u in list_users(users):
            click.echo(json.dumps({"user": u.name, "stores": u.stores, "created": u.created}))
    except AccountError as exc:
        _fail(exc)


@user_group.command("remove")
@config_option("HQ")
@click.argument("name")
def user_remove(config: Path, name: str) -> None:
    """Remove a user; their sessions end at their next request."""
    from hq.web.accounts import AccountError, remove_user

    _, users, _ = _files(config)
    try:
        remove_user(users, name)
    except AccountError as exc:
        _fail(exc)


@click.group("token")
def token_group() -> None:
    """API bearer tokens, stored as hashes only (web.tokens_file)."""


@token_group.command("add")
@config_option("HQ")
@click.argument("name")
@click.option("--stores", default=None, help=STORES_HELP)
def token_add(config: Path, name: str, stores: str | None) -> None:
    """Make a token for an API client and print it once (it is not stored)."""
    from hq.web.accounts import AccountError, add_token

    _, _, tokens = _files(config)
    scope = _stores(stores)
    try:
        click.echo(add_token(tokens, name, scope))
    except AccountError as exc:
        _fail(exc)


@token_group.command("list")
@config_option("HQ")
def token_list(config: Path) -> None:
    """List the tokens' names and scopes (JSON lines)."""
    from hq.web.accounts import AccountError, list_tokens

    _, _, tokens = _files(config)
    try:
        for t in list_tokens(tokens):
            click.echo(json.dumps({"token": t.name, "stores": t.stores, "created": t.created}))
    except AccountError as exc:
        _fail(exc)


@token_group.command("remove")
@config_option("HQ")
@click.argument("name")
def token_remove(config: Path, name: str) -> None:
    """Revoke a token by name."""
    from hq.web.accounts import AccountError, remove_token

    _, _, tokens = _files(config)
    try:
        remove_token(tokens, name)
    except AccountError as exc:
        _fail(exc)
