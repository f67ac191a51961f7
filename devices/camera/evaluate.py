"""Score counted crossings against a scene's ground truth (used by tests and benches).

Accuracy per direction is 1 - (missed + extra) / true crossings. Counted events are
matched to true crossings of the same direction by frame (the tracked crossing must
fall within the time the person was near the line, give or take `MATCH_FRAMES`), so a
miss and a double count in one clip do not cancel out as they would in totals.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import cv2

from devices.camera.analysis import CountingConfig, LineCounter
from devices.camera.line import LineEvent

MATCH_FRAMES = 15  # how far (frames) the tracked crossing may lie from the true one


def count_file(video: str | Path, config: CountingConfig) -> tuple[list[LineEvent], int]:
    """Run a fresh counter over every frame of `video`; return its events and frame count."""
    cap = cv2.VideoCapture(str(video))
    if not cap.isOpened():
        raise OSError(f"cannot open video {video}")
    counter = LineCounter(config)
    events: list[LineEvent] = []
    frames = 0
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            frames += 1
            events.extend(counter.process(frame))
    finally:
        cap.release()
    events.extend(counter.finish())
    return events, frames


def score(events: Iterable[LineEvent], truth: dict) -> dict[str, dict[str, float]]:
    """Per direction: true, counted, missed, extra and accuracy (None with no true crossings)."""
    events = list(events)
    result = {}
    for direction in ("in", "out"):
        want = sorted(
            tuple(c.get("near", (c["frame"], c["frame"])))
            for c in truth["crossings"]
            if c["direction"] == direction
        )
        got = sorted(e.crossed_frame for e in events if e.direction == direction)
        matched = _match(want, got)
        missed, extra = len(want) - matched, len(got) - matched
        acc = 1 - (missed + extra) / len(want) if want else None
        result[direction] = {
            "true": len(want),
            "counted": len(got),
            "missed": missed,
            "extra": extra,
            "accuracy": acc,
        }
    return result


def _match(want: list[tuple[int, int]], got: list[int]) -> int:
    # Greedy in time order; each true crossing accepts an event in its window.
    matched, j = 0, 0
    used = [False] * len(got)
    for first, last in want:
        while j < len(got) and got[j] < first - MATCH_FRAMES:
            j += 1
        for k in range(j, len(got)):
            if got[k] > last + MATCH_FRAMES:
                break
            if not used[k]:
                used[k] = True
                matched += 1
                break
    return matched
