"""Centroid tracker and the counting line with a hysteresis band.

A track only counts once it has been *committed* on one side of the line (beyond the
band) and then commits to the other side. That crossing stays pending, and a return
to the first side cancels it (a U-turn, a person stepping over the line and back),
until the person is `confirm` pixels past the line or the track ends. Counting on the
committed sides, never on the raw sign of the distance, is what stops a person who
lingers on the line from being counted each time they sway over it.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

from devices.camera.blobs import Blob

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


@dataclass
class Track:
    """One tracked person (analysis pixels) and where they stand relative to the line."""

    id: int
    x: float
    y: float
    vx: float = 0.0
    vy: float = 0.0
    hits: int = 1
    missed: int = 0
    anchor: int = 0  # committed side the next crossing is counted from (0: not yet)
    side: int = 0  # last committed side
    pending: int = 0  # side of an unconfirmed crossing, 0 if none
    sign: int = 0  # raw side of the line, for the frame of the crossing
    crossed_frame: int = -1
    trail: deque = field(default_factory=lambda: deque(maxlen=24))


class Tracker:
    """Greedy nearest-neighbour assignment on predicted positions, with track ageing."""

    def __init__(self, line: CountLine, gate: float, max_missed: int, min_hits: int) -> None:
        self.line = line
        self.gate = gate
        self.max_missed = max_missed
        self.min_hits = min_hits
        self.tracks: list[Track] = []
        self._next_id = 1

    def update(self, blobs: list[Blob], frame: int) -> list[LineEvent]:
        """Advance all tracks by one frame of detections; return confirmed crossings."""
        events: list[LineEvent] = []
        pairs = []
        for ti, t in enumerate(self.tracks):
            px, py = t.x + t.vx, t.y + t.vy
            for bi, b in enumerate(blobs):
                d = math.hypot(b.x - px, b.y - py)
                if d < self.gate:
                    pairs.append((d, ti, bi))
        pairs.sort()
        match: dict[int, list[Blob]] = {}
        used_b: set[int] = set()
        for _, ti, bi in pairs:
            if ti in match or bi in used_b:
                continue
            match[ti] = [blobs[bi]]
            used_b.add(bi)
        spawn = []
        for bi, b in enumerate(blobs):
            if bi in used_b:
                continue
            # A fragment next to a person already matched (the blob broke up over a
            # floor edge) joins that person, so it cannot start a second track.
            # Pieces of a split blob are separate people by decision, never fragments.
            near = [
                (math.hypot(b.x - self.tracks[ti].x, b.y - self.tracks[ti].y), ti)
                for ti in match
                if b.people == 1 and match[ti][0].people == 1
            ]
            d, ti = min(near, default=(math.inf, -1))
            if d < self.gate:
                match[ti].append(b)
            else:
                spawn.append(b)
        alive = []
        for ti, t in enumerate(self.tracks):
            parts = match.get(ti)
            if parts:
                area = sum(p.area for p in parts)
                x = sum(p.x * p.area for p in parts) / area
                y = sum(p.y * p.area for p in parts) / area
                steps = t.missed + 1
                t.vx = 0.5 * t.vx + 0.5 * (x - t.x) / steps
                t.vy = 0.5 * t.vy + 0.5 * (y - t.y) / steps
                t.x, t.y = x, y
                t.hits += 1
                t.missed = 0
                t.trail.append((x, y))
                events.extend(self._observe(t, frame))
            else:
                t.missed += 1
                t.x += t.vx  # coast: a person briefly lost keeps walking
                t.y += t.vy
                if t.missed > self.max_missed:
                    events.extend(self._finish(t, frame))
                    continue
            alive.append(t)
        self.tracks = alive
        for b in spawn:
            t = Track(self._next_id, b.x, b.y)
            t.trail.append((b.x, b.y))
            self._next_id += 1
            self.tracks.append(t)
            self._observe(t, frame)
        return events

    def flush(self, frame: int) -> list[LineEvent]:
        """End every track (end of a video): pending crossings of real tracks count."""
        events = [e for t in self.tracks for e in self._finish(t, frame)]
        self.tracks = []
        return events

    def freeze(self) -> None:
        """Hold tracks where they are for a frame without evidence (background relearn)."""
        for t in self.tracks:
            t.vx = t.vy = 0.0

    def _observe(self, t: Track, frame: int) -> list[LineEvent]:
        d, in_span = self.line.distance(t.x, t.y)
        if not in_span:
            return []
        sign = 1 if d >= 0 else -1
        if sign != t.sign:
            if t.sign != 0:
                t.crossed_frame = frame
            t.sign = sign
        zone = 1 if d > self.line.band else -1 if d < -self.line.band else 0
        if zone and zone != t.side:
            t.side = zone
            if t.anchor == 0:
                t.anchor = zone
            elif zone != t.anchor:
                t.pending = zone
            else:
                t.pending = 0  # came back: a U-turn cancels the crossing
        if t.pending and abs(d) >= self.line.confirm and t.hits >= self.min_hits:
            return [self._count(t, frame)]
        return []

    def _finish(self, t: Track, frame: int) -> list[LineEvent]:
        if t.pending and t.hits >= self.min_hits:
            return [self._count(t, frame)]
        return []

    def _count(self, t: Track, frame: int) -> LineEvent:
        event = LineEvent(self.line.direction(t.pending), t.id, frame, t.crossed_frame)
        t.anchor, t.pending = t.pending, 0
        return event
