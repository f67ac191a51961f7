"""Capture loop: a camera, file or stream read in a thread into a bounded queue.

Live sources (a device index, an rtsp:// or http:// URL) drop the oldest queued frame
when analysis lags (a counter wants the newest picture, and a growing backlog only
adds latency) and count the drops. A video file is a finite recording: it is read
once, the reader blocking so every frame is analysed, and then the source ends
(`is_recording` tells which kind a source is).

A read that fails closes the source, reports `disconnected` and reopens it with
exponential backoff. A read that hangs (a dead RTSP peer can block OpenCV's read for
a long time) is caught by a watchdog: it abandons that reader thread, which exits
once its read returns, and starts a fresh one on a new capture.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from devices.readings import Status

log = logging.getLogger(__name__)

Source = int | str | Path


@dataclass(frozen=True)
class Frame:
    """One captured picture: its index in the source (drops included) and capture time."""

    index: int
    ts: float
    image: np.ndarray


def is_recording(source: Source) -> bool:
    """Whether `source` is a video file (finite) rather than a camera index or stream URL."""
    if isinstance(source, int):
        return False
    text = str(source)
    return not text.isdigit() and "://" not in text


def open_capture(source: Source, timeout_ms: int = 5000) -> Any | None:
    """Open a device index, file path or URL with OpenCV; None when it cannot be opened."""
    if isinstance(source, int) or (isinstance(source, str) and source.isdigit()):
        cap = cv2.VideoCapture(int(source))
    elif isinstance(source, str) and "://" in source:
        # Without these a dead network peer can block open/read for minutes.
        params = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
            timeout_ms,
            cv2.CAP_PROP_READ_TIMEOUT_MSEC,
            timeout_ms,
        ]
        cap = cv2.VideoCapture(source, cv2.CAP_FFMPEG, params)
    else:
        cap = cv2.VideoCapture(str(source))
    if not cap.isOpened():
        cap.release()
        return None
    return cap


class FrameSource:
    """Reads frames in a thread into a bounded queue; reopens the source when it fails."""

    END = None  # what get() returns once a read-once source is exhausted

    def __init__(
        self,
        source: Source,
        *,
        name: str = "camera",
        on_status: Callable[[Status], None] | None = None,
        queue_size: int = 4,
        drop: bool = True,
        read_once: bool = False,
        stall_timeout: float = 5.0,
        backoff: tuple[float, float] = (0.5, 30.0),
        pace_fps: float | None = None,
        opener: Callable[[Source], Any | None] = open_capture,
    ) -> None:
        self.source = source
        self.name = name
        self.drop = drop
        self.read_once = read_once
        self.stall_timeout = stall_timeout
        self.backoff = backoff
        self.pace = 1.0 / pace_fps if pace_fps else 0.0
        self.dropped = 0
        self.read = 0
        self.opens = 0
        self.ended = False
        self._on_status = on_status or (lambda s: None)
        self._opener = opener
        self._queue: queue.Queue[Frame | None] = queue.Queue(maxsize=queue_size)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._generation = 0
        self._last_frame = time.monotonic()
        self._connected = False
        self._last_status: tuple[str, str] | None = None
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start the reader (and, for live sources, the stall watchdog)."""
        self._spawn_reader()
        if not self.read_once:
            wd = threading.Thread(target=self._watchdog, name=f"{self.name}-watchdog", daemon=True)
            wd.start()
            self._threads.append(wd)

    def stop(self, timeout: float = 2.0) -> None:
        """Stop reading and release the source within `timeout` seconds."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        for t in list(self._threads):
            t.join(max(0.0, deadline - time.monotonic()))
            if t.is_alive():
                # Only a read hung inside OpenCV gets here; the thread is a daemon.
                log.warning("%s: %s did not stop within %.1fs", self.name, t.name, timeout)

    def get(self, timeout: float) -> Frame | None:
        """The next frame, or None on timeout or (check `ended`) at the end of a file."""
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        if item is None:
            self.ended = True
        return item

    @property
    def connected(self) -> bool:
        """Whether the source is open and delivering frames."""
        return self._connected

    def _spawn_reader(self) -> None:
        with self._lock:
            self._generation += 1
            gen = self._generation
        t = threading.Thread(
            target=self._read_loop, args=(gen,), name=f"{self.name}-reader-{gen}", daemon=True
        )
        self._threads = [x for x in self._threads if x.is_alive()]
        self._threads.append(t)
        t.start()

    def _current(self, gen: int) -> bool:
        return not self._stop.is_set() and gen == self._generation

    def _read_loop(self, gen: int) -> None:
        delay = self.backoff[0]
        while self._current(gen):
            cap = self._opener(self.source)
            if cap is None:
                self._status("error", f"cannot open {self.source}")
                if self.read_once:
                    self._finish()
                    return
                self._stop.wait(delay)
                delay = min(delay * 2, self.backoff[1])
                continue
            self.opens += 1
            self._last_frame = time.monotonic()
            self._connected = True
            self._status("connected", str(self.source))
            got = self._pump(cap, gen)
            cap.release()
            self._connected = False
            if not self._current(gen):
                return
            if self.read_once:
                self._status("disconnected", f"end of recording after {got} frames")
                self._finish()
                return
            self._status("disconnected", "read failed" if got else "no frames")
            if got:
                delay = self.backoff[0]
            self._stop.wait(delay)
            delay = min(delay * 2, self.backoff[1])

    def _pump(self, cap: Any, gen: int) -> int:
        got = 0
        next_at = time.monotonic()
        while self._current(gen):
            ok, image = cap.read()
            if not ok or gen != self._generation:
                return got
            got += 1
            self._last_frame = time.monotonic()
            self._offer(Frame(self.read, time.time(), image), gen)
            self.read += 1
            if self.pace:
                next_at += self.pace
                self._stop.wait(max(0.0, next_at - time.monotonic()))
        return got

    def _offer(self, frame: Frame, gen: int) -> None:
        if not self.drop:
            while self._current(gen):
                try:
                    self._queue.put(frame, timeout=0.1)
                    self._last_frame = time.monotonic()  # waiting on the consumer is no stall
                    return
                except queue.Full:
                    self._last_frame = time.monotonic()
            return
        try:
            self._queue.put_nowait(frame)
        except queue.Full:
            try:
                self._queue.get_nowait()  # drop the oldest: the newest picture matters
                self.dropped += 1
            except queue.Empty:
                pass
            try:
                self._queue.put_nowait(frame)
            except queue.Full:
                self.dropped += 1

    def _finish(self) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(self.END, timeout=0.1)
                return
            except queue.Full:
                continue

    def _watchdog(self) -> None:
        while not self._stop.wait(min(0.25, self.stall_timeout / 4)):
            stalled = time.monotonic() - self._last_frame > self.stall_timeout
            if self._connected and stalled:
                self._connected = False
                self._status("error", f"no frame for {self.stall_timeout:.1f}s: reopening")
                self._spawn_reader()

    def _status(self, state: str, detail: str) -> None:
        if self._last_status == (state, detail):
            return
        self._last_status = (state, detail)
        log.info("%s: %s %s", self.name, state, detail)
        try:
            self._on_status(Status(state=state, detail=detail, device=self.name, ts=time.time()))
        except Exception:  # a failing sink must not kill capture
            log.exception("%s: status sink failed", self.name)
