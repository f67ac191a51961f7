"""The two shapes every device module follows: a pure stream parser, and a component.

Kept apart (as in pyserial's ``serial.threaded``) so tests drive a parser with bytes
and no I/O, and drive a component with a pty, pins or a video file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from devices.readings import Reading

ReadingSink = Callable[[Reading], None]


class StreamParser(Protocol):
    """Bytes in, readings out. Never raises on bad input: bad input becomes `Rejected`."""

    def feed(self, data: bytes, now: float) -> list[Reading]:
        """Consume bytes received at monotonic time `now`; return completed readings."""
        ...

    def poll(self, now: float) -> list[Reading]:
        """Time-driven work (inter-byte timeouts); call it when no bytes arrived."""
        ...


class Component(Protocol):
    """A device reader owned by the supervisor: started once, stopped within a deadline."""

    def start(self) -> None:
        """Start reading in the background; readings go to the sink given at construction."""
        ...

    def stop(self, timeout: float = 2.0) -> None:
        """Stop and release the port/pins/camera within `timeout` seconds."""
        ...

    @property
    def alive(self) -> bool:
        """Whether the component still works; the supervisor restarts it when not."""
        ...
