"""The faint cue on drawn frames: a coat a few grey levels off the floor, noise, shadows."""

from __future__ import annotations

import cv2
import numpy as np

from devices.camera.faint import SHADOW, faint, traces

H, W = 120, 160


def _scene(offset: float, noise: float = 1.25, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(frame, background): a disc `offset` grey levels off a 130 floor, with noise.

    1.25 grey levels is the noise of a 320x240 camera (2.5) after the 2x2 averaging
    of the 160-px analysis.
    """
    rng = np.random.default_rng(seed)
    background = np.full((H, W), 130.0)
    frame = background + rng.normal(0, noise, (H, W))
    disc = np.zeros((H, W), np.uint8)
    cv2.circle(disc, (80, 60), 10, 255, -1)
    frame[disc > 0] += offset
    return np.clip(frame, 0, 255).astype(np.uint8), background.astype(np.uint8)


def _disc_share(mask: np.ndarray) -> tuple[float, int]:
    """Share of the disc found, and pixels found outside it (beyond a 2 px rim)."""
    disc = np.zeros((H, W), np.uint8)
    cv2.circle(disc, (80, 60), 10, 255, -1)
    rim = cv2.dilate(disc, np.ones((5, 5), np.uint8))
    found = mask > 0
    return float(found[disc > 0].mean()), int(found[rim == 0].sum())


def test_a_coat_four_grey_levels_off_the_floor_is_found() -> None:
    frame, background = _scene(+4.0)
    raw = np.zeros((H, W), np.uint8)  # MOG2 saw nothing
    share, outside = _disc_share(faint(raw, frame, background))
    # Enough of the disc for a blob (the people mask fills and dilates it), nothing else.
    assert share > 0.3 and outside == 0


def test_noise_alone_and_a_high_contrast_body_do_not_spread() -> None:
    frame, background = _scene(0.0, noise=3.0)
    assert _disc_share(faint(np.zeros((H, W), np.uint8), frame, background)) == (0.0, 0)
    frame, background = _scene(-60.0)  # a dark coat: the average smears it outwards
    assert _disc_share(faint(np.zeros((H, W), np.uint8), frame, background))[1] == 0


def test_a_dark_patch_beside_a_labelled_shadow_is_left_out() -> None:
    frame, background = _scene(-5.0)
    raw = np.zeros((H, W), np.uint8)
    raw[55:65, 68:92] = SHADOW  # MOG2 labelled the core of a cast shadow here
    assert _disc_share(faint(raw, frame, background))[0] < 0.2


def test_traces_are_shadow_regions_clear_of_people() -> None:
    raw = np.zeros((H, W), np.uint8)
    raw[10:20, 10:30] = SHADOW  # a shadow on its own
    raw[60:70, 115:118] = SHADOW  # the rim of shadow beside the person in `mask`
    mask = np.zeros((H, W), np.uint8)
    mask[58:72, 118:140] = 255
    [(x, y, area)] = traces(raw, mask, min_area=20)
    assert (x, y, area) == (19.5, 14.5, 200)
