"""Overhead line-crossing people counting: frames in, crossings out. No I/O, no threads.

Per frame: downscale to `analysis_width` (people from 3-4 m up stay 15+ px wide, and a
160-px frame costs a sixteenth of a 640-px one), normalise global brightness to a
slowly moving reference, background-subtract with MOG2, turn its labels into a mask
of people (`foreground.py`: cast shadows dropped, clothes the colour of the floor
kept, coats a few grey levels off it found by `faint.py`, holes filled, specks
removed), then find person blobs, cut merged people
apart where the tracks predict them (`blobs.py`), track them and count line
crossings (`tracker.py`), with shadow-only traces (`faint.py`) and textured
traces (`texture.py`: a coat of the floor's own grey still changes its fine texture)
passed along so a hidden person's track survives and remembers where they came from.

A lighting change that survives the normalisation (a non-uniform one, a light switched
on) turns a large part of the frame to foreground at once; then the background is
re-learnt from the current frame and that frame yields no detections.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import cv2
import numpy as np

from devices.camera.blobs import Blob, BlobRules, find_blobs
from devices.camera.faint import traces
from devices.camera.foreground import foreground, person_mask
from devices.camera.line import CountLine, LineEvent
from devices.camera.texture import texture_traces
from devices.camera.tracker import Track, Tracker
from devices.readings import Crossing

SideName = Literal["left", "right"]
TRACE_SHARE = 0.3  # a shadow-only trace this share of the smallest person keeps a track
TEXTURE_SHARE = 0.5  # the same for a textured trace (noise makes small ones of those)


@dataclass(frozen=True)
class CountingConfig:
    """Counting settings. Lengths and areas are in pixels of `frame_size` (default: the video)."""

    line: tuple[float, float, float, float]
    in_side: SideName = "right"
    min_area: float | None = None  # smallest single person; default 0.25% of the frame
    max_area: float | None = None  # largest single person; default 1.6% of the frame
    frame_size: tuple[int, int] | None = None
    analysis_width: int = 160
    person_aspect: float = 1.6
    band: float | None = None  # hysteresis half-width; default 0.3 person widths
    confirm: float | None = None  # distance past the line that confirms; default 1.5 widths
    learning_rate: float = 0.005  # background learning with nobody in view
    busy_learning_rate: float = 0.0005  # while tracks exist, so lingerers are not absorbed
    var_threshold: float = 16.0
    relearn_fraction: float = 0.3  # foreground share above which the scene is re-learnt
    max_missed: int = 8  # frames without a detection that end a track
    lost_missed: int = 24  # the same for a track lost in mid-view (floor-coloured clothes)
    min_hits: int = 4

    def __post_init__(self) -> None:
        if len(self.line) != 4:
            raise ValueError("line: expected four numbers X1,Y1,X2,Y2")
        x1, y1, x2, y2 = self.line
        if math.hypot(x2 - x1, y2 - y1) < 2:
            raise ValueError("line: the two points must be at least 2 px apart")
        if self.in_side not in ("left", "right"):
            raise ValueError(f"in_side: expected 'left' or 'right', got {self.in_side!r}")
        lo, hi = self.min_area, self.max_area
        if lo is not None and hi is not None and not 0 < lo < hi:
            raise ValueError("min_area/max_area: expected 0 < min_area < max_area")
        if not 32 <= self.analysis_width <= 1920:
            raise ValueError("analysis_width: expected 32..1920")
        if not 1 <= self.max_missed <= self.lost_missed:
            raise ValueError("max_missed/lost_missed: expected 1 <= max_missed <= lost_missed")


@dataclass
class Snapshot:
    """What the counter saw on the last frame, in frame pixels (for annotated videos)."""

    blobs: list[Blob] = field(default_factory=list)
    tracks: list[Track] = field(default_factory=list)
    scale: float = 1.0  # analysis px → frame px
    relearnt: bool = False


class LineCounter:
    """Counts people crossing a line in an overhead video, one frame at a time."""

    def __init__(self, config: CountingConfig) -> None:
        self.config = config
        self.frame_index = -1
        self.counts = {"in": 0, "out": 0}
        self.relearns = 0
        self.snapshot = Snapshot()
        self._size: tuple[int, int] | None = None
        self._bg = cv2.createBackgroundSubtractorMOG2(
            history=500, varThreshold=config.var_threshold, detectShadows=True
        )
        self._ref_level: float | None = None
        self._tracker: Tracker | None = None
        self._rules: BlobRules | None = None

    def process(self, frame: np.ndarray) -> list[LineEvent]:
        """Analyse one BGR (or grey) frame; return the crossings confirmed on it."""
        self.frame_index += 1
        small = self._prepare(frame)
        assert self._tracker is not None and self._rules is not None
        rate = self.config.busy_learning_rate if self._tracker.tracks else self.config.learning_rate
        raw = self._bg.apply(small, learningRate=rate)  # 255 person, 127 shadow, 0 floor
        if cv2.countNonZero(foreground(raw)) > self.config.relearn_fraction * raw.size:
            self._bg.apply(small, learningRate=1.0)
            self.relearns += 1
            self._tracker.freeze()
            self.snapshot = Snapshot([], list(self._tracker.tracks), self._scale_out, True)
            return []
        bg = self._bg.getBackgroundImage()
        mask = person_mask(raw, small, lambda: bg, self._rules.min_area)
        blobs = find_blobs(mask, self._rules, self._tracker.seeds())
        found = traces(raw, mask, TRACE_SHARE * self._rules.min_area)
        found += texture_traces(small, bg, raw, mask, TEXTURE_SHARE * self._rules.min_area)
        glimpses = [Blob(x, y, area, (0, 0, 0, 0)) for x, y, area in found]
        events = self._tracker.update(blobs, self.frame_index, glimpses)
        self.snapshot = Snapshot(blobs, list(self._tracker.tracks), self._scale_out)
        return self._tally(events)

    def finish(self) -> list[LineEvent]:
        """End of input: count the pending crossings of tracks still in view."""
        if self._tracker is None:
            return []
        return self._tally(self._tracker.flush(self.frame_index))

    def _tally(self, events: list[LineEvent]) -> list[LineEvent]:
        for e in events:
            self.counts[e.direction] += 1
        return events

    def _prepare(self, frame: np.ndarray) -> np.ndarray:
        h, w = frame.shape[:2]
        if self._size != (w, h):
            self._setup(w, h)
        aw, ah = self._analysis_size
        small = cv2.resize(frame, (aw, ah), interpolation=cv2.INTER_AREA)
        level = float(np.median(small[::4, ::4]))
        if self._ref_level is None:
            self._ref_level = level
        # The median ignores the few pixels people cover, so it tracks the lighting;
        # scaling to a slowly moving reference hides ramps from the background model.
        gain = self._ref_level / max(level, 1.0)
        self._ref_level += self.config.learning_rate * (level - self._ref_level)
        if abs(gain - 1.0) > 0.01:
            small = cv2.convertScaleAbs(small, alpha=gain)
        return small

    def _setup(self, w: int, h: int) -> None:
        cfg = self.config
        ref_w, ref_h = cfg.frame_size or (w, h)
        aw = min(cfg.analysis_width, w)
        ah = max(1, round(h * aw / w))
        self._size = (w, h)
        self._analysis_size = (aw, ah)
        k = aw / ref_w  # reference px → analysis px (the frame is resized to the same ratio)
        self._scale_out = w / aw
        area = ref_w * ref_h
        min_area = (cfg.min_area if cfg.min_area is not None else 0.0025 * area) * k * k
        max_area = (cfg.max_area if cfg.max_area is not None else 0.016 * area) * k * k
        self._rules = BlobRules(min_area, max_area, cfg.person_aspect)
        # Ellipse area = pi/4 * width * depth, width = aspect * depth.
        width = math.sqrt(4 / math.pi * cfg.person_aspect * max_area) * 0.85
        band = cfg.band * k if cfg.band is not None else 0.3 * width
        confirm = cfg.confirm * k if cfg.confirm is not None else 1.5 * width
        x1, y1, x2, y2 = (v * k for v in cfg.line)
        line = CountLine(x1, y1, x2, y2, cfg.in_side, band, max(confirm, band * 1.5))
        self._tracker = Tracker(
            line,
            gate=0.8 * width,
            max_missed=cfg.max_missed,
            min_hits=cfg.min_hits,
            lost_missed=cfg.lost_missed,
            fragment_area=0.5 * max_area,
            bounds=(aw, ah),
        )

    @property
    def line(self) -> CountLine | None:
        """The counting line in analysis pixels (None before the first frame)."""
        return self._tracker.line if self._tracker else None


def to_crossing(event: LineEvent, sensor: str) -> Crossing:
    """The reading the edge agent stores for one counted crossing."""
    return Crossing(direction=event.direction, count=1, sensor=sensor)
