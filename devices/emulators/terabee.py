"""Terabee Evo People Counter emulator: PC/DD frames on a pty, honours the reset command."""

from __future__ import annotations

from devices.counters.terabee import MODULUS, encode_dd, encode_pc, reset_command
from devices.emulators.counter import CounterEmulator


class TerabeeEmulator(CounterEmulator):
    """Emulated Evo People Counter; `sensor` must be a decimal u32 sensor id."""

    modulus = MODULUS

    def encode(self, total_in: int, total_out: int) -> bytes:
        """A PC frame."""
        return encode_pc(int(self.sensor), total_in, total_out)

    def distance(self, d1_mm: int, d2_mm: int) -> bool:
        """Send a DD (distance) frame."""
        return self.send(encode_dd(d1_mm, d2_mm))

    def service(self) -> bool:
        """Act on commands the host wrote; True if a reset command zeroed the counts."""
        if reset_command() in self.received():
            self.zero()
            self.report(clean=True)
            return True
        return False
