"""The kiosk's own scanner: a serial reader thread that posts each scan to the app.

The reader (`devices.serial_reader.SerialReader`, reconnecting, exclusive open) owns
the port; this sink turns its readings into `ScanRead` messages. Classification,
pseudonymisation and look-ups happen in the app's scan worker, so this thread never
waits on SQLite or head office. Rejected frames are counted and logged by reason,
never with their data (it may be a loyalty number).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable

from devices.readings import Reading, Rejected, Scan, Status
from devices.scanners.serial_scanner import ScannerParser
from devices.serial_reader import SerialReader
from edge.config import SerialScanner
from kiosk.messages import ScanRead

log = logging.getLogger(__name__)


class KioskScanner:
    """Start/stop component: the configured serial scanner, posting `ScanRead` messages."""

    def __init__(self, dev: SerialScanner, post: Callable[[ScanRead], object]) -> None:
        self.dev = dev
        self.post = post
        self.rejected: Counter[str] = Counter()
        self.reader = SerialReader(
            dev.port,
            lambda: ScannerParser(
                prefix=dev.prefix.encode(),
                suffix=dev.suffix,
                duplicate_window=dev.duplicate_window_ms / 1000,
                device=dev.name,
            ),
            self._on_reading,
            baudrate=dev.baudrate,
        )

    def _on_reading(self, reading: Reading) -> None:
        if isinstance(reading, Scan):
            self.post(ScanRead(reading.data, reading.symbology, time.monotonic()))
        elif isinstance(reading, Rejected):
            self.rejected[reading.reason] += 1
            log.warning(
                "kiosk scanner: refused a frame (%s), %d so far",
                reading.reason,
                self.rejected[reading.reason],
            )
        elif isinstance(reading, Status):
            log.info("kiosk scanner %s: %s %s", self.dev.name, reading.state, reading.detail)

    def start(self) -> None:
        """Open the port in the reader thread (reconnecting while it is missing)."""
        self.reader.start()

    def stop(self) -> None:
        """Close the port and stop the thread."""
        self.reader.stop()
