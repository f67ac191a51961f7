"""Building a real kiosk (store config → factory) for Pilot tests, with a clock they move."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from edge.config import load_store_config
from edge.configtree import SecretResolver
from kiosk.factory import Kiosk, build_kiosk
from tests.edge.agent_support import write_store_config
from tests.kiosk.conftest import fill

SIZE = (110, 44)


class FakeClock:
    """Monotonic time a test moves by hand (the idle timer reads it)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def kiosk_scanner_device(port: Path | str, duplicate_window_ms: int | None = None) -> str:
    """The `[[devices]]` table of the kiosk's own serial scanner (name `scan-kiosk`)."""
    window = (
        f"duplicate_window_ms = {duplicate_window_ms}\n" if duplicate_window_ms is not None else ""
    )
    return (
        f'[[devices]]\ntype = "serial_scanner"\nname = "scan-kiosk"\nport = "{port}"\n'
        f'role = "kiosk"\n{window}'
    )


def make_kiosk(
    tmp: Path,
    *,
    kiosk: str = "",
    devices: str = "",
    recognition=None,
    clock=None,
    filled: bool = True,
    mqtt: str = "enabled = false",
    timezone: str = "UTC",
    catalog=None,
    **build,
) -> Kiosk:
    """A kiosk on a fresh store database with the test catalog, built by the real factory.

    `build` goes to `build_kiosk` (`staff_only`, `wall_clock`).
    """
    cfg_path = write_store_config(
        tmp, devices, extra=f"[kiosk]\nsearch_delay_ms = 0\n{kiosk}", mqtt=mqtt
    )
    cfg_path.write_text(
        cfg_path.read_text().replace('timezone = "UTC"', f'timezone = "{timezone}"')
    )
    cfg = load_store_config(cfg_path, SecretResolver(cfg_path.parent))
    k = build_kiosk(
        cfg,
        SecretResolver(cfg_path.parent),
        recognition=recognition,
        clock=clock or FakeClock(),
        **build,
    )
    if filled:
        fill(Path(cfg.database.path), **({"catalog": catalog} if catalog else {}))
    return k


async def wait_for(pilot, condition, timeout=3.0) -> bool:
    """Wait (briefly pausing the app) until `condition()` holds; False after `timeout`."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        await pilot.pause(0.002)
    return False


async def settle(pilot, app) -> None:
    """Wait until workers are done and the screen has caught up."""
    for _ in range(3):
        await pilot.pause()
        await app.workers.wait_for_complete()
    await pilot.pause()


def run(coro) -> None:
    """Run a Pilot scenario from a plain test."""
    asyncio.run(coro)


def screen_text(app) -> str:
    """Everything the current screen shows, as text (labels, buttons, inputs)."""
    from textual.widgets import Button, Input, Label, Static

    parts = []
    for w in app.screen.query("*"):
        if not w.display:
            continue
        if isinstance(w, Input):
            parts.append(w.value)
        elif isinstance(w, Button):
            parts.append(str(w.label))
        elif isinstance(w, Label | Static):
            parts.append(str(w.render()))
    return "\n".join(parts)
