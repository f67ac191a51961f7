"""Camera QR scanner: frames from `cv2.VideoCapture` → the same `Scan` readings as a serial scanner.

`QrDecoder` is pure (a numpy frame and a monotonic time in, readings out).
`CameraQrScanner` is the component: it owns the capture (device index, file or URL)
in a thread, reopens it with backoff when it fails, and reports `Status` changes.

A code held in view is seen in every frame; `DuplicateFilter` (shared with the serial
scanner) turns that into one scan. Those repeat sightings are counted in
`QrDecoder.duplicates` but, unlike the serial scanner's repeats, are not emitted as
`Rejected` readings by default: at 30 frames/s they would flood the sink.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from devices.protocol import ReadingSink
from devices.readings import Reading, Rejected, Scan, Status, stamp
from devices.scanners.dedupe import DuplicateFilter

log = logging.getLogger(__name__)


class QrDecoder:
    """Finds and decodes every QR code in a frame; suppresses repeats within the window."""

    def __init__(
        self,
        *,
        duplicate_window: float = 1.0,
        device: str = "",
        detector: str = "aruco",
        report_duplicates: bool = False,
    ) -> None:
        if detector not in ("aruco", "classic"):
            raise ValueError(f"detector must be 'aruco' or 'classic', not {detector!r}")
        # The ArUco-based detector is several times faster and finds more codes per frame.
        self._detector = cv2.QRCodeDetectorAruco() if detector == "aruco" else cv2.QRCodeDetector()
        self._dedupe = DuplicateFilter(duplicate_window)
        self.device = device
        self.report_duplicates = report_duplicates
        self.frames = 0
        self.scans = 0
        self.errors = 0

    @property
    def duplicates(self) -> int:
        """Sightings suppressed because the same code was seen within the window."""
        return self._dedupe.duplicates

    def decode(self, frame: Any, now: float) -> list[Reading]:
        """Decode the QR codes in `frame` (BGR or grey) seen at monotonic `now`."""
        self.frames += 1
        try:
            payloads = self._payloads(frame)
        except (cv2.error, ValueError, TypeError) as exc:
            self.errors += 1
            return [Rejected(reason="decode_error", detail=str(exc)[:200], device=self.device)]
        out: list[Reading] = []
        for data in payloads:
            if self._dedupe.is_duplicate("qr", data, now):
                if self.report_duplicates:
                    out.append(Rejected(reason="duplicate", detail="qr", device=self.device))
                continue
            self.scans += 1
            out.append(Scan(symbology="qr", data=data, device=self.device))
        return out

    def _payloads(self, frame: Any) -> list[str]:
        """Distinct decoded texts in the frame, in detection order (undecodable codes skipped)."""
        if not isinstance(frame, np.ndarray) or frame.size == 0 or min(frame.shape[:2]) < 21:
            return []  # smaller than one QR version-1 symbol: nothing to find
        if frame.ndim == 3:
            # Detection works on intensity; converting once saves the detector doing it.
            code = cv2.COLOR_BGRA2GRAY if frame.shape[2] == 4 else cv2.COLOR_BGR2GRAY
            frame = cv2.cvtColor(frame, code)
        ok, raw = self._detector.detectAndDecodeBytesMulti(frame)[:2]
        if not ok:
            return []
        texts: list[str] = []
        for item in raw:
            text = _text(bytes(item))
            if text and text not in texts:
                texts.append(text)
        return texts


def _text(payload: bytes) -> str:
    """QR payload bytes as text: UTF-8 in practice, ISO-8859-1 by the QR default."""
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        return payload.decode("latin-1")


def _source_kind(source: int | str) -> str:
    """Classify a capture source: "device" (index), "url" or "file"."""
    if isinstance(source, int) or (isinstance(source, str) and source.isdigit()):
        return "device"
    return "url" if "://" in source else "file"


class CameraQrScanner:
    """Component reading a camera, video file or stream URL and emitting `Scan` readings."""

    def __init__(
        self,
        source: int | str,
        on_reading: ReadingSink,
        *,
        device: str = "",
        duplicate_window: float = 1.0,
        detector: str = "aruco",
        decode_every: int = 1,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        io_timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.source = source
        self.kind = _source_kind(source)
        self.device = device or f"camera:{source}"
        self.decoder = QrDecoder(
            duplicate_window=duplicate_window, device=self.device, detector=detector
        )
        self._sink = on_reading
        self._decode_every = max(1, int(decode_every))
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._io_timeout_ms = int(io_timeout * 1000)
        self._clock = clock
        self._wall_clock = wall_clock
        self._stop = threading.Event()
        self._finished = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_status: tuple[str, str] | None = None
        self._lock = threading.Lock()

    @property
    def alive(self) -> bool:
        """Whether it works; a video file read to its end counts as done, not dead."""
        if self.kind == "file" and self._finished.is_set():
            return True  # restarting would read the recording (and its codes) again
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the capture thread (opening the source happens there, with backoff)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._finished.clear()
        self._thread = threading.Thread(target=self._run, name=f"qr-{self.device}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop within `timeout`; a capture stuck in a driver call is abandoned, not waited on."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                log.warning(
                    "camera %s: capture thread did not stop in %.1f s", self.device, timeout
                )
        self._status("disconnected", "stopped")

    def wait_finished(self, timeout: float) -> bool:
        """Wait until a file source reaches its end (or the thread ends); True if it did."""
        return self._finished.wait(timeout)

    def _run(self) -> None:
        """Open, read and decode until stopped; reopen with exponential backoff on failure."""
        backoff = self._backoff_initial
        try:
            while not self._stop.is_set():
                cap = self._open()
                if cap is None:
                    self._status("error", f"cannot open {self.source}")
                else:
                    self._status("connected", f"{self.kind} {self.source}")
                    got_frames = self._read_until_failure(cap)
                    cap.release()
                    if self._stop.is_set():
                        break
                    if self.kind == "file":
                        self._status("disconnected", "end of file")
                        return
                    self._status("disconnected", "no frame from capture")
                    if got_frames:
                        backoff = self._backoff_initial
                if self._stop.wait(backoff):
                    break
                backoff = min(backoff * 2, self._backoff_max)
        except Exception as exc:  # report, don't die silently: the supervisor restarts us
            log.exception("camera %s: capture thread failed", self.device)
            self._status("error", f"{type(exc).__name__}: {exc}")
        finally:
            self._finished.set()

    def _open(self) -> Any:
        """Open the capture, or None; URLs get open/read timeouts so a dead stream can't hang us."""
        if self.kind == "device":
            cap = cv2.VideoCapture(int(self.source))
            # Keep only the newest frame: decoding a stale queue would lag behind the shopper.
            cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        elif self.kind == "url":
            params = [
                cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
                self._io_timeout_ms,
                cv2.CAP_PROP_READ_TIMEOUT_MSEC,
                self._io_timeout_ms,
            ]
            cap = cv2.VideoCapture(str(self.source), cv2.CAP_FFMPEG, params)
        else:
            if not Path(str(self.source)).is_file():
                return None
            cap = cv2.VideoCapture(str(self.source))
        if not cap.isOpened():
            cap.release()
            return None
        return cap

    def _read_until_failure(self, cap: Any) -> bool:
        """Read and decode frames until the capture fails or we are stopped; True if any frame."""
        got = False
        n = 0
        while not self._stop.is_set():
            if n % self._decode_every:
                # Skipped frames are grabbed, not decoded, so a live camera's queue keeps moving.
                if not cap.grab():
                    break
                n += 1
                continue
            ok, frame = cap.read()
            if not ok:
                break
            got = True
            n += 1
            for reading in self.decoder.decode(frame, self._clock()):
                self._emit(reading)
        return got

    def _status(self, state: str, detail: str) -> None:
        """Emit a `Status` only when it changes, so a dead camera doesn't flood the sink."""
        with self._lock:
            if self._last_status == (state, detail):
                return
            self._last_status = (state, detail)
        log.info("camera %s: %s %s", self.device, state, detail)
        self._emit(Status(state=state, detail=detail, device=self.device))  # type: ignore[arg-type]

    def _emit(self, reading: Reading) -> None:
        """Stamp with wall-clock time and hand to the sink."""
        self._sink(stamp(reading, self._wall_clock()))
