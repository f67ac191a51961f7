"""`touchpoint config …`: validate store and head-office configs."""

from __future__ import annotations

from pathlib import Path

import click

from edge.configtree import ConfigError, Problem, read_toml


def load_any(file: Path, kind: str = "auto") -> tuple[str, object]:
    """Load a store or HQ config (told apart by its [store] / [hq] table)."""
    from edge.config import load_store_config
    from hq.config import load_hq_config

    if kind == "auto":
        data = read_toml(file)
        if "store" in data:
            kind = "store"
        elif "hq" in data:
            kind = "hq"
        else:
            raise ConfigError(
                str(file),
                [
                    Problem(
                        "", "expected a [store] table (store config) or an [hq] table (HQ config)"
                    )
                ],
            )
    loader = load_store_config if kind == "store" else load_hq_config
    return kind, loader(file)


@click.group("config")
def config_group() -> None:
    """Validate store and head-office configuration files."""


@config_group.command("check")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--kind",
    type=click.Choice(["auto", "store", "hq"]),
    default="auto",
    show_default=True,
    help="Which config tree to check; auto looks for a [store] or [hq] table.",
)
def check(file: Path, kind: str) -> None:
    """Check FILE: every key's type, bounds and secret files. Exit 2 listing each problem."""
    try:
        found, cfg = load_any(file, kind)
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(problem.render(exc.file), err=True)
        click.echo(f"{exc.file}: {len(exc.problems)} problem(s)", err=True)
        raise SystemExit(2) from None
    if found == "store":
        summary = f"store {cfg.store.id}, {len(cfg.devices)} device(s)"  # type: ignore[attr-defined]
    else:
        summary = f"head office {cfg.hq.id}, backend {cfg.database.backend}"  # type: ignore[attr-defined]
    click.echo(f"{file}: ok ({summary})")
