"""The `touchpoint` command: a thin shell that assembles each package's commands.

Each package owns its commands (``devices/cli.py``, ``edge/cli.py`` …); they are
imported only when used, so ``touchpoint --help`` stays fast on a Pi and a broken
optional part (say, OpenCV) never stops the rest of the CLI from working.
"""

from __future__ import annotations

import importlib

import click

from touchpoint import __version__

# name -> "module:attribute" of a click command or group.
COMMANDS: dict[str, str] = {
    "config": "touchpoint.config_cli:config_group",
    "demo": "touchpoint.demo:demo_command",
    "devices": "devices.cli:devices_group",
    "edge": "touchpoint.edge_cli:edge_group",
    "token": "edge.token_cli:token_group",
    "hq": "hq.cli:hq_group",
    "count-video": "devices.camera.cli:count_video",
    "broker": "sync.broker_cli:broker_group",
    "kiosk": "kiosk.cli:kiosk_command",
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def __init__(self, *args: object, lazy: dict[str, str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._lazy))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self._lazy:
            module_name, attr = self._lazy[cmd_name].split(":")
            return getattr(importlib.import_module(module_name), attr)
        return super().get_command(ctx, cmd_name)


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="touchpoint")
def main() -> None:
    """In-store touchpoint edge system: door counters, scanners, kiosk and MQTT sync to HQ."""
