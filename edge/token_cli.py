"""`touchpoint token …`: app QR tokens, for the app back end and for tests."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click


@click.group("token")
def token_group() -> None:
    """App QR tokens: issue them (for the app back end and tests) and verify them."""


def _key(key_file: Path) -> bytes:
    try:
        key = key_file.read_bytes().rstrip(b"\r\n")
    except OSError as exc:
        raise click.UsageError(f"{key_file}: cannot read key file: {exc.strerror}") from None
    if not key:
        raise click.UsageError(f"{key_file}: key file is empty")
    return key


@token_group.command("issue")
@click.option(
    "--key-file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="File holding the app token signing key.",
)
@click.option("--customer", required=True, help="App customer id to put in the token.")
@click.option(
    "--step",
    "step_s",
    default=30,
    show_default=True,
    type=click.IntRange(5, 3600),
    help="Time step in seconds (must match the stores' identity.token_step_s).",
)
@click.option(
    "--at", "at", type=float, default=None, help="Issue as of this Unix time (default: now)."
)
def issue(key_file: Path, customer: str, step_s: int, at: float | None) -> None:
    """Print a signed, short-lived app QR token for CUSTOMER."""
    from edge.identity import issue_token

    click.echo(issue_token(_key(key_file), customer, time.time() if at is None else at, step_s))


@token_group.command("verify")
@click.argument("token")
@click.option(
    "--key-file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="File holding the app token signing key.",
)
@click.option(
    "--step",
    "step_s",
    default=30,
    show_default=True,
    type=click.IntRange(5, 3600),
    help="Time step in seconds.",
)
@click.option(
    "--at", "at", type=float, default=None, help="Verify as of this Unix time (default: now)."
)
def verify(token: str, key_file: Path, step_s: int, at: float | None) -> None:
    """Check TOKEN's signature and freshness; exit 0 if valid, 1 with the reason if not."""
    from edge.identity import TokenVerifier

    result = TokenVerifier(_key(key_file), step_s).verify(token, time.time() if at is None else at)
    click.echo(json.dumps({"valid": result.valid, "reason": result.reason, "step": result.step}))
    raise SystemExit(0 if result.valid else 1)
