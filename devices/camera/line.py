"""The counting line: a directed segment with a hysteresis band, and a counted crossing.

Which side of the line is "in" is stated as the side seen on screen looking from the
first point towards the second; the tracker (`tracker.py`) decides when a person has
crossed it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Direction = Literal["in", "out"]


@dataclass(frozen=True)
class LineEvent:
    """A counted crossing: direction, the track, the frame it was confirmed and crossed."""

    direction: Direction
    track_id: int
    frame: int
    crossed_frame: int


@dataclass(frozen=True)
class CountLine:
    """A directed line (x1,y1)→(x2,y2) with its in side, in analysis pixels."""

    x1: float
    y1: float
    x2: float
    y2: float
    in_side: Literal["left", "right"]
    band: float
    confirm: float

    def distance(self, x: float, y: float) -> tuple[float, bool]:
        """Signed distance (positive on the image-right of the direction), and in-span."""
        dx, dy = self.x2 - self.x1, self.y2 - self.y1
        length = math.hypot(dx, dy) or 1.0
        px, py = x - self.x1, y - self.y1
        # Image y points down, so the plain 2-D cross product is positive on the right.
        d = (dx * py - dy * px) / length
        along = (dx * px + dy * py) / length
        margin = self.confirm
        return d, -margin <= along <= length + margin

    def direction(self, side: int) -> Direction:
        """Direction of a crossing that ends on `side` (+1 right, -1 left)."""
        return "in" if (side > 0) == (self.in_side == "right") else "out"
