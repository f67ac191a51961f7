"""CameraCounter as the edge agent runs it: a video file in, Crossing readings out."""

from __future__ import annotations

import functools
import time

from devices.camera.capture import FrameSource
from devices.camera.counter import CameraCounter, CameraSettings
from devices.readings import Crossing, Status


def test_counter_emits_crossings_and_status_for_its_sensor(clips) -> None:
    truth = clips("single")
    readings = []
    settings = CameraSettings(source=truth["video"], line=tuple(truth["line"]), sensor="door-cam")
    # Read the file once, without drops, so the counts are exact (a live camera drops).
    factory = functools.partial(FrameSource, read_once=True, drop=False)
    counter = CameraCounter(settings, readings.append, source_factory=factory)
    counter.start()
    deadline = time.monotonic() + 30
    while not counter.source.ended and time.monotonic() < deadline:
        time.sleep(0.05)
    counter.stop(2.0)
    crossings = [r for r in readings if isinstance(r, Crossing)]
    assert sum(c.direction == "in" for c in crossings) == truth["in"]
    assert sum(c.direction == "out" for c in crossings) == truth["out"]
    assert all(c.sensor == "door-cam" and c.count == 1 and c.ts for c in crossings)
    assert any(isinstance(r, Status) and r.state == "connected" for r in readings)


def test_frame_size_maps_the_line_from_another_resolution(clips) -> None:
    truth = clips("single")
    x1, y1, x2, y2 = truth["line"]
    readings = []
    settings = CameraSettings(
        source=truth["video"], line=(x1 * 4, y1 * 4, x2 * 4, y2 * 4), frame_size=(640, 480)
    )
    factory = functools.partial(FrameSource, read_once=True, drop=False)
    counter = CameraCounter(settings, readings.append, source_factory=factory)
    counter.start()
    deadline = time.monotonic() + 30
    while not counter.source.ended and time.monotonic() < deadline:
        time.sleep(0.05)
    counter.stop(2.0)
    assert sum(isinstance(r, Crossing) for r in readings) == truth["in"] + truth["out"]
