"""ASCII line protocol for DIY beam counters (ESP32, Arduino): bytes → `Totals`.

One sentence per line, NMEA-style (docs/devices.md, "ASCII line protocol")::

    $TPC,<sensor>,<in>,<out>*<HH>\r\n

- ``$`` starts a sentence and appears nowhere else, so a reader can resync on it;
- ``sensor``: 1-32 of ``A-Z a-z 0-9 _ - .``;
- ``in``, ``out``: cumulative decimal totals, 0 … 4294967295, wrapping at 2**32 (a
  ``uint32_t`` on the microcontroller; restarting at 0 on power loss);
- ``HH``: XOR of every byte between ``$`` and ``*``, two hex digits (either case);
- the line ends with LF; a CR before it is optional.

Never raises on input: bytes before a ``$`` → ``Rejected("garbage")``, a checksum
mismatch → ``"checksum"``, a good checksum around bad fields → ``"malformed"``, a line
longer than `MAX_LINE` → ``"garbage"``, a partial line that stops arriving for
`partial_timeout` seconds → ``"timeout"``.
"""

from __future__ import annotations

import re

from devices.readings import Reading, Rejected, Totals

MODULUS = 2**32
MAX_LINE = 80
TALKER = b"TPC"
_FIELDS = re.compile(rb"TPC,([A-Za-z0-9_.-]{1,32}),(\d{1,10}),(\d{1,10})")
_HEX = frozenset(b"0123456789abcdefABCDEF")


def checksum(body: bytes) -> int:
    """XOR of the bytes between ``$`` and ``*``."""
    value = 0
    for byte in body:
        value ^= byte
    return value


def encode_line(sensor: str, total_in: int, total_out: int) -> bytes:
    """One sentence with its checksum and CRLF, as the firmware prints it."""
    body = f"TPC,{sensor},{total_in % MODULUS},{total_out % MODULUS}".encode()
    return b"$" + body + b"*%02X\r\n" % checksum(body)


class AsciiLineParser:
    """Stream parser for the ``$TPC`` line protocol (implements `StreamParser`)."""

    def __init__(self, *, device: str = "", partial_timeout: float = 0.5) -> None:
        self.device = device
        self.partial_timeout = partial_timeout
        self.lines = 0
        self.rejected: dict[str, int] = {}
        self._buf = bytearray()
        self._last_rx = 0.0

    def feed(self, data: bytes, now: float) -> list[Reading]:
        """Consume bytes received at `now`; return readings for completed lines."""
        if data:
            self._buf += data
            self._last_rx = now
        buf = self._buf
        out: list[Reading] = []
        start = 0
        while True:
            end = buf.find(b"\n", start)
            if end < 0:
                break
            self._line(bytes(buf[start:end]), out)
            start = end + 1
        if start:
            del buf[:start]
        if len(buf) > MAX_LINE:
            self._overflow(out)
        return out

    def poll(self, now: float) -> list[Reading]:
        """Drop a partial line that stopped arriving."""
        if self._buf and now - self._last_rx > self.partial_timeout:
            out: list[Reading] = []
            self._reject(out, "timeout", f"{len(self._buf)} bytes of a partial line")
            self._buf.clear()
            return out
        return []

    def _line(self, line: bytes, out: list[Reading]) -> None:
        if line.endswith(b"\r"):
            line = line[:-1]
        dollar = line.rfind(b"$")
        if dollar != 0:
            skipped = len(line) if dollar < 0 else dollar
            if skipped:
                self._reject(out, "garbage", f"{skipped} bytes outside a sentence")
            if dollar < 0:
                return
            line = line[dollar:]
        if len(line) > MAX_LINE:
            self._reject(out, "garbage", f"overlong line ({len(line)} bytes)")
            return
        star = line.find(b"*", 1)
        if star < 0 or len(line) != star + 3:
            self._reject(out, "malformed", "no *HH checksum at the end")
            return
        body, hex_digits = line[1:star], line[star + 1 :]
        if not (hex_digits[0] in _HEX and hex_digits[1] in _HEX):
            self._reject(out, "malformed", "checksum is not two hex digits")
            return
        if checksum(body) != int(hex_digits, 16):
            self._reject(out, "checksum", "XOR checksum mismatch")
            return
        match = _FIELDS.fullmatch(body)
        if match is None:
            self._reject(out, "malformed", f"not a $TPC sentence: {body[:40]!r}")
            return
        total_in, total_out = int(match[2]), int(match[3])
        if total_in >= MODULUS or total_out >= MODULUS:
            self._reject(out, "malformed", "total above 2**32-1")
            return
        self.lines += 1
        out.append(Totals(sensor=match[1].decode(), total_in=total_in, total_out=total_out))

    def _overflow(self, out: list[Reading]) -> None:
        """No newline within MAX_LINE bytes: keep only a possible sentence start."""
        buf = self._buf
        dollar = buf.rfind(b"$")
        keep_from = dollar if dollar > 0 and len(buf) - dollar <= MAX_LINE else len(buf)
        if dollar == 0 and len(buf) <= MAX_LINE:
            return
        self._reject(out, "garbage", f"{keep_from} bytes without a line end")
        del buf[:keep_from]

    def _reject(self, out: list[Reading], reason: str, detail: str) -> None:
        self.rejected[reason] = self.rejected.get(reason, 0) + 1
        out.append(Rejected(reason=reason, detail=detail, device=self.device))
