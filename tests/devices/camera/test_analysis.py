"""The pure counter on generated clips and hand-made masks: no threads, no devices."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from devices.camera.analysis import CountingConfig, LineCounter
from devices.camera.blobs import BlobRules, find_blobs
from devices.camera.evaluate import count_file, score
from devices.camera.line import CountLine
from devices.camera.tracker import Tracker


def _config(truth: dict, **kw) -> CountingConfig:
    return CountingConfig(line=tuple(truth["line"]), in_side=truth["in_side"], **kw)


SEEDS = (1, 2, 3)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("scenario", ["single", "pairs"])
def test_counts_match_truth_exactly(clips, scenario: str, seed: int) -> None:
    truth = clips(scenario, seed)
    events, frames = count_file(truth["video"], _config(truth))
    assert frames == truth["frames"]
    result = score(events, truth)
    assert {d: (r["counted"], r["missed"], r["extra"]) for d, r in result.items()} == {
        "in": (truth["in"], 0, 0),
        "out": (truth["out"], 0, 0),
    }


@pytest.mark.parametrize("seed", SEEDS)
def test_u_turns_are_not_counted(clips, seed: int) -> None:
    truth = clips("uturn", seed)
    assert truth["in"] == truth["out"] == 0
    events, _ = count_file(truth["video"], _config(truth))
    assert events == []


@pytest.mark.parametrize("seed", SEEDS)
def test_lighting_changes_with_nobody_present_count_nothing(clips, seed: int) -> None:
    truth = clips("lighting", seed)
    events, _ = count_file(truth["video"], _config(truth))
    assert events == []


def test_swapping_the_in_side_swaps_directions(clips) -> None:
    truth = clips("single")
    events, _ = count_file(
        truth["video"], CountingConfig(line=tuple(truth["line"]), in_side="left")
    )
    assert sum(e.direction == "in" for e in events) == truth["out"]
    assert sum(e.direction == "out" for e in events) == truth["in"]


def test_sudden_global_change_relearns_instead_of_detecting() -> None:
    counter = LineCounter(CountingConfig(line=(0, 60, 159, 60)))
    rng = np.random.default_rng(0)
    floor = rng.integers(90, 140, (120, 160, 3), dtype=np.uint8)
    for _ in range(30):
        counter.process(floor)
    # Lights switched on over half the shop: not a global gain, so normalising cannot hide it.
    lit = floor.copy()
    lit[:, 80:] = np.clip(lit[:, 80:].astype(int) * 2, 0, 255).astype(np.uint8)
    for _ in range(30):
        assert counter.process(lit) == []
    assert counter.relearns >= 1
    assert counter.snapshot.blobs == []


def test_line_sides_follow_the_direction_of_the_line() -> None:
    line = CountLine(0, 50, 100, 50, "right", band=5, confirm=10)
    # Image y points down: below a left-to-right line is its right-hand side.
    assert line.distance(50, 70)[0] > 0
    assert line.distance(50, 30)[0] < 0
    assert line.direction(+1) == "in"
    assert CountLine(100, 50, 0, 50, "right", 5, 10).distance(50, 70)[0] < 0


def _blob_track(tracker: Tracker, ys: list[float], x: float = 50.0) -> list:
    from devices.camera.blobs import Blob

    events = []
    for f, y in enumerate(ys):
        events += tracker.update([Blob(x, y, 100.0, (0, 0, 1, 1))], f)
    return events + tracker.flush(len(ys))


def test_step_over_and_back_is_cancelled_but_a_real_crossing_counts() -> None:
    line = CountLine(0, 50, 100, 50, "right", band=4, confirm=20)
    back = [20 + 2 * i for i in range(20)] + [58 - 2 * i for i in range(20)]  # apex at 58
    assert _blob_track(Tracker(line, gate=10, max_missed=3, min_hits=3), back) == []
    through = [20 + 2 * i for i in range(40)]
    events = _blob_track(Tracker(line, gate=10, max_missed=3, min_hits=3), through)
    assert [e.direction for e in events] == ["in"]
    assert events[0].crossed_frame == 15  # y passes 50 between frames 14 and 15


def test_swaying_on_the_line_counts_once() -> None:
    line = CountLine(0, 50, 100, 50, "right", band=4, confirm=20)
    path = [20.0 + 2 * i for i in range(15)]  # up to the line
    path += [50 + 3 * np.sin(i / 2) for i in range(60)]  # swaying over it
    path += [50.0 + 2 * i for i in range(25)]  # then in
    events = _blob_track(Tracker(line, gate=10, max_missed=3, min_hits=3), path)
    assert [e.direction for e in events] == ["in"]


def test_two_people_side_by_side_split_into_two_blobs() -> None:
    mask = np.zeros((120, 160), np.uint8)
    cv2.ellipse(mask, (70, 60), (16, 10), 0, 0, 360, 255, -1)
    cv2.ellipse(mask, (100, 61), (16, 10), 0, 0, 360, 255, -1)  # touching shoulders
    blobs = find_blobs(mask, BlobRules(min_area=150, max_area=700))
    assert len(blobs) == 2
    assert sorted(round(b.x) for b in blobs) == pytest.approx([70, 100], abs=3)


def test_one_person_stays_one_blob_and_specks_are_ignored() -> None:
    mask = np.zeros((120, 160), np.uint8)
    cv2.ellipse(mask, (80, 60), (16, 10), 0, 0, 360, 255, -1)
    mask[5:8, 5:8] = 255
    blobs = find_blobs(mask, BlobRules(min_area=150, max_area=700))
    assert [(round(b.x), round(b.y), b.people) for b in blobs] == [(80, 60, 1)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"line": (0, 0, 0, 1)}, "2 px apart"),
        ({"line": (0, 0, 9, 9), "in_side": "up"}, "in_side"),
        ({"line": (0, 0, 9, 9), "min_area": 50, "max_area": 10}, "min_area"),
        ({"line": (0, 0, 9, 9), "max_missed": 10, "lost_missed": 5}, "lost_missed"),
    ],
)
def test_bad_settings_are_refused_with_the_key_named(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        CountingConfig(**kwargs)
