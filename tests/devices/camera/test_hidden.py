"""People the floor hides (issue 14), through the tracker and the blob cutter on drawn masks.

Each frame, the people in view are drawn into a mask and cut into blobs with the
tracker's seeds, as `LineCounter` does; hidden people only leave traces.
"""

from __future__ import annotations

import cv2
import numpy as np

from devices.camera.blobs import Blob, BlobRules, find_blobs
from devices.camera.line import CountLine
from devices.camera.tracker import Tracker

RULES = BlobRules(min_area=30, max_area=150)  # a drawn person below is 139 px


def _tracker() -> Tracker:
    line = CountLine(0, 50, 100, 50, "right", band=4, confirm=20)
    return Tracker(
        line, gate=10, max_missed=3, min_hits=3, lost_missed=12, fragment_area=70, bounds=(100, 100)
    )


def _frame(tracker: Tracker, f: int, seen: list[float], traces: list[tuple[float, float]]):
    """One frame: people in view at x=50 and the given `seen` y; `traces` (x, y) of hidden ones."""
    mask = np.zeros((100, 100), np.uint8)
    for y in seen:
        cv2.ellipse(mask, (50, round(y)), (8, 5), 0, 0, 360, 255, -1)
    blobs = find_blobs(mask, RULES, tracker.seeds())
    return tracker.update(blobs, f, [Blob(x, y, 40.0, (0, 0, 0, 0)) for x, y in traces])


def test_a_hidden_person_who_walks_into_someone_in_view_is_cut_out_and_both_count() -> None:
    # One walks out in plain view; the other walks in, hidden (traces only) until they
    # show right beside the first, whose blob they join. The cut between them keeps
    # the one in view on their path; without it, both turn back in the tracker's eyes.
    tracker = _tracker()
    events = []
    for f in range(60):
        out_y, in_y = 95 - 2 * f, -5 + 2 * f
        hidden = in_y < 43
        seen = [out_y] if hidden else [out_y, in_y]
        events += _frame(tracker, f, seen, [(50, in_y)] if hidden and in_y > 0 else [])
    events += tracker.flush(60)
    assert sorted(e.direction for e in events) == ["in", "out"]


def test_two_traces_of_one_hidden_person_make_one_track_and_one_count() -> None:
    # Their shadow and their coat's texture each start a track; the two meet, and the
    # person then shows. Two tracks would cut the person in two and count them twice.
    tracker = _tracker()
    events = []
    for f in range(50):
        y = 2.0 + 2 * f
        if y < 30:
            apart = max(0.0, 16 - 2 * f)  # the second trace drifts onto the first
            events += _frame(tracker, f, [], [(42, y), (42 + apart, y + 1)])
        else:
            events += _frame(tracker, f, [y], [])
    assert len(tracker.tracks) == 1
    events += tracker.flush(50)
    assert [e.direction for e in events] == ["in"]
