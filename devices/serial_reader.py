"""`SerialReader`: the thin shell that owns one serial port (a `Component`).

A thread opens the port exclusively, feeds what it reads to a fresh `StreamParser`
per connection (a half frame must not survive a replug), calls ``poll`` between reads
for inter-byte timeouts, passes readings through an optional post-processing step
(`DeltaTracker.process` for counters) and hands them, stamped, to the sink.

Unplugs and open failures never end the thread: it reconnects with exponential
backoff (`backoff_min` → `backoff_max`), emitting ``Status`` readings — ``connected``,
``disconnected`` and ``error`` — and logging an error only when its text changes, so
a sensor left unplugged all weekend writes one line, not thousands.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable

import serial

from devices.protocol import ReadingSink, StreamParser
from devices.readings import Reading, Status, stamp
from devices.serial_port import PortError, open_exclusive, resolve_port

log = logging.getLogger(__name__)

PostProcess = Callable[[Reading], list[Reading]]


class SerialReader:
    """Reads one serial port into readings, reconnecting forever until stopped."""

    def __init__(
        self,
        port: str,
        parser_factory: Callable[[], StreamParser],
        on_reading: ReadingSink,
        *,
        baudrate: int = 115200,
        process: PostProcess | None = None,
        allow_unstable_name: bool = False,
        backoff_min: float = 0.2,
        backoff_max: float = 5.0,
        read_timeout: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.port = port
        self.parser_factory = parser_factory
        self.on_reading = on_reading
        self.baudrate = baudrate
        self.process = process
        self.allow_unstable_name = allow_unstable_name
        self.backoff_min = backoff_min
        self.backoff_max = backoff_max
        self.read_timeout = read_timeout
        self.clock = clock
        self.wall_clock = wall_clock
        self.connects = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._serial: serial.Serial | None = None
        self._lock = threading.Lock()
        self._last_error = ""

    @property
    def connected(self) -> bool:
        """Whether the port is open right now."""
        return self._serial is not None

    @property
    def alive(self) -> bool:
        """Whether the worker thread runs (the supervisor restarts the component otherwise)."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the reading thread."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"serial-reader {self.port}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop reading and close the port within `timeout` seconds."""
        self._stop.set()
        with self._lock:
            if self._serial is not None:
                with contextlib.suppress(OSError, serial.SerialException):
                    self._serial.cancel_read()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("serial reader for %s did not stop within %.1fs", self.port, timeout)
            self._thread = None

    def send(self, data: bytes) -> bool:
        """Write `data` to the device (e.g. a reset command); False if not connected."""
        with self._lock:
            port = self._serial
            if port is None:
                return False
            try:
                port.write(data)
                port.flush()
            except (OSError, serial.SerialException) as exc:
                log.warning("write to %s failed: %s", self.port, exc)
                return False
            return True

    # The thread -------------------------------------------------------------------
    def _run(self) -> None:
        backoff = self.backoff_min
        while not self._stop.is_set():
            healthy = False
            try:
                healthy = self._connection()
            except Exception as exc:  # a bug in a parser or sink must not end the reader
                log.exception("serial reader for %s failed", self.port)
                self._emit_status("error", f"internal error: {exc!r}")
            if self._stop.is_set():
                break
            backoff = self.backoff_min if healthy else min(backoff * 2, self.backoff_max)
            self._stop.wait(backoff)

    def _connection(self) -> bool:
        """One connection's lifetime; True if it delivered bytes (resets the backoff)."""
        try:
            path = resolve_port(self.port, allow_unstable_name=self.allow_unstable_name)
            port = open_exclusive(path, baudrate=self.baudrate, timeout=self.read_timeout)
        except (PortError, serial.SerialException, OSError) as exc:
            self._report_error(str(exc))
            return False
        with self._lock:
            self._serial = port
        self.connects += 1
        self._last_error = ""
        log.info("serial port %s open (%s)", self.port, path)
        self._emit_status("connected", path)
        parser = self.parser_factory()
        got_bytes = False
        try:
            while not self._stop.is_set():
                data = port.read(port.in_waiting or 1)
                now = self.clock()
                if data:
                    got_bytes = True
                    self._emit_all(parser.feed(data, now))
                self._emit_all(parser.poll(now))
        except (serial.SerialException, OSError) as exc:
            if not self._stop.is_set():
                detail = str(exc) or exc.__class__.__name__
                log.warning("serial port %s lost: %s", self.port, detail)
                self._last_error = detail
                self._emit_status("disconnected", detail)
        finally:
            with self._lock:
                self._serial = None
            with contextlib.suppress(OSError, serial.SerialException):
                port.close()
            # A frame cut off by the unplug is reported (as a timeout), never silently lost.
            self._emit_all(parser.poll(self.clock() + 3600.0))
        return got_bytes

    def _report_error(self, detail: str) -> None:
        if detail == self._last_error:
            log.debug("serial port %s still failing: %s", self.port, detail)
            return
        self._last_error = detail
        log.warning("serial port %s: %s", self.port, detail)
        self._emit_status("error", detail)

    def _emit_status(self, state: str, detail: str) -> None:
        # Through `process` too: a delta tracker must know the sensor went unheard.
        self._emit_all([Status(state=state, detail=detail, device=self.port)])  # type: ignore[arg-type]

    def _emit_all(self, readings: list[Reading]) -> None:
        for reading in readings:
            if self.process is None:
                self._deliver(reading)
            else:
                for out in self.process(reading):
                    self._deliver(out)

    def _deliver(self, reading: Reading) -> None:
        try:
            self.on_reading(stamp(reading, self.wall_clock()))
        except Exception:
            log.exception("reading sink for %s failed on %r", self.port, reading)
