"""Wall clock, NTP sanity and boot identity: a Pi has no RTC, so time is suspect until synced.

Every event records `clock_ok` (the kernel says NTP has disciplined the clock and
the time is after this release was built) and the `boot_id`, so head office can
tell a timestamp from before the first NTP sync and re-base it (docs/architecture.md).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import time
from pathlib import Path

# Nothing real can happen before this software existed (2026-01-01T00:00:00Z).
BUILD_EPOCH = 1767225600.0
# Further ahead than this is a broken clock, not a real time.
MAX_FUTURE_S = 2 * 365 * 86400
_TIME_ERROR = 5  # adjtimex(2): clock not synchronised


def read_boot_id(path: Path = Path("/proc/sys/kernel/random/boot_id")) -> str:
    """The kernel's id for this boot (changes on every power cycle)."""
    try:
        return path.read_text().strip()
    except OSError:
        return "unknown"


def kernel_clock_synced() -> bool | None:
    """Whether adjtimex(2) reports a synchronised clock; None if it cannot be asked."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        buf = ctypes.create_string_buffer(512)  # struct timex, modes = 0: read only
        state = libc.adjtimex(buf)
    except (OSError, AttributeError):
        return None
    if state < 0:
        return None
    return state != _TIME_ERROR


def plausible(ts: float, now: float | None = None) -> bool:
    """Whether `ts` could be a real event time (after the build, not far in the future)."""
    limit = (now if now is not None else BUILD_EPOCH) + MAX_FUTURE_S
    return BUILD_EPOCH <= ts <= max(limit, BUILD_EPOCH + MAX_FUTURE_S)


class Clock:
    """Time source handed to whoever stamps events; tests pass their own subclass."""

    def __init__(self, recheck_s: float = 10.0) -> None:
        self._recheck_s = recheck_s
        self._checked_at = -1e9
        self._synced = False
        self._sec = -1
        self._prefix = ""

    def now(self) -> float:
        """Seconds since the epoch (wall clock)."""
        return time.time()

    def synced(self) -> bool:
        """Whether the clock can be trusted (kernel NTP state, re-read every few seconds)."""
        mono = time.monotonic()
        if mono - self._checked_at >= self._recheck_s:
            self._checked_at = mono
            kernel = kernel_clock_synced()
            self._synced = bool(kernel) and plausible(self.now())
        return self._synced

    def iso(self, ts: float) -> str:
        """UTC ISO-8601 with milliseconds and Z; the second's text is cached (hot path)."""
        sec = int(ts)
        if sec != self._sec:
            self._sec = sec
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
        ms = int((ts - sec) * 1000)
        return f"{self._prefix}.{ms:03d}Z"


class StepWatch:
    """Notices the wall clock jumping against the monotonic clock (e.g. the first NTP sync)."""

    def __init__(self, clock: Clock, threshold_s: float = 2.0) -> None:
        self.clock = clock
        self.threshold_s = threshold_s
        self._offset = clock.now() - time.monotonic()

    def check(self) -> float | None:
        """The size of a jump since the last check (seconds), or None if the clock ran true."""
        offset = self.clock.now() - time.monotonic()
        step = offset - self._offset
        self._offset = offset
        return step if abs(step) >= self.threshold_s else None
