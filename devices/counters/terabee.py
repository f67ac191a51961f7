"""Terabee TeraRanger Evo People Counter over USB/UART: bytes → `Totals`, `Distance`.

Frame layouts (issue 3 and docs/devices.md, "Terabee"); all fields big-endian::

    PC  people count   "P" "C" | sensor_id u32 | net i32 | in u16 | out u16 | crc8   15 bytes
    DD  distances      "D" "D" | d1 u16 (mm)   | d2 u16 (mm)                | crc8    7 bytes

CRC-8 is polynomial 0x07, init 0x00 over every preceding byte of the frame
(`devices.crc`). `in`/`out` are cumulative and wrap at 65536; they restart at 0 when
the sensor loses power — `devices.counters.deltas` turns them into crossings.

The parser never raises on input. It resynchronises on the next ``PC``/``DD`` header:
a frame with a bad CRC becomes ``Rejected(reason="crc")`` and the scan restarts one
byte after its header (a real frame may start inside a corrupt one); bytes that belong
to no frame become one ``Rejected(reason="garbage")`` per skipped run. A partial frame
left without new bytes for `partial_timeout` seconds is dropped as ``reason="timeout"``.
"""

from __future__ import annotations

import struct

from devices.crc import crc8
from devices.readings import Distance, Reading, Rejected, Totals

PC_HEADER = b"PC"
DD_HEADER = b"DD"
PC_SIZE = 15
DD_SIZE = 7
MODULUS = 65536
# "Reset counts" command from the vendor's documentation, CRC appended below.
_RESET_BODY = bytes.fromhex("00550800000000")
_PC = struct.Struct(">IiHH")
_DD = struct.Struct(">HH")
_HEADER_FIRST_BYTES = frozenset(b"PD")


def reset_command() -> bytes:
    """The 8-byte command that makes the sensor zero its counts (``… 7C``)."""
    return _RESET_BODY + bytes([crc8(_RESET_BODY)])


def encode_pc(sensor_id: int, total_in: int, total_out: int, net: int | None = None) -> bytes:
    """A PC frame, as the sensor sends it (used by the emulator, tests and bench)."""
    if net is None:
        net = total_in - total_out
    body = PC_HEADER + _PC.pack(sensor_id, net, total_in % MODULUS, total_out % MODULUS)
    return body + bytes([crc8(body)])


def encode_dd(d1_mm: int, d2_mm: int) -> bytes:
    """A DD (distance) frame."""
    body = DD_HEADER + _DD.pack(d1_mm, d2_mm)
    return body + bytes([crc8(body)])


class TerabeeParser:
    """Stream parser for one Evo People Counter (implements `StreamParser`)."""

    def __init__(self, *, device: str = "", partial_timeout: float = 0.5) -> None:
        self.device = device
        self.partial_timeout = partial_timeout
        self.frames = 0
        self.rejected: dict[str, int] = {}
        self._buf = bytearray()
        self._last_rx = 0.0
        # Bytes still to come that belong to the last CRC-rejected frame: skipping them
        # is part of that rejection, not extra garbage.
        self._shadow = 0
        self._sensor = device

    def feed(self, data: bytes, now: float) -> list[Reading]:
        """Consume bytes received at `now`; return the readings of completed frames."""
        if data:
            self._buf += data
            self._last_rx = now
        buf = self._buf
        out: list[Reading] = []
        pos = 0
        n = len(buf)
        while n - pos >= 2:
            head = buf[pos : pos + 2]
            if head == PC_HEADER:
                size = PC_SIZE
            elif head == DD_HEADER:
                size = DD_SIZE
            else:
                pos = self._skip_garbage(buf, pos, out)
                continue
            if n - pos < size:
                break
            end = pos + size
            if crc8(buf[pos : end - 1]) != buf[end - 1]:
                self._reject(out, "crc", f"{head.decode()} frame")
                self._shadow = size - 1
                pos += 1
                continue
            self._shadow = 0
            self.frames += 1
            if size == PC_SIZE:
                sensor_id, _net, total_in, total_out = _PC.unpack_from(buf, pos + 2)
                self._sensor = str(sensor_id)
                out.append(Totals(sensor=self._sensor, total_in=total_in, total_out=total_out))
            else:
                d1, d2 = _DD.unpack_from(buf, pos + 2)
                out.append(Distance(sensor=self._sensor, d1_mm=d1, d2_mm=d2))
            pos = end
        if pos:
            del buf[:pos]
        return out

    def poll(self, now: float) -> list[Reading]:
        """Drop a partial frame that stopped arriving (cable pulled mid-frame)."""
        if self._buf and now - self._last_rx > self.partial_timeout:
            out: list[Reading] = []
            self._reject(out, "timeout", f"{len(self._buf)} bytes of a partial frame")
            self._buf.clear()
            self._shadow = 0
            return out
        return []

    def _skip_garbage(self, buf: bytearray, pos: int, out: list[Reading]) -> int:
        """Skip to the next possible header; report the skipped run once."""
        starts = [i for i in (buf.find(PC_HEADER, pos + 1), buf.find(DD_HEADER, pos + 1)) if i >= 0]
        if starts:
            end = min(starts)
        else:
            # The last byte may be the first half of a header still arriving.
            end = len(buf) - 1 if buf[-1] in _HEADER_FIRST_BYTES else len(buf)
        run = end - pos
        owned = min(run, self._shadow)
        self._shadow -= owned
        if run > owned:
            self._reject(out, "garbage", f"{run - owned} bytes skipped")
        return end

    def _reject(self, out: list[Reading], reason: str, detail: str) -> None:
        self.rejected[reason] = self.rejected.get(reason, 0) + 1
        out.append(Rejected(reason=reason, detail=detail, device=self.device))
