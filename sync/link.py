"""The state of one MQTT connection, as an installer needs to see it (pure bookkeeping).

Both ends use it: the store uplink and the HQ ingester. paho-mqtt reconnects by
itself and tells us only through callbacks; `LinkState` turns those callbacks into
one INFO line per change of connection, with the reason and the reconnect backoff,
and keeps what `edge status` and `systemctl status` show: connected or offline,
since when, why, the last error.

The backoff mirrors paho's own (`reconnect_delay_set`): the first retry after a
failure waits `min_delay`, each further one twice as long up to `max_delay`, and a
successful connection starts over. Repeated failures while already offline are
logged at DEBUG only, so a store offline for a day leaves one line, not thousands.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field


def duration_text(seconds: float) -> str:
    """A short human duration: 45s, 12m, 3h05m."""
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def lost_reason(reason) -> str:
    """Why paho says a connection ended, in words (its reason code otherwise)."""
    if not reason.is_failure:
        return "closed by the broker"
    if reason.value == 0x80:  # what paho reports when the socket simply closes
        return "connection lost: the broker stopped or the network dropped"
    return f"connection lost: {reason}"


@dataclass
class LinkState:
    """Connected or offline, since when and why; logs each change once at INFO."""

    name: str  # "uplink", "ingest": the prefix of every log line
    where: str  # "host:port"
    log: logging.Logger
    min_delay: float = 1.0
    max_delay: float = 30.0
    clock: Callable[[], float] = time.time
    connected: bool = False
    reason: str = "connecting"  # why not connected (empty while connected)
    last_error: str = ""
    retry_in: float | None = None  # paho's next reconnect wait, while offline
    since: float = field(default=0.0)
    failures: int = 0  # failed attempts since the last good connection
    _reported: bool = False  # whether the current offline spell has been logged

    def __post_init__(self) -> None:
        self.since = self.clock()

    def up(self) -> None:
        """The broker accepted us (CONNACK success)."""
        now = self.clock()
        if self.connected:
            return
        offline = f" after {duration_text(now - self.since)} offline ({self.reason})"
        first = not self._reported and self.failures == 0
        self.log.info(
            "%s: connected to the broker at %s%s",
            self.name,
            self.where,
            "" if first else offline,
        )
        self.connected, self.reason, self.since = True, "", now
        self.retry_in, self.failures, self._reported = None, 0, False

    def down(self, reason: str) -> None:
        """The connection was lost or closed."""
        if not self.connected:
            self.failed(reason)
            return
        self.connected, self.reason, self.since = False, reason, self.clock()
        self.last_error = reason
        self._next_delay()
        self._reported = True
        self.log.info(
            "%s: disconnected from the broker at %s (%s); reconnecting in %gs, backing off to %gs",
            self.name,
            self.where,
            reason,
            self.retry_in,
            self.max_delay,
        )

    def failed(self, reason: str) -> None:
        """A connection attempt failed (refused, unreachable) while not connected."""
        self.last_error = reason
        self._next_delay()
        if self._reported:
            self.log.debug(
                "%s: still offline (%s); next attempt in %gs", self.name, reason, self.retry_in
            )
            return
        self.reason, self._reported = reason, True
        self.log.info(
            "%s: cannot connect to the broker at %s (%s); retrying in %gs, backing off to %gs",
            self.name,
            self.where,
            reason,
            self.retry_in,
            self.max_delay,
        )

    def stopping(self) -> None:
        """We are closing the connection ourselves: not an outage, still one line."""
        if self.connected:
            self.log.info(
                "%s: disconnecting from the broker at %s (stopping)", self.name, self.where
            )
        self.connected, self.reason, self.since = False, "stopped", self.clock()
        self._reported = True

    def _next_delay(self) -> None:
        self.failures += 1
        self.retry_in = (
            self.min_delay if self.retry_in is None else min(self.retry_in * 2, self.max_delay)
        )

    def snapshot(self) -> dict:
        """What other processes show (`edge status`): JSON-able."""
        return {
            "connected": self.connected,
            "since": round(self.since, 3),
            "offline_reason": self.reason,
            "last_error": self.last_error,
            "retry_in_s": self.retry_in,
            "failed_attempts": self.failures,
        }
