"""Camera counter speed on one core: frames/s at 320x240 and 640x480 vs plain decoding.

Both figures include decoding the MJPG clip, so the ratio says how much of the budget
counting adds. Best of three runs, one OpenCV thread, no capture thread.

    PYTHONPATH=. .venv/bin/python bench/camera_speed.py [--scenario single] [--seed 1]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import cv2

from devices.camera import scene
from devices.camera.analysis import CountingConfig, LineCounter


def decode_fps(video: str) -> tuple[float, int]:
    """Frames/s of reading every frame and doing nothing with it."""
    cap = cv2.VideoCapture(video)
    n, started = 0, time.perf_counter()
    while cap.read()[0]:
        n += 1
    cap.release()
    return n / (time.perf_counter() - started), n


def count_fps(video: str, line: tuple[float, ...]) -> float:
    """Frames/s of reading and counting every frame."""
    cap = cv2.VideoCapture(video)
    counter = LineCounter(CountingConfig(line=line))
    n, started = 0, time.perf_counter()
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        counter.process(frame)
        n += 1
    counter.finish()
    cap.release()
    return n / (time.perf_counter() - started)


def main() -> None:
    """Print decode and count frames/s for each frame size."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="single", choices=scene.SCENARIOS, help="scene to time")
    ap.add_argument("--seed", type=int, default=1, help="scene seed")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    print(
        f"camera counter speed, one core (cv2.setNumThreads(1)), scene {args.scenario}-{args.seed}"
    )
    print("| frame size | frames | decode only (fps) | decode + count (fps) | ratio |")
    print("|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for size in ((320, 240), (640, 480)):
            truth = scene.generate(args.scenario, args.seed, Path(tmp), size)
            video, line = truth["video"], tuple(truth["line"])
            dec = max(decode_fps(video)[0] for _ in range(3))
            cnt = max(count_fps(video, line) for _ in range(3))
            print(
                f"| {size[0]}x{size[1]} | {truth['frames']} | {dec:.0f} | {cnt:.0f} | "
                f"{cnt / dec:.2f} |"
            )


if __name__ == "__main__":
    main()
