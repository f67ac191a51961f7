"""Background-subtractor output → a mask of people: shadows, floor-coloured clothes, holes.

MOG2 labels each pixel background (0), shadow (127) or foreground (255). A shadow is
"the floor, only darker, in the same colour", and that is also what a person in
grey clothes on a grey floor looks like: such a person comes out almost entirely as
shadow, and dropping every shadow pixel loses them. So shadows are judged by region:

- a region of foreground-or-shadow that is mostly foreground is a person with the
  shadow they cast beside them: only the foreground part is kept;
- a region that is mostly shadow is either a cast shadow on its own (lights, a
  person out of view) or a person in floor-coloured clothes. Cloth replaces the
  floor's texture with its own, while a shadow keeps the floor's texture, only
  dimmer; a region whose fine texture (mean absolute Laplacian) is clearly above
  the floor's beneath it, measured against the frame's noise, is kept whole.

Pixels a few grey levels off the floor that MOG2 calls background are added from
`faint.py`. Holes are then filled (a dark head on a dark door mat matches the floor, leaving a
ring that the clean-up would cut in two) and the mask is cleaned with one 3x3
opening and one dilation.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from devices.camera.faint import SHADOW, faint, grey

FOREGROUND = 255
FG_SHARE = 0.5  # a region with less foreground than this is judged by its texture
TEXTURE = 1.0  # region texture / (floor texture + noise) above which it is cloth

_KERNEL = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))


def foreground(raw: np.ndarray) -> np.ndarray:
    """The pixels the subtractor is sure about (255), as a 0/255 mask."""
    return cv2.threshold(raw, 200, 255, cv2.THRESH_BINARY)[1]


def person_mask(
    raw: np.ndarray,
    frame: np.ndarray,
    background: Callable[[], np.ndarray],
    min_area: float,
) -> np.ndarray:
    """0/255 mask of people from subtractor labels `raw` and the (analysed) `frame`.

    `background` returns the subtractor's background picture. Regions under
    `min_area` are not judged by their texture.
    """
    bg = background()
    mask = cv2.bitwise_or(foreground(raw), faint(raw, frame, bg))
    if cv2.countNonZero(cv2.inRange(raw, SHADOW, SHADOW)):
        mask = cv2.bitwise_or(mask, _cloth_like_shadows(raw, mask, frame, bg, min_area))
    mask = fill_holes(mask)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, _KERNEL)
    return cv2.dilate(mask, _KERNEL)


def _cloth_like_shadows(raw, fg, frame, background, min_area: float) -> np.ndarray:
    either = cv2.morphologyEx(
        cv2.threshold(raw, 100, 255, cv2.THRESH_BINARY)[1], cv2.MORPH_OPEN, _KERNEL
    )
    n, labels = cv2.connectedComponents(either, connectivity=8)
    none = np.zeros_like(fg)
    if n < 2:
        return none
    flat = labels.ravel()
    total = np.bincount(flat, minlength=n)
    fg_count = np.bincount(flat[fg.ravel() > 0], minlength=n)
    weak = (fg_count < FG_SHARE * total) & (total >= min_area)
    weak[0] = False
    if not weak.any():
        return none
    ratio = texture_ratio(frame, background, raw == 0)
    texture = np.bincount(flat, weights=ratio.ravel(), minlength=n) / np.maximum(total, 1)
    weak &= texture >= TEXTURE
    if not weak.any():
        return none
    return (weak[labels] * 255).astype(np.uint8)


def texture_ratio(frame: np.ndarray, background: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """Per pixel: local fine texture of `frame` over that of `background` plus noise.

    The noise level is the median texture of `frame` where `floor` (a boolean mask of
    pixels seen as background) is set, so sensor noise alone does not read as cloth.
    """
    lf = np.abs(cv2.Laplacian(grey(frame), cv2.CV_32F))
    lb = np.abs(cv2.Laplacian(grey(background), cv2.CV_32F))
    seen = lf[floor]
    noise = float(np.median(seen[::3])) if seen.size else 1.0
    return cv2.boxFilter(lf, -1, (3, 3)) / (cv2.boxFilter(lb, -1, (3, 3)) + max(noise, 1e-3))


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """`mask` with every region of background it encloses set (0/255 masks)."""
    # Everything the outside cannot reach through background is inside a blob.
    padded = cv2.copyMakeBorder(mask, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    cv2.floodFill(padded, None, (0, 0), 255)
    return cv2.bitwise_or(mask, cv2.bitwise_not(padded[1:-1, 1:-1]))
