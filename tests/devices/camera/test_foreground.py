"""Subtractor labels → mask of people: cast shadows out, floor-coloured clothes in, holes filled."""

from __future__ import annotations

import cv2
import numpy as np

from devices.camera.foreground import SHADOW, person_mask

H, W = 120, 160


def _scene():
    rng = np.random.default_rng(1)
    floor = (120 + rng.normal(0, 2, (H, W, 3))).astype(np.float32)
    return floor, np.zeros((H, W), np.uint8)


def _ellipse(centre, axes=(10, 7)) -> np.ndarray:
    m = np.zeros((H, W), np.uint8)
    cv2.ellipse(m, centre, axes, 0, 0, 360, 255, -1)
    return m > 0


def _shade(frame: np.ndarray, where: np.ndarray) -> None:
    # A soft-edged shadow darkening the floor by up to 40%, as the shop lights cast.
    dark = cv2.GaussianBlur(where.astype(np.float32), (7, 7), 0) * 0.4
    frame *= (1.0 - dark)[:, :, None]


def _mask(frame, floor, raw) -> np.ndarray:
    as_u8 = lambda a: np.clip(a, 0, 255).astype(np.uint8)  # noqa: E731
    return person_mask(raw, as_u8(frame), lambda: as_u8(floor), min_area=48)


def test_a_cast_shadow_alone_is_not_a_person() -> None:
    floor, raw = _scene()
    shade = _ellipse((80, 60))
    frame = floor.copy()
    _shade(frame, shade)  # the floor, only darker: its texture is kept
    raw[shade] = SHADOW
    assert not _mask(frame, floor, raw).any()


def test_clothes_the_colour_of_the_floor_are_kept_whole() -> None:
    floor, raw = _scene()
    body = _ellipse((80, 60))
    rng = np.random.default_rng(2)
    frame = floor.copy()
    frame[body] = 95 + rng.normal(0, 14, (int(body.sum()), 1))  # grey cloth, its own weave
    raw[body] = SHADOW  # darker, same hue: the subtractor calls it shadow
    raw[body & (rng.random((H, W)) < 0.1)] = 255
    mask = _mask(frame, floor, raw) > 0
    assert (mask & body).sum() > 0.9 * body.sum()


def test_a_person_keeps_their_body_and_loses_the_shadow_beside_them() -> None:
    floor, raw = _scene()
    body, shade = _ellipse((80, 60)), _ellipse((86, 66))
    frame = floor.copy()
    _shade(frame, shade)
    frame[body] = (40, 40, 200)
    raw[shade] = SHADOW
    raw[body] = 255
    mask = _mask(frame, floor, raw) > 0
    outline = cv2.dilate(body.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    assert mask[body].all()
    assert not (mask & ~outline).any()


def test_a_head_that_matches_the_floor_leaves_no_hole() -> None:
    floor, raw = _scene()
    body, head = _ellipse((80, 60)), _ellipse((80, 60), (5, 5))
    raw[body & ~head] = 255
    mask = _mask(floor, floor, raw) > 0
    assert mask[head].all()
