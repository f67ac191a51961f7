"""The `touchpoint` CLI: --version, and help text on every command (sqlite-utils' habit)."""

from __future__ import annotations

import click
import pytest

from tests.support import touchpoint
from touchpoint import __version__
from touchpoint.cli import COMMANDS, main


def walk(group: click.Command, ctx: click.Context, path: tuple[str, ...] = ()):
    yield path, group
    if isinstance(group, click.Group):
        for name in group.list_commands(ctx):
            sub = group.get_command(ctx, name)
            yield from walk(sub, click.Context(sub, parent=ctx, info_name=name), (*path, name))


ALL = list(walk(main, click.Context(main, info_name="touchpoint")))


def test_version():
    result = touchpoint("--version")
    assert result.returncode == 0 and __version__ in result.stdout


def test_every_registered_command_is_present():
    # No placeholder commands: everything registered exists and loads.
    names = {path[0] for path, _ in ALL if len(path) == 1}
    assert names == set(COMMANDS)


@pytest.mark.parametrize(
    ("path", "command"), ALL, ids=lambda v: " ".join(v) if isinstance(v, tuple) else ""
)
def test_every_command_and_option_has_help(path, command):
    assert (command.help or "").strip(), f"`touchpoint {' '.join(path)}` has no help text"
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert (param.help or "").strip(), (
                f"option {param.opts} of {' '.join(path)} has no help"
            )


@pytest.mark.parametrize("path", [p for p, _ in ALL], ids=" ".join)
def test_help_runs(path):
    result = touchpoint(*path, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout
