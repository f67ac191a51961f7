"""Door-counter emulator base: cumulative totals over a pty, faults, and ground truth.

Like the real sensors, it reports its totals after every crossing. Ground truth is what
the device *reported*: per counting epoch (between power-loss resets) the last totals
it sent in a clean frame, minus the epoch's starting totals. Crossings whose only
report was corrupted and that are followed by a power loss are lost by the device
itself, so no reader could count them; everything else must be counted exactly.
`unplug` drains first, so "sent" means "read by the host" (see `PtyDevice`).
"""

from __future__ import annotations

import random
from pathlib import Path

from devices.emulators.pty_device import PtyDevice


class CounterEmulator(PtyDevice):
    """Base for counter emulators; subclasses give the frame encoding and corruption."""

    modulus = 65536

    def __init__(
        self,
        link: str | Path,
        *,
        sensor: str = "1",
        start: tuple[int, int] = (0, 0),
        corrupt_rate: float = 0.0,
        seed: int | None = None,
        grace: float = 0.1,
    ) -> None:
        super().__init__(link, grace=grace)
        self.sensor = sensor
        self.corrupt_rate = corrupt_rate
        self.rng = random.Random(seed)
        self.total_in, self.total_out = (v % self.modulus for v in start)
        self.frames_sent = 0
        self.frames_corrupted = 0
        self.resets = 0
        self._done = [0, 0]
        self._base = [self.total_in, self.total_out]
        self._reported = [self.total_in, self.total_out]

    # Subclass hooks ---------------------------------------------------------------
    def encode(self, total_in: int, total_out: int) -> bytes:
        """One frame carrying these totals."""
        raise NotImplementedError

    def corrupt(self, frame: bytes) -> bytes:
        """`frame` damaged so that the parser must refuse it."""
        index = self.rng.randrange(len(frame))
        damaged = bytearray(frame)
        # Masks below 0x20 never just flip letter case, which a hex checksum would accept.
        damaged[index] ^= self.rng.randrange(1, 0x20)
        return bytes(damaged)

    # Behaviour --------------------------------------------------------------------
    def report(self, *, clean: bool | None = None) -> bool:
        """Send the current totals (corrupted at `corrupt_rate` unless `clean` is set)."""
        frame = self.encode(self.total_in, self.total_out)
        damaged = (not clean) if clean is not None else self.rng.random() < self.corrupt_rate
        if damaged:
            frame = self.corrupt(frame)
        if not self.send(frame):
            return False
        self.frames_sent += 1
        if damaged:
            self.frames_corrupted += 1
        else:
            self._reported = [self.total_in, self.total_out]
        return True

    def cross(self, direction: str, count: int = 1) -> None:
        """`count` people cross; the device reports after each one."""
        for _ in range(count):
            if direction == "in":
                self.total_in = (self.total_in + 1) % self.modulus
            elif direction == "out":
                self.total_out = (self.total_out + 1) % self.modulus
            else:
                raise ValueError(f"direction must be in or out, not {direction!r}")
            self.report()

    def garbage(self, size: int) -> bool:
        """Send `size` random bytes (line noise, a baud-rate mismatch)."""
        return self.send(self.rng.randbytes(size))

    def zero(self) -> None:
        """The counters restart at 0 (power loss or a reset command): a new epoch."""
        for i in range(2):
            self._done[i] += (self._reported[i] - self._base[i]) % self.modulus
        self.total_in = self.total_out = 0
        self._base = [0, 0]
        self._reported = [0, 0]
        self.resets += 1

    def power_loss(self) -> None:
        """Lose power: the link drops, the counters restart at 0, the device comes back."""
        self.unplug()
        self.zero()
        self.plug()

    @property
    def truth(self) -> tuple[int, int]:
        """Crossings (in, out) the device reported since the emulator started."""
        return (
            self._done[0] + (self._reported[0] - self._base[0]) % self.modulus,
            self._done[1] + (self._reported[1] - self._base[1]) % self.modulus,
        )
