"""systemd's sd_notify protocol (READY, WATCHDOG, STATUS), in a few lines of socket code.

A datagram to $NOTIFY_SOCKET; nothing happens when the agent is not run by systemd.
"""

from __future__ import annotations

import os
import socket


class Notifier:
    """Sends sd_notify messages when $NOTIFY_SOCKET is set; otherwise does nothing."""

    def __init__(self, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        addr = env.get("NOTIFY_SOCKET", "")
        self.address = "\0" + addr[1:] if addr.startswith("@") else addr
        usec = env.get("WATCHDOG_USEC", "")
        # Ping at half the watchdog period, as sd_watchdog_enabled(3) advises.
        self.watchdog_interval = int(usec) / 2e6 if usec.isdigit() and int(usec) > 0 else None

    def send(self, message: str) -> bool:
        """Send one notification; False when not under systemd or the socket is gone."""
        if not self.address:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.connect(self.address)
                sock.sendall(message.encode())
        except OSError:
            return False
        return True

    def ready(self, status: str = "") -> bool:
        """Tell systemd start-up is complete (Type=notify)."""
        return self.send("READY=1" + (f"\nSTATUS={status}" if status else ""))

    def status(self, text: str) -> bool:
        """A one-line state for `systemctl status`."""
        return self.send(f"STATUS={text}")

    def watchdog(self) -> bool:
        """Keep-alive ping for WatchdogSec=."""
        return self.send("WATCHDOG=1")

    def stopping(self) -> bool:
        """Tell systemd a clean shutdown has begun."""
        return self.send("STOPPING=1")
