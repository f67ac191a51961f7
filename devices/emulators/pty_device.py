"""A serial device emulated on a pty, reachable through a stable symlink.

The code under test opens `PtyDevice.path`, a symlink that plays the part of a
``/dev/serial/by-id/…`` link: `plug` creates a fresh pty and points the link at its
slave, `unplug` removes the link and closes the master, which makes the reader's next
read fail (EIO → ``SerialException``), as a pulled USB cable does.

A real USB device cannot deliver bytes to a host that has not opened the port, and
pyserial flushes the input queue on open, so `send` writes only once a host has held
the port open for `grace` seconds (Linux reports EIO on the master while no slave fd
is open) and otherwise reports the bytes as not sent. `drain` waits until the host has
read everything sent, which lets emulators keep exact ground truth.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import select
import struct
import termios
import time
import tty
from pathlib import Path


class PtyDevice:
    """One emulated serial device: a pty master plus a stable path for the host side."""

    def __init__(self, link: str | Path, *, grace: float = 0.1, write_timeout: float = 5.0) -> None:
        self.link = Path(link)
        self.grace = grace
        self.write_timeout = write_timeout
        self.slave_name = ""
        self._master: int | None = None
        self._connected_since: float | None = None
        self._inbox = bytearray()

    @property
    def path(self) -> str:
        """The stable path the host opens (the by-id stand-in)."""
        return str(self.link)

    @property
    def plugged(self) -> bool:
        """Whether the device is currently plugged in."""
        return self._master is not None

    def plug(self) -> None:
        """Create a fresh pty and point the stable path at it."""
        if self._master is not None:
            return
        master, slave = os.openpty()
        tty.setraw(master)
        tty.setraw(slave)
        self.slave_name = os.ttyname(slave)
        # Holding the slave open would hide whether a host has it open (EIO probe).
        os.close(slave)
        os.set_blocking(master, False)
        self._master = master
        self._connected_since = None
        tmp = self.link.with_name(self.link.name + ".new")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        tmp.symlink_to(self.slave_name)
        os.replace(tmp, self.link)

    def unplug(self, *, drain: bool = True) -> None:
        """Remove the stable path and close the pty; with `drain`, first let the host
        read what was sent (bounded), so "sent" keeps meaning "received"."""
        if self._master is None:
            return
        if drain:
            self.drain()
        with contextlib.suppress(FileNotFoundError):
            self.link.unlink()
        os.close(self._master)
        self._master = None
        self._connected_since = None

    def replug(self) -> None:
        """Unplug then plug again: a new pty behind the same path."""
        self.unplug()
        self.plug()

    def close(self) -> None:
        """Unplug without waiting for the host."""
        self.unplug(drain=False)

    def host_connected(self) -> bool:
        """Whether a host has held the port open for at least `grace` seconds."""
        if self._master is None:
            return False
        now = time.monotonic()
        try:
            data = os.read(self._master, 4096)
        except BlockingIOError:
            data = b""
        except OSError as exc:
            if exc.errno != errno.EIO:
                raise
            self._connected_since = None
            return False
        self._inbox += data
        if self._connected_since is None:
            self._connected_since = now
        return now - self._connected_since >= self.grace

    def wait_connected(self, timeout: float = 5.0) -> bool:
        """Wait up to `timeout` s for a host to open the port."""
        deadline = time.monotonic() + timeout
        while not self.host_connected():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)
        return True

    def received(self) -> bytes:
        """Bytes the host wrote to the device since the last call."""
        self.host_connected()
        data = bytes(self._inbox)
        self._inbox.clear()
        return data

    def send(self, data: bytes) -> bool:
        """Write `data` to the host if one is listening; False if it went nowhere."""
        if not self.host_connected():
            return False
        assert self._master is not None
        view = memoryview(data)
        deadline = time.monotonic() + self.write_timeout
        while view:
            try:
                written = os.write(self._master, view)
            except BlockingIOError:
                written = 0
            except OSError as exc:
                if exc.errno == errno.EIO:
                    return False
                raise
            view = view[written:]
            if view:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"host did not read {self.path} for {self.write_timeout}s")
                poller = select.poll()
                poller.register(self._master, select.POLLOUT)
                poller.poll(min(remaining, 0.05) * 1000)
        return True

    def pending(self) -> int:
        """Bytes sent but not yet read by the host (0 when unplugged)."""
        if self._master is None:
            return 0
        try:
            fd = os.open(self.slave_name, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
        except OSError:
            return 0
        try:
            raw = fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0")
        finally:
            os.close(fd)
        return struct.unpack("i", raw)[0]

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait up to `timeout` s until the host has read everything sent."""
        deadline = time.monotonic() + timeout
        quiet = 0
        # The kernel moves pty bytes to the reader's queue asynchronously: require the
        # queue to stay empty across a few probes before calling it drained.
        while quiet < 3:
            if not self.host_connected():
                return False
            quiet = quiet + 1 if self.pending() == 0 else 0
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)
        return True
