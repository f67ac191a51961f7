"""DIY beam counter emulator speaking the ``$TPC`` ASCII line protocol on a pty."""

from __future__ import annotations

from devices.counters.ascii_line import MODULUS, encode_line
from devices.emulators.counter import CounterEmulator


class AsciiCounterEmulator(CounterEmulator):
    """Emulated ESP32/Arduino counter: one ``$TPC`` sentence per crossing."""

    modulus = MODULUS

    def encode(self, total_in: int, total_out: int) -> bytes:
        """A ``$TPC`` sentence."""
        return encode_line(self.sensor, total_in, total_out)

    def corrupt(self, frame: bytes) -> bytes:
        """Damage one byte between `$` and the line end: a damaged CR can become LF,
        which would leave the sentence intact rather than refused."""
        index = self.rng.randrange(1, len(frame) - 2)
        damaged = bytearray(frame)
        damaged[index] ^= self.rng.randrange(1, 0x20)
        return bytes(damaged)
