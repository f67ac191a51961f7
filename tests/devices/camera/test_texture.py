"""Texture traces on drawn frames: a coat of the floor's own grey, noise, lighting, people."""

from __future__ import annotations

import cv2
import numpy as np

from devices.camera.faint import faint
from devices.camera.texture import texture_traces

H, W = 120, 160
CENTRE = (80, 60)
NOISE = 1.25  # a 320x240 camera's noise (2.5 grey levels) after the 2x2 averaging
NOBODY = np.zeros((H, W), np.uint8)  # MOG2 labels nothing, and nobody is in the people mask


def _floor(seed: int = 0) -> np.ndarray:
    """Grey tiles at 120: grain and joints, as the background model has learnt them."""
    rng = np.random.default_rng(seed)
    floor = 120.0 + rng.normal(0, 1.5, (H, W))
    floor[::20, :] -= 6
    floor[:, ::20] -= 6
    return floor


def _frame(floor: np.ndarray, coat: float | None, noise: float = NOISE, seed: int = 1):
    """`floor` with noise and, if `coat` is a grey level, a plain coat of it (weave 3)."""
    rng = np.random.default_rng(seed)
    frame = floor + rng.normal(0, noise, (H, W))
    if coat is not None:
        body = np.zeros((H, W), np.uint8)
        cv2.ellipse(body, CENTRE, (10, 7), 0, 0, 360, 255, -1)
        weave = coat + rng.normal(0, 3.0, (H, W))
        frame[body > 0] = weave[body > 0] + rng.normal(0, noise, int((body > 0).sum()))
    return np.clip(frame, 0, 255).astype(np.uint8)


def _traces(frame: np.ndarray, floor: np.ndarray, mask: np.ndarray = NOBODY):
    return texture_traces(frame, floor.astype(np.uint8), NOBODY, mask, min_area=24)


def test_a_coat_of_the_floors_own_grey_leaves_a_trace_where_the_faint_cue_sees_nothing() -> None:
    floor = _floor()
    frame = _frame(floor, coat=120.0)
    assert cv2.countNonZero(faint(NOBODY, frame, floor.astype(np.uint8))) < 10
    [(x, y, area)] = _traces(frame, floor)
    assert abs(x - CENTRE[0]) < 3 and abs(y - CENTRE[1]) < 3
    assert 120 <= area <= 400  # about the coat (220 px), not a smear over the floor


def test_noise_alone_leaves_no_trace_at_any_level() -> None:
    floor = _floor()
    for seed, noise in enumerate((NOISE, 4.5)):
        assert _traces(_frame(floor, coat=None, noise=noise, seed=seed), floor) == []


def test_a_uniform_dimming_leaves_no_trace() -> None:
    floor = _floor()
    dimmed = np.clip(floor * 0.85 + np.random.default_rng(2).normal(0, NOISE, (H, W)), 0, 255)
    assert _traces(dimmed.astype(np.uint8), floor) == []


def test_a_person_already_in_the_people_mask_leaves_no_trace() -> None:
    floor = _floor()
    mask = np.zeros((H, W), np.uint8)
    cv2.ellipse(mask, CENTRE, (10, 7), 0, 0, 360, 255, -1)
    assert _traces(_frame(floor, coat=120.0), floor, mask) == []
