"""Texture traces: a coat of the floor's own grey still changes the floor's fine texture.

A plain coat within a grey level or two of the tiles gives neither MOG2 nor the faint
cue (`faint.py`) anything to go on, and its wearer's shadow may lie right under them.
But where a person stands, the difference between the frame and the background
picture is no longer sensor noise: the coat's weave replaces the tiles' grain and
joints, and the soft rim of the shadow around the body is a ramp. The local spread
(standard deviation over a 5x5 box) of that difference is well above its spread over
the empty floor; a person shows as a ring or a disc of it, which hole filling closes.

Such regions clear of the people mask are passed to the tracker as traces, like the
shadow traces of `faint.py`: they keep a lost track going and remember the side of the
line a hidden person came from, and never count on their own.
"""

from __future__ import annotations

import cv2
import numpy as np

from devices.camera.faint import grey
from devices.camera.foreground import fill_holes

TEXTURE_BOX = 5  # px (analysis): the box the spread is measured over
TEXTURE_K = 2.0  # spread / the empty floor's spread above which a person is there

_CLOSE = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
_CLEAR = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))


def stirred(frame: np.ndarray, background: np.ndarray, raw: np.ndarray) -> np.ndarray:
    """0/255 mask of pixels whose difference from the background varies more than noise."""
    diff = grey(frame) - grey(background)
    box = (TEXTURE_BOX, TEXTURE_BOX)
    mean = cv2.boxFilter(diff, -1, box)
    spread = cv2.boxFilter(diff * diff, -1, box) - mean * mean
    seen = spread[::2, ::2][raw[::2, ::2] == 0]
    floor = float(np.median(seen)) if seen.size else 1.0
    # Compared as variances: no square root per pixel.
    return ((spread > TEXTURE_K * TEXTURE_K * max(floor, 0.1)) * 255).astype(np.uint8)


def texture_traces(
    frame: np.ndarray, background: np.ndarray, raw: np.ndarray, mask: np.ndarray, min_area: float
) -> list[tuple[float, float, float]]:
    """(x, y, area) of textured regions clear of the people `mask`: where a hidden person is."""
    found = stirred(frame, background, raw)
    found[cv2.dilate(mask, _CLEAR) > 0] = 0
    if cv2.countNonZero(found) < min_area / 2:
        return []
    # The coat's rim (against the shadow) is the strongest part: close the ring, fill
    # it, and drop the specks noise leaves.
    found = fill_holes(cv2.morphologyEx(found, cv2.MORPH_CLOSE, _CLOSE))
    found = cv2.morphologyEx(found, cv2.MORPH_OPEN, _CLOSE)
    n, _, stats, centroids = cv2.connectedComponentsWithStats(found, connectivity=8)
    return [
        (float(centroids[i][0]), float(centroids[i][1]), float(stats[i, cv2.CC_STAT_AREA]))
        for i in range(1, n)
        if stats[i, cv2.CC_STAT_AREA] >= min_area
    ]
