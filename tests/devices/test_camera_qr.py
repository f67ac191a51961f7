"""Camera QR scanner: QrDecoder on generated frames, CameraQrScanner on generated video files."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from devices.readings import Rejected, Scan, Status
from devices.scanners.camera_qr import CameraQrScanner, QrDecoder

W, H = 320, 240


def qr_image(text: str, scale: int = 4) -> np.ndarray:
    """A QR code for `text` as a grey image (the encoder adds the quiet zone)."""
    code = cv2.QRCodeEncoder.create().encode(text)
    return cv2.resize(code, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)


def frame_with(*texts: str) -> np.ndarray:
    """A BGR frame with one QR code per text, side by side."""
    frame = np.full((H, W), 200, np.uint8)
    x = 10
    for text in texts:
        code = qr_image(text)
        h, w = code.shape
        frame[20 : 20 + h, x : x + w] = code
        x += w + 20
    return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)


def write_video(path: Path, frames: list[np.ndarray], fps: float = 10.0) -> Path:
    """Write frames as MJPG/AVI, which every OpenCV build can read back."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (W, H))
    assert writer.isOpened()
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


class Sink:
    """Collects readings from the capture thread."""

    def __init__(self) -> None:
        self.readings = []
        self._cond = threading.Condition()

    def __call__(self, reading) -> None:
        with self._cond:
            self.readings.append(reading)
            self._cond.notify_all()

    def wait_for(self, predicate, timeout: float = 10.0):
        with self._cond:
            assert self._cond.wait_for(lambda: predicate(self.readings), timeout), self.readings
            return list(self.readings)


def scans(readings):
    return [r.data for r in readings if isinstance(r, Scan)]


def statuses(readings):
    return [(r.state, r.detail) for r in readings if isinstance(r, Status)]


def test_decoder_reads_every_code_in_a_frame():
    decoder = QrDecoder(device="cam1")
    out = decoder.decode(frame_with("https://shop.example/o/42", "LOYALTY-998877"), 0.0)
    assert sorted(scans(out)) == ["LOYALTY-998877", "https://shop.example/o/42"]
    assert all(r.symbology == "qr" and r.device == "cam1" for r in out)


def test_classic_detector_and_utf8_payloads():
    decoder = QrDecoder(detector="classic")
    assert scans(decoder.decode(frame_with("Grüße €"), 0.0)) == ["Grüße €"]


def test_a_code_in_view_is_one_scan_until_it_has_been_away_a_full_window():
    decoder = QrDecoder(duplicate_window=1.0)
    seen, empty = frame_with("ORDER-7"), frame_with()
    out = []
    for i in range(10):  # 10 frames at 10 fps with the code in view
        out += decoder.decode(seen, i * 0.1)
    out += decoder.decode(empty, 1.5)
    out += decoder.decode(seen, 1.6)  # back within a window of the last sighting
    out += decoder.decode(seen, 3.0)  # back after a full window away
    assert scans(out) == ["ORDER-7", "ORDER-7"]
    assert decoder.duplicates == 10
    assert not any(isinstance(r, Rejected) for r in out)


def test_duplicates_can_be_reported_like_the_serial_scanner():
    decoder = QrDecoder(report_duplicates=True)
    frame = frame_with("X")
    out = decoder.decode(frame, 0.0) + decoder.decode(frame, 0.1)
    assert [type(r) for r in out] == [Scan, Rejected]
    assert out[1].reason == "duplicate"


@pytest.mark.parametrize(
    "frame",
    [
        None,
        np.zeros((0, 0), np.uint8),
        np.zeros((5, 5, 3), np.uint8),
        np.random.default_rng(1).integers(0, 256, (H, W, 3), dtype=np.uint8),
        np.zeros((H, W, 4), np.uint8),
        np.zeros((H, W), np.float32),
    ],
)
def test_decoder_never_raises_on_odd_frames(frame):
    out = QrDecoder().decode(frame, 0.0)
    assert all(isinstance(r, Rejected) and r.reason == "decode_error" for r in out)


def test_scanner_reads_a_video_file_to_the_end(tmp_path):
    blank = frame_with()
    frames = [blank] * 3 + [frame_with("ORDER-1")] * 6 + [blank] * 2
    frames += [frame_with("ORDER-2", "ORDER-1")] * 4 + [blank] * 2
    video = write_video(tmp_path / "till.avi", frames)
    sink = Sink()
    scanner = CameraQrScanner(str(video), sink, device="cam1", duplicate_window=60.0)
    scanner.start()
    try:
        assert scanner.wait_finished(20.0)
    finally:
        scanner.stop()
    got = sink.readings
    # ORDER-1 reappears within the window, so it is one scan.
    assert scans(got) == ["ORDER-1", "ORDER-2"]
    assert statuses(got) == [
        ("connected", f"file {video}"),
        ("disconnected", "end of file"),
        ("disconnected", "stopped"),
    ]
    assert all(r.ts is not None for r in got)
    assert scanner.decoder.frames == len(frames)


def test_scanner_decodes_every_nth_frame_when_asked(tmp_path):
    video = write_video(tmp_path / "v.avi", [frame_with("N")] * 9)
    sink = Sink()
    scanner = CameraQrScanner(str(video), sink, decode_every=3)
    scanner.start()
    assert scanner.wait_finished(20.0)
    scanner.stop()
    assert scanner.decoder.frames == 3
    assert scans(sink.readings) == ["N"]


def test_scanner_reopens_a_missing_source_with_backoff(tmp_path):
    path = tmp_path / "late.avi"
    sink = Sink()
    scanner = CameraQrScanner(str(path), sink, backoff_initial=0.05, backoff_max=0.2)
    scanner.start()
    try:
        sink.wait_for(lambda rs: statuses(rs))
        time.sleep(0.3)  # several failed attempts, reported once
        write_video(tmp_path / "tmp.avi", [frame_with("LATE")] * 3).rename(path)
        got = sink.wait_for(lambda rs: scans(rs))
    finally:
        scanner.stop()
    assert scans(got) == ["LATE"]
    assert statuses(got)[:2] == [("error", f"cannot open {path}"), ("connected", f"file {path}")]


def test_stop_returns_within_the_deadline_while_backing_off(tmp_path):
    sink = Sink()
    scanner = CameraQrScanner(str(tmp_path / "never.avi"), sink, backoff_initial=30.0)
    scanner.start()
    sink.wait_for(lambda rs: statuses(rs))
    started = time.monotonic()
    scanner.stop(timeout=1.0)
    assert time.monotonic() - started < 0.5
    assert statuses(sink.readings)[-1] == ("disconnected", "stopped")
