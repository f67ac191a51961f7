"""CameraCounter as the edge agent runs it: a video file in, Crossing readings out."""

from __future__ import annotations

import time
from pathlib import Path

from devices.camera.counter import CameraCounter, CameraSettings
from devices.readings import Crossing, Status


def _run_to_end(counter: CameraCounter, limit: float = 30.0) -> None:
    counter.start()
    deadline = time.monotonic() + limit
    while counter.alive and not counter.finished and time.monotonic() < deadline:
        time.sleep(0.05)
    counter.stop(2.0)


def test_a_recording_is_counted_once_every_frame_and_then_rests(clips) -> None:
    truth = clips("single")
    readings = []
    settings = CameraSettings(source=truth["video"], line=tuple(truth["line"]), sensor="door-cam")
    counter = CameraCounter(settings, readings.append)
    _run_to_end(counter)
    crossings = [r for r in readings if isinstance(r, Crossing)]
    assert sum(c.direction == "in" for c in crossings) == truth["in"]
    assert sum(c.direction == "out" for c in crossings) == truth["out"]
    assert all(c.sensor == "door-cam" and c.count == 1 and c.ts for c in crossings)
    assert any(isinstance(r, Status) and r.state == "connected" for r in readings)
    # Read once, nothing dropped; done, and healthy (a restart would count it again).
    assert counter.source.read == truth["frames"] and counter.source.dropped == 0
    assert counter.source.opens == 1
    assert counter.finished and counter.alive


def test_frame_size_maps_the_line_from_another_resolution(clips) -> None:
    truth = clips("single")
    x1, y1, x2, y2 = truth["line"]
    readings = []
    settings = CameraSettings(
        source=truth["video"], line=(x1 * 4, y1 * 4, x2 * 4, y2 * 4), frame_size=(640, 480)
    )
    _run_to_end(CameraCounter(settings, readings.append))
    assert sum(isinstance(r, Crossing) for r in readings) == truth["in"] + truth["out"]


def test_a_missing_recording_is_a_failure_not_a_finished_count(tmp_path: Path) -> None:
    readings = []
    settings = CameraSettings(source=str(tmp_path / "gone.avi"), line=(0, 60, 159, 60))
    counter = CameraCounter(settings, readings.append)
    _run_to_end(counter, limit=5.0)
    assert not counter.finished and not counter.alive  # the supervisor retries it
    assert any(isinstance(r, Status) and r.state == "error" for r in readings)


def test_live_sources_drop_and_reconnect_files_do_not() -> None:
    def factory(source, **kw):
        seen.append(kw)
        return _Idle()

    seen: list[dict] = []
    for source in (0, "2", "rtsp://cam/stream", "/videos/door.avi"):
        CameraCounter(
            CameraSettings(source=source, line=(0, 1, 9, 1)), print, source_factory=factory
        )
    assert [(k["read_once"], k["drop"]) for k in seen] == [
        (False, True),
        (False, True),
        (False, True),
        (True, False),
    ]
    CameraCounter(
        CameraSettings(source="/videos/door.avi", line=(0, 1, 9, 1), read_once_files=False),
        print,
        source_factory=factory,
    )
    assert (seen[-1]["read_once"], seen[-1]["drop"]) == (False, True)


class _Idle:
    """A frame source that is never started (only the choice of mode is under test)."""
