"""Faint cues for people the background model misses: a coat within a few grey levels.

MOG2 decides per pixel against that pixel's own noise, so cloth 3-6 grey levels off
the tiles reads as floor. Averaged over a 5x5 box, the difference from the background
picture keeps the person's offset and loses most of the noise: `faint` thresholds
that average at four times its own spread on the floor (at least 2.5 levels). Soft
shadow rims are dark too, so dark faint pixels next to MOG2's shadow labels are
left out; the box spreads every region by two pixels, which an erosion takes back.

A person of exactly the mat's or the floor's grey still casts a shadow. `traces` are
the shadow-labelled regions clear of the people mask: the tracker uses them to keep
a lost person's track going and to remember where a hidden person came from, never
to count on its own.
"""

from __future__ import annotations

import cv2
import numpy as np

SHADOW = 127  # MOG2's label for a shadow pixel
FAINT_MIN = 2.5  # grey levels: the smallest averaged difference taken as a person
FAINT_K = 4.0  # ... and at least this many times its spread over the floor
FAINT_BOX = 5  # px (analysis): the averaging box

_FAINT_ERODE = cv2.getStructuringElement(cv2.MORPH_RECT, (FAINT_BOX, FAINT_BOX))
_SHADE_KERNEL = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))


def faint(raw: np.ndarray, frame: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Regions a few grey levels off the background, found by averaging out the noise."""
    diff = grey(frame) - grey(background)
    d = cv2.boxFilter(diff, -1, (FAINT_BOX, FAINT_BOX))
    seen = d[::2, ::2][raw[::2, ::2] == 0]
    sigma = 1.4826 * float(np.median(np.abs(seen))) if seen.size else 1.0
    limit = max(FAINT_MIN, FAINT_K * sigma)
    # The wide average also smears a strong edge outwards; a pixel must agree locally.
    near = cv2.boxFilter(diff, -1, (3, 3))
    bright = ((d > limit) & (near > 0.5 * limit)).astype(np.uint8) * 255
    dark = ((d < -limit) & (near < -0.5 * limit)).astype(np.uint8) * 255
    # A cast shadow's soft rim is dark too, and MOG2 only labels its core: stay clear.
    shade = cv2.dilate(cv2.inRange(raw, SHADOW, SHADOW), _SHADE_KERNEL)
    dark[shade > 0] = 0
    # Averaging spread every region by half the box: take that back.
    return cv2.erode(cv2.bitwise_or(bright, dark), _FAINT_ERODE)


def grey(image: np.ndarray) -> np.ndarray:
    """A float32 grey version of a BGR or grey image."""
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return image.astype(np.float32)


def traces(raw: np.ndarray, mask: np.ndarray, min_area: float) -> list[tuple[float, float, float]]:
    """(x, y, area) of shadow-only regions clear of `mask`: where a faint person may be."""
    shade = cv2.inRange(raw, SHADOW, SHADOW)
    if not cv2.countNonZero(shade):
        return []
    shade[cv2.dilate(mask, _SHADE_KERNEL) > 0] = 0
    n, _, stats, centroids = cv2.connectedComponentsWithStats(shade, connectivity=8)
    return [
        (float(centroids[i][0]), float(centroids[i][1]), float(stats[i, cv2.CC_STAT_AREA]))
        for i in range(1, n)
        if stats[i, cv2.CC_STAT_AREA] >= min_area
    ]
