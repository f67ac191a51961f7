"""`touchpoint hq import stores|profiles|transactions|orders FILE`: the shell around hq/imports/runner.py.

Exit status: 0 every row imported (or already as given), 1 some rows rejected (so a
scheduled import is noticed), 2 a bad command line, config or unreadable file,
3 the database failed mid-way (batches committed so far stay; run it again).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from edge.daemon import config_option

_HELP = {
    "stores": "Load the store registry: id, name, timezone, opening hours, doors, location, staff.",
    "profiles": "Load online profiles: ids pseudonymised under every chain key, consents, activity.",
    "transactions": "Load POS receipts and online orders (sales and returns) of registered stores.",
    "orders": "Load click-&-collect orders for pick-up at registered stores; hq run sends them there.",
}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def run_import_command(kind_name: str, file: Path, config: Path) -> None:
    """Run one import from the command line and exit with its status."""
    from edge.configtree import SecretResolver
    from edge.identity import Pseudonymiser
    from hq.backends import open_hq_store
    from hq.cli import load_config
    from hq.imports.runner import FIELDS, kind_for, run_import
    from hq.imports.source import SourceError, file_format
    from hq.storage import StoreUnavailable

    cfg = load_config(config)
    try:
        file_format(file)
    except SourceError as exc:
        raise click.UsageError(str(exc)) from None
    secrets = SecretResolver.from_environ(config)
    try:
        keys = {k.id: secrets.read(k.file) for k in cfg.identity.keys}
        store = open_hq_store(cfg.database, secrets)
    except (OSError, StoreUnavailable) as exc:
        click.echo(f"{config}: cannot open head office's keys or database: {exc}", err=True)
        raise SystemExit(2) from None
    pseudonymiser = Pseudonymiser(keys, cfg.identity.active_key)
    rules = None
    if kind_name == "orders":
        from hq.orders.intake import rules_from_config

        rules = rules_from_config(cfg, keys)
    kind = kind_for(kind_name, store, pseudonymiser, cfg.hq.currency, rules)

    def reject(line: int, reason: str) -> None:
        click.echo(f"{file}:{line}: {reason}", err=True)

    try:
        size = file.stat().st_size
        # A bar only for a person watching: never in a journal or a pipe.
        with click.progressbar(
            length=size,
            label=f"importing {kind_name}",
            file=sys.stderr,
            hidden=not sys.stderr.isatty(),
        ) as bar:
            summary = run_import(
                file, kind, FIELDS[kind_name], now=_now, on_reject=reject, progress=bar.update
            )
    except SourceError as exc:
        click.echo(f"{file}: {exc}", err=True)
        raise SystemExit(2) from None
    except OSError as exc:
        # The input, or the rejected-rows file beside it (a read-only directory).
        click.echo(f"{exc.filename or file}: {exc.strerror or exc}", err=True)
        raise SystemExit(2) from None
    except StoreUnavailable as exc:
        click.echo(f"{file}: database failed, import incomplete (run it again): {exc}", err=True)
        raise SystemExit(3) from None
    finally:
        store.close()
    click.echo(f"{kind_name}: {summary.line()}")
    raise SystemExit(1 if summary.rejected else 0)


@click.group("import")
def import_group() -> None:
    """Import stores, profiles, transactions or orders from a CSV or JSONL file (docs/imports.md)."""


def _command(kind_name: str) -> click.Command:
    @import_group.command(kind_name, help=_HELP[kind_name] + " Exit 1 when any row is rejected.")
    @click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
    @config_option("HQ")
    def command(file: Path, config: Path) -> None:
        run_import_command(kind_name, file, config)

    return command


for _kind in _HELP:
    _command(_kind)
