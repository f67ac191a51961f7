"""`CameraCounter`: the component the edge agent runs, capture → analysis → readings.

It owns two threads: the capture reader (`capture.FrameSource`) and an analysis
worker that turns frames into `Crossing` readings. Capture status (connected,
disconnected, error) is passed on as `Status` readings named after the sensor.

A live camera or stream drops frames when analysis lags and is reopened when it
fails. A video file (a recording replayed through the agent, as in tests and demos)
is counted once, every frame, and the counter then stays idle: reopening it would
count the same people again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from devices.camera.analysis import CountingConfig, LineCounter, to_crossing
from devices.camera.capture import FrameSource, Source, is_recording
from devices.protocol import ReadingSink
from devices.readings import Status, stamp

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CameraSettings:
    """What a store config says about one camera counter."""

    source: Source  # device index, file path or rtsp:// / http:// URL
    line: tuple[float, float, float, float]  # X1,Y1,X2,Y2 in `frame_size` pixels
    sensor: str = "camera"
    in_side: Literal["left", "right"] = "right"
    min_area: float | None = None  # single-person blob area range, `frame_size` pixels
    max_area: float | None = None
    frame_size: tuple[int, int] | None = None  # coordinate system of line/areas; None: native
    stall_timeout: float = 5.0
    read_once_files: bool = True  # a video file is counted once, without drops, then ends

    def counting(self) -> CountingConfig:
        """The analysis settings these imply (validates them)."""
        return CountingConfig(
            line=self.line,
            in_side=self.in_side,
            min_area=self.min_area,
            max_area=self.max_area,
            frame_size=self.frame_size,
        )


class CameraCounter:
    """Overhead camera door counter: a `devices.protocol.Component`."""

    def __init__(
        self,
        settings: CameraSettings,
        on_reading: ReadingSink,
        *,
        source_factory: Callable[..., FrameSource] = FrameSource,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.counter = LineCounter(settings.counting())
        self._sink = on_reading
        self._clock = clock
        once = settings.read_once_files and is_recording(settings.source)
        self.source = source_factory(
            settings.source,
            name=settings.sensor,
            on_status=self._emit,
            stall_timeout=settings.stall_timeout,
            read_once=once,
            drop=not once,
        )
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self.finished = False  # a recording was counted to its end

    @property
    def alive(self) -> bool:
        """Counting, or done with a recording (the supervisor must not restart it)."""
        worker = self._worker
        return self.finished or (worker is not None and worker.is_alive())

    def start(self) -> None:
        """Open the camera and start counting in the background."""
        self.source.start()
        self._worker = threading.Thread(
            target=self._run, name=f"{self.settings.sensor}-analysis", daemon=True
        )
        self._worker.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop capture and analysis within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        self._stop.set()
        if self._worker is not None:
            self._worker.join(max(0.0, deadline - time.monotonic()))
        self.source.stop(max(0.0, deadline - time.monotonic()))

    def _run(self) -> None:
        while not self._stop.is_set():
            frame = self.source.get(timeout=0.2)
            if frame is None:
                if self.source.ended:
                    break
                continue
            try:
                events = self.counter.process(frame.image)
            except Exception as exc:  # a bad frame is reported, never fatal
                log.exception("%s: analysis failed", self.settings.sensor)
                self._emit(
                    Status(state="degraded", detail=f"analysis: {exc}", device=self.settings.sensor)
                )
                continue
            for e in events:
                self._emit(stamp(to_crossing(e, self.settings.sensor), self._clock()))
        for e in self.counter.finish():
            self._emit(stamp(to_crossing(e, self.settings.sensor), self._clock()))
        # A recording that never opened is a failure to retry, not a finished count.
        self.finished = self.source.ended and self.source.opens > 0

    def _emit(self, reading) -> None:
        try:
            self._sink(reading)
        except Exception:
            log.exception("%s: reading sink failed", self.settings.sensor)
