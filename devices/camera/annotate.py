"""Draw what the counter saw onto a frame: the line and band, blobs, tracks, counts.

This is the validation recording an installer watches to check the line placement
and that each person is one track.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from devices.camera.analysis import LineCounter

_GREEN, _RED, _YELLOW, _CYAN, _WHITE = (
    (0, 200, 0),
    (0, 0, 230),
    (0, 220, 255),
    (230, 200, 0),
    (255,) * 3,
)


def draw(frame: np.ndarray, counter: LineCounter) -> np.ndarray:
    """Return a copy of `frame` with the counter's last view drawn on it."""
    out = frame.copy() if frame.ndim == 3 else cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    line, snap = counter.line, counter.snapshot
    if line is None:
        return out
    s = snap.scale
    p1 = (line.x1 * s, line.y1 * s)
    p2 = (line.x2 * s, line.y2 * s)
    length = math.hypot(p2[0] - p1[0], p2[1] - p1[1]) or 1.0
    # Unit normal pointing to the image-right of the line's direction.
    nx, ny = -(p2[1] - p1[1]) / length, (p2[0] - p1[0]) / length
    band = line.band * s
    for off, colour, width in ((0.0, _YELLOW, 2), (band, _CYAN, 1), (-band, _CYAN, 1)):
        a = (round(p1[0] + nx * off), round(p1[1] + ny * off))
        b = (round(p2[0] + nx * off), round(p2[1] + ny * off))
        cv2.line(out, a, b, colour, width, cv2.LINE_AA)
    mid = ((p1[0] + p2[0]) / 2, (p1[1] + p2[1]) / 2)
    arrow_to = (round(mid[0] + nx * 20), round(mid[1] + ny * 20))
    in_right = line.in_side == "right"
    arrow_from = (round(mid[0]), round(mid[1]))
    if not in_right:
        arrow_to = (round(mid[0] - nx * 20), round(mid[1] - ny * 20))
    cv2.arrowedLine(out, arrow_from, arrow_to, _YELLOW, 1, cv2.LINE_AA, tipLength=0.4)
    for b in snap.blobs:
        x, y, w, h = (round(v * s) for v in b.box)
        cv2.rectangle(out, (x, y), (x + w, y + h), _GREEN if b.people == 1 else _RED, 1)
    for t in snap.tracks:
        pts = np.array([(px * s, py * s) for px, py in t.trail], np.int32)
        if len(pts) > 1:
            cv2.polylines(out, [pts], False, _CYAN, 1, cv2.LINE_AA)
        centre = (round(t.x * s), round(t.y * s))
        cv2.circle(out, centre, 3, _RED if t.pending else _WHITE, -1)
        cv2.putText(
            out,
            str(t.id),
            (centre[0] + 4, centre[1] - 4),
            cv2.FONT_HERSHEY_PLAIN,
            0.9,
            _WHITE,
            1,
            cv2.LINE_AA,
        )
    text = f"in {counter.counts['in']}  out {counter.counts['out']}  #{counter.frame_index}"
    if snap.relearnt:
        text += "  relearn"
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_PLAIN, 1.1, 1)
    cv2.rectangle(out, (2, 2), (10 + tw, 8 + th + 4), (0, 0, 0), -1)
    cv2.putText(out, text, (6, 16), cv2.FONT_HERSHEY_PLAIN, 1.1, _WHITE, 1, cv2.LINE_AA)
    return out
