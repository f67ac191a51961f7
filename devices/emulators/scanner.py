"""USB-CDC barcode scanner emulator: scanner frames on a pty (`PtyDevice`), with faults.

Frames are ``[prefix][AIM id]data[suffix]`` (see `devices.scanners.serial_scanner`).
Every action appends what a correctly configured `ScannerParser` must produce to
`truth`, so a test compares the parser's output with ground truth directly. An action
whose bytes found no host (unplugged, port not open) records nothing and returns False.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path

from devices.emulators.pty_device import PtyDevice
from devices.readings import Reading, Rejected, Scan
from devices.scanners import aim
from devices.scanners.checkdigits import mod10_check_digit
from devices.scanners.dedupe import DuplicateFilter
from devices.scanners.serial_scanner import SUFFIXES

# Bytes no scanner sends as data; garbage frames are made of these (never CR or LF,
# which would split the garbage into frames of its own).
GARBAGE_BYTES = bytes([*range(0x00, 0x04), *range(0x05, 0x09), 0x0B, 0x0C, 0x7F, 0xFE, 0xFF])


def build_frame(data: str, *, aim_id: str = "", prefix: bytes = b"", suffix: str = "cr") -> bytes:
    """The bytes a scanner sends for one scan."""
    return prefix + (aim_id + data).encode("utf-8") + SUFFIXES[suffix]


def with_check_digit(body: str) -> str:
    """`body` followed by its GS1 mod-10 check digit (makes a valid GTIN/SSCC)."""
    return body + str(mod10_check_digit(body))


def with_bad_check_digit(body: str) -> str:
    """`body` followed by a wrong check digit."""
    return body + str((mod10_check_digit(body) + 1) % 10)


def random_gtin13(rng: random.Random) -> str:
    """A random EAN-13 with a valid check digit."""
    return with_check_digit("".join(rng.choice("0123456789") for _ in range(12)))


class ScannerEmulator(PtyDevice):
    """A scanner behind a stable pty path; each method sends one scan or fault and records truth."""

    def __init__(
        self,
        link: str | Path,
        *,
        prefix: bytes = b"",
        suffix: str = "cr",
        device: str = "",
        inter_byte_timeout: float = 0.05,
        duplicate_window: float = 1.0,
        grace: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(link, grace=grace)
        self.prefix = prefix
        self.suffix = suffix
        self.device = device or str(link)
        self.inter_byte_timeout = inter_byte_timeout
        self.truth: list[Reading] = []
        self._dedupe = DuplicateFilter(duplicate_window)
        self._clock = clock
        self._sleep = sleep
        self._last: tuple[str, str] | None = None

    def frame(self, data: str, aim_id: str = "") -> bytes:
        """The frame this scanner's configuration sends for `data`."""
        return build_frame(data, aim_id=aim_id, prefix=self.prefix, suffix=self.suffix)

    def scan(self, data: str, aim_id: str = "") -> bool:
        """Send a valid scan; truth is a `Scan`, or a duplicate rejection if recently sent."""
        symbology = aim.identify(aim_id + data)[0].name if aim_id else "unknown"
        if not self.send(self.frame(data, aim_id)):
            return False
        self._last = (data, aim_id)
        if self._dedupe.is_duplicate(symbology, data, self._clock()):
            self._expect("duplicate", symbology)
        else:
            self.truth.append(Scan(symbology=symbology, data=data, device=self.device))
        return True

    def duplicate(self) -> bool:
        """Send the previous scan again at once (a double read)."""
        return self._last is not None and self.scan(*self._last)

    def half_frame(self, data: str, aim_id: str = "") -> bool:
        """Send part of a frame, then stall past the inter-byte timeout (a cut-off scan)."""
        frame = self.frame(data, aim_id)[: -len(SUFFIXES[self.suffix])]
        if not self.send(frame[: max(1, len(frame) // 2)]):
            return False
        self._sleep(self.inter_byte_timeout * 4)
        return self._expect("timeout")

    def bad_check_digit(self, body12: str = "400638133393") -> bool:
        """Send an EAN-13 with a wrong check digit."""
        sent = self.send(self.frame(with_bad_check_digit(body12), "]E0"))
        return sent and self._expect("check_digit", "ean13")

    def bad_gs1(self, gtin_body13: str = "0950110153000") -> bool:
        """Send a GS1-128 whose AI (01) GTIN has a wrong check digit."""
        data = "01" + with_bad_check_digit(gtin_body13) + "10" + "LOT7"
        return self.send(self.frame(data, "]C1")) and self._expect("check_digit", "gs1-128")

    def garbage(self, rng: random.Random, length: int = 8) -> bool:
        """Send a frame of line noise (with the prefix, so only its content is wrong)."""
        noise = bytes(rng.choice(GARBAGE_BYTES) for _ in range(max(1, length)))
        return self.send(self.prefix + noise + SUFFIXES[self.suffix]) and self._expect("garbage")

    def missing_prefix(self, data: str) -> bool:
        """Send a frame without the configured prefix (a second, misconfigured scanner)."""
        if not self.prefix:
            return self.scan(data)  # with no prefix configured, every frame "has" it
        return self.send(data.encode() + SUFFIXES[self.suffix]) and self._expect("prefix")

    def _expect(self, reason: str, detail: str = "") -> bool:
        """Record an expected rejection."""
        self.truth.append(Rejected(reason=reason, detail=detail, device=self.device))
        return True


def same_outcome(got: list[Reading], truth: list[Reading]) -> bool:
    """Compare parser output with emulator truth: scans exactly, rejections by reason."""
    if len(got) != len(truth):
        return False
    return all(outcome(g) == outcome(t) for g, t in zip(got, truth, strict=True))


def outcome(reading: Reading) -> tuple[str, ...]:
    """The comparable part of a reading (rejection details are free text)."""
    if isinstance(reading, Scan):
        return ("scan", reading.symbology, reading.data)
    if isinstance(reading, Rejected):
        return ("rejected", reading.reason)
    return (type(reading).__name__,)
