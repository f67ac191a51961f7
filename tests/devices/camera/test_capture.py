"""The capture loop on real video files: drops under a slow consumer, reopening, stop."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import numpy as np

from devices.camera.capture import FrameSource, is_recording, open_capture
from devices.readings import Status


def _drain(source: FrameSource, delay: float = 0.0, limit: float = 20.0) -> list:
    got, deadline = [], time.monotonic() + limit
    while time.monotonic() < deadline:
        frame = source.get(timeout=0.5)
        if frame is None:
            if source.ended:
                break
            continue
        got.append(frame.index)
        time.sleep(delay)
    return got


def _wait_for(pred, limit: float = 10.0) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.02)
    return False


def test_a_slow_consumer_makes_the_loop_drop_and_count_frames(clips) -> None:
    truth = clips("single")
    source = FrameSource(truth["video"], queue_size=2, drop=True, read_once=True)
    source.start()
    try:
        got = _drain(source, delay=0.01)
    finally:
        source.stop(2.0)
    assert source.read == truth["frames"]
    assert source.dropped > 0
    assert len(got) + source.dropped == source.read
    assert got == sorted(got)  # what survives is in order, newest kept


def test_a_file_is_read_whole_when_dropping_is_off(clips) -> None:
    truth = clips("single")
    source = FrameSource(truth["video"], queue_size=2, drop=False, read_once=True)
    source.start()
    try:
        got = _drain(source, delay=0.001)
    finally:
        source.stop(2.0)
    assert got == list(range(truth["frames"]))
    assert source.dropped == 0


def test_the_watchdog_reopens_a_source_that_appears_later(clips, tmp_path: Path) -> None:
    truth = clips("uturn")
    path = tmp_path / "camera.avi"
    statuses: list[Status] = []
    source = FrameSource(path, on_status=statuses.append, backoff=(0.05, 0.2))
    source.start()
    try:
        assert _wait_for(lambda: any(s.state == "error" for s in statuses))
        assert source.get(timeout=0.2) is None
        shutil.copy(truth["video"], path)
        assert _wait_for(lambda: source.get(timeout=0.1) is not None)
        assert any(s.state == "connected" for s in statuses)
        # At the end of the file the read fails: it is reported and the source reopened.
        assert _wait_for(lambda: source.opens >= 2, limit=20.0)
        assert any(s.state == "disconnected" for s in statuses)
    finally:
        source.stop(2.0)


class _HangingCapture:
    """A network camera that delivers a few frames and then blocks in read()."""

    def __init__(self, frames: int, release: threading.Event) -> None:
        self.left = frames
        self.unblock = release

    def read(self):
        if self.left > 0:
            self.left -= 1
            return True, np.zeros((120, 160, 3), np.uint8)
        self.unblock.wait(10.0)
        return False, None

    def release(self) -> None:
        pass


def test_the_watchdog_replaces_a_reader_stuck_in_read() -> None:
    # A hung RTSP read cannot be produced on demand here, so this one source is a fake.
    unblock = threading.Event()
    opened: list[_HangingCapture] = []

    def opener(_source):
        opened.append(_HangingCapture(3, unblock))
        return opened[-1]

    statuses: list[Status] = []
    source = FrameSource("rtsp://cam", on_status=statuses.append, stall_timeout=0.3, opener=opener)
    source.start()
    try:
        # The second reader is opened before it reads its frames: wait for both.
        assert _wait_for(lambda: len(opened) >= 2 and source.read >= 6, limit=5.0)
        assert any(s.state == "error" and "no frame" in s.detail for s in statuses)
    finally:
        started = time.monotonic()
        source.stop(1.0)
        unblock.set()
    assert time.monotonic() - started < 1.5


def test_stop_returns_within_its_deadline_while_reading(clips) -> None:
    truth = clips("single")
    source = FrameSource(truth["video"], drop=False, queue_size=1)
    source.start()
    time.sleep(0.2)
    started = time.monotonic()
    source.stop(1.0)
    assert time.monotonic() - started < 1.2


def test_open_capture_returns_none_for_a_missing_file(tmp_path: Path) -> None:
    assert open_capture(tmp_path / "missing.avi") is None


def test_files_are_recordings_and_devices_and_urls_are_live(tmp_path: Path) -> None:
    assert is_recording(tmp_path / "door.avi") and is_recording("door.mp4")
    assert not is_recording(0) and not is_recording("1")
    assert not is_recording("rtsp://10.0.0.5/stream1") and not is_recording("http://cam/mjpg")
