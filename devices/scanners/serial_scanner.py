"""Barcode/QR scanners in USB-CDC (virtual COM port) mode: bytes → `Scan` readings.

Frame layout, as configured on the scanner (docs/devices.md, "Scanners")::

    [prefix] [AIM id "]cm"] data [suffix]

- prefix: optional fixed bytes set on the scanner (often empty);
- AIM id: optional ISO/IEC 15424 symbology identifier (`devices.scanners.aim`);
- data: the decoded text; GS1 symbols carry FNC1 as GS (0x1D);
- suffix: CR, LF or CRLF, the only frame delimiter a scanner gives us.

A frame whose bytes stop arriving for longer than the inter-byte timeout is a half
frame (cable pulled, scanner reset) and is dropped, so its tail cannot merge with the
next scan. Every refused frame becomes a `Rejected` reading; this module never raises
on input. Rejected details never contain the scanned data: it may be a loyalty number.
"""

from __future__ import annotations

from devices.readings import Reading, Rejected, Scan
from devices.scanners import aim
from devices.scanners.checkdigits import gs1_check_errors, gtin_valid, mod10_valid, upce_valid
from devices.scanners.dedupe import DuplicateFilter

SUFFIXES: dict[str, bytes] = {"cr": b"\r", "lf": b"\n", "crlf": b"\r\n"}
MAX_FRAME = 4096
_LINE_ENDS = b"\r\n"
# Control characters a scanner legitimately sends inside data: TAB, CR/LF inside
# multi-line QR text, and ISO/IEC 15434 envelopes (EOT, FS, GS, RS).
_ALLOWED_CONTROLS = frozenset("\t\r\n\x04\x1c\x1d\x1e")


class ScannerParser:
    """Stream parser for one USB-CDC scanner (implements `devices.protocol.StreamParser`)."""

    def __init__(
        self,
        *,
        prefix: bytes = b"",
        suffix: str = "cr",
        inter_byte_timeout: float = 0.05,
        duplicate_window: float = 1.0,
        device: str = "",
    ) -> None:
        if suffix not in SUFFIXES:
            raise ValueError(f"suffix must be one of {', '.join(SUFFIXES)}, not {suffix!r}")
        self.prefix = bytes(prefix)
        self.suffix = suffix
        self.inter_byte_timeout = float(inter_byte_timeout)
        self.device = device
        self._terminator = SUFFIXES[suffix]
        self._dedupe = DuplicateFilter(duplicate_window)
        self._buf = bytearray()
        self._last_byte = 0.0
        # After an overflow, bytes up to the next terminator belong to the refused frame.
        self._discarding = False
        self.scans = 0
        self.rejected: dict[str, int] = {}

    @property
    def duplicates(self) -> int:
        """How many scans were suppressed as duplicates so far."""
        return self._dedupe.duplicates

    def feed(self, data: bytes, now: float) -> list[Reading]:
        """Consume bytes received at monotonic `now`; return the readings they complete."""
        out = self.poll(now)
        if not data:
            return out
        self._last_byte = now
        self._buf += data
        term = self._terminator
        start = 0
        while True:
            end = self._buf.find(term, start)
            if end < 0:
                break
            frame = bytes(self._buf[start:end])
            start = end + len(term)
            if self._discarding:
                self._discarding = False
                continue
            reading = self._frame(frame, now)
            if reading is not None:
                out.append(reading)
        del self._buf[:start]
        if len(self._buf) > MAX_FRAME:
            # Keep the last byte of a split CRLF so the terminator can still be matched.
            keep = 1 if self._buf.endswith(term[:1]) and len(term) > 1 else 0
            if not self._discarding:
                out.append(self._reject("overflow", f"no suffix within {MAX_FRAME} bytes"))
            self._discarding = True
            self._buf = self._buf[len(self._buf) - keep :]
        return out

    def poll(self, now: float) -> list[Reading]:
        """Drop a half-received frame once no byte has arrived for the inter-byte timeout."""
        if not self._buf or now - self._last_byte <= self.inter_byte_timeout:
            return []
        partial = bytes(self._buf)
        self._buf.clear()
        if self._discarding:
            self._discarding = False
            return []
        if not partial.strip(_LINE_ENDS):
            # A stray CR/LF (a scanner sending CRLF while we expect CR) is no frame.
            return []
        return [self._reject("timeout", f"{len(partial)} bytes without suffix")]

    def _frame(self, frame: bytes, now: float) -> Reading | None:
        """Turn one complete frame (suffix removed) into a reading, or None if empty."""
        # Tolerate the other line-end byte of a misconfigured suffix at either edge.
        frame = frame.strip(_LINE_ENDS)
        if not frame:
            return None
        if len(frame) > MAX_FRAME:
            return self._reject("overflow", f"{len(frame)} bytes in one frame")
        if self.prefix:
            if not frame.startswith(self.prefix):
                return self._reject("prefix", f"{len(frame)} bytes without the prefix")
            frame = frame[len(self.prefix) :]
        try:
            text = frame.decode("utf-8")
        except UnicodeDecodeError:
            return self._reject("garbage", "not UTF-8")
        if not text or any(_is_bad_char(ch) for ch in text):
            return self._reject("garbage", "control characters")
        symbology, data = aim.identify(text)
        if not data:
            return self._reject("garbage", f"{symbology.name}: no data after the AIM id")
        problem = check_problem(symbology, data)
        if problem:
            return self._reject("check_digit", f"{symbology.name}: {problem}")
        if self._dedupe.is_duplicate(symbology.name, data, now):
            return self._reject("duplicate", symbology.name)
        self.scans += 1
        return Scan(symbology=symbology.name, data=data, device=self.device)

    def _reject(self, reason: str, detail: str) -> Rejected:
        """Count and build a rejection (reasons are counted so nothing vanishes silently)."""
        self.rejected[reason] = self.rejected.get(reason, 0) + 1
        return Rejected(reason=reason, detail=detail, device=self.device)


def check_problem(symbology: aim.Symbology, data: str) -> str:
    """Why `data` fails its symbology's check digits, or "" when it passes or has none."""
    if symbology.check == "ean8":
        if len(data) != 8:
            return f"length {len(data)}"
        return "" if gtin_valid(data) else _digit_problem(data)
    if symbology.check == "upc":
        return _upc_problem(data)
    if symbology.check == "mod10":
        return "" if mod10_valid(data) else _digit_problem(data)
    if symbology.check == "gs1":
        return "; ".join(gs1_check_errors(data))
    return ""


def _upc_problem(data: str) -> str:
    """Check an EAN/UPC main symbol, with or without a 2- or 5-digit add-on."""
    if not (data.isascii() and data.isdigit()):
        return "not digits"
    # Main symbol lengths by total: EAN-13/UPC-A, UPC-E, or either followed by an add-on.
    main_len = {13: 13, 12: 12, 8: 8, 15: 13, 18: 13, 14: 12, 17: 12}.get(len(data))
    if main_len is None:
        return f"length {len(data)}"
    main = data[:main_len]
    ok = upce_valid(main) if main_len == 8 else gtin_valid(main)
    return "" if ok else "check digit"


def _digit_problem(data: str) -> str:
    """Name what is wrong with a number that failed its mod-10 check."""
    if not (data.isascii() and data.isdigit()):
        return "not digits"
    return "check digit"


def _is_bad_char(ch: str) -> bool:
    """True for characters no scanner sends as data (line noise, NUL, DEL, C1 controls)."""
    code = ord(ch)
    if code < 0x20 or code == 0x7F:
        return ch not in _ALLOWED_CONTROLS
    return 0x80 <= code < 0xA0 or code == 0xFFFD
