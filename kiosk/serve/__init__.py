"""`touchpoint kiosk --serve PORT`: the kiosk in a browser through textual-serve.

textual-serve starts a new kiosk process for every browser connection and relays it
over a websocket to xterm.js. Bound to loopback only: the Chromium kiosk window on
the same Pi is the one client. Our page template (`app_index.html` here) replaces
textual-serve's: it loads the font from textual-serve's own static files instead of
the internet, shows no "Session ended" dialog, and reconnects by itself whenever the
session ends or the server restarts.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

TEMPLATES = Path(__file__).parent
LOOPBACK = "127.0.0.1"


def kiosk_command(config_file: Path, *, staff_only: bool = False) -> str:
    """The command textual-serve runs per browser connection: this kiosk, this config."""
    staff = ["--staff"] if staff_only else []
    return shlex.join(
        [sys.executable, "-m", "touchpoint", "kiosk", "-c", str(config_file.resolve()), *staff]
    )


def serve(config_file: Path, port: int, *, staff_only: bool = False) -> None:
    """Serve the kiosk (or a staff terminal) on http://127.0.0.1:PORT until stopped."""
    from textual_serve.server import Server

    server = Server(
        kiosk_command(config_file, staff_only=staff_only),
        host=LOOPBACK,
        port=port,
        title="Kiosk",
        templates_path=TEMPLATES,
    )
    server.serve()
