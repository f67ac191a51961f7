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


def kiosk_command(config_file: Path) -> str:
    """The command textual-serve runs per browser connection: this kiosk, this config."""
    return shlex.join(
        [sys.executable, "-m", "touchpoint", "kiosk", "-c", str(config_file.resolve())]
    )


def serve(config_file: Path, port: int) -> None:
    """Serve the kiosk on http://127.0.0.1:PORT until stopped."""
    from textual_serve.server import Server

    server = Server(
        kiosk_command(config_file),
        host=LOOPBACK,
        port=port,
        title="Kiosk",
        templates_path=TEMPLATES,
    )
    server.serve()
