"""Person tracker and the counting line with a hysteresis band.

Tracks move at constant velocity between detections. Pieces of a blob that was cut
between tracked people (`Blob.track`) go straight to their track; every other track
and detection are paired by least total distance to the predicted positions (the
Hungarian method, `assignment.py`), within a gate. So two people who meet, merge
into one blob and part again keep their identities, and a U-turner never inherits
the crossing of someone walking on.

A track only counts once it has been *committed* on one side of the line (beyond the
band) and then commits to the other side. That crossing stays pending, and a return
to the first side cancels it (a U-turn, a person stepping over the line and back),
until the person is `confirm` pixels past the line or the track ends. Counting on the
committed sides, never on the raw sign of the distance, is what stops a person who
lingers on the line from being counted each time they sway over it.

People whose clothes match the floor (issue 14) are followed through the stretch where
they vanish: a coasting track's gate widens, a partial view moves it only halfway,
and traces (`glimpses`: a shadow, a patch of changed texture) keep it alive or start
a tentative track with no hits that remembers the side a hidden person came from. Two
tentative tracks that meet are one hidden person, and a track that coasts right
beside one seen walking the same way is that person followed twice. A tentative track
that traces have followed for `min_hits` frames is a seed for cutting blobs, so a
hidden person walking into someone in view does not drag that person's track along.
A blob two tracked people share, too small to cut between them, moves the track that
takes it only halfway. Only detections of a person count as hits, so a trace alone
never counts.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from devices.camera.assignment import assign
from devices.camera.blobs import Blob, Seed
from devices.camera.line import CountLine, LineEvent

GATE_GROWTH = 0.15  # per frame coasted, as a share of the gate
GATE_GROWTH_MAX = 1.5
PARTIAL = 0.6  # a detection under this share of the usual area shows part of a person
REVERSE_SPEED = 0.8  # px/step (analysis) over the trail: slower tracks have no heading
REVERSE_SHARE = 0.3  # a step back of this share of the track's heading speed is turning
REVERSE_COST = 0.5  # ... and costs this share of the gate in the assignment
TWIN_COS = 0.7  # tracks heading within ~45 degrees of each other walk the same way


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
    seen: tuple[float, float, int] = (0.0, 0.0, 0)  # last measured x, y and its frame
    area: float = 0.0  # usual blob area of this person, analysis px
    whole: float = 0.0  # the same, slow to shrink: what all of them looks like
    traced: int = 0  # frames followed by a shadow trace alone, before being seen
    trail: deque = field(default_factory=lambda: deque(maxlen=24))

    def predict(self) -> tuple[float, float]:
        """Where the person should be on the next frame (constant velocity)."""
        return self.x + self.vx, self.y + self.vy


class Tracker:
    """Constant-velocity tracks assigned to detections at least total distance, aged out.

    `max_missed` frames without a detection end a track; `lost_missed` is the
    patience for an established track lost away from the edges of `bounds` (the
    analysed frame size), since people do not vanish in mid-view: their clothes
    matched the floor there, or they were hidden in a group. Blobs under
    `fragment_area` next to a tracked person are pieces of that person.
    """

    def __init__(
        self,
        line: CountLine,
        gate: float,
        max_missed: int,
        min_hits: int,
        *,
        lost_missed: int | None = None,
        fragment_area: float = math.inf,
        bounds: tuple[float, float] | None = None,
    ) -> None:
        self.line = line
        self.gate = gate
        self.max_missed = max_missed
        self.lost_missed = max(max_missed, lost_missed or max_missed)
        self.min_hits = min_hits
        self.fragment_area = fragment_area
        self.bounds = bounds
        self.tracks: list[Track] = []
        self._next_id = 1

    def seeds(self) -> dict[int, Seed]:
        """Predicted positions of people to cut merged blobs between.

        That is every established track, and every tentative one that traces have
        followed for `min_hits` frames: when a hidden person and someone in view walk
        into each other (head-on over the mat), the blob they make is cut between them
        instead of dragging the one in view off their path. A person never seen as a
        blob is taken to be `fragment_area` big, so a blob is only cut for them once it
        has grown by about that much.
        """
        return {
            t.id: Seed(*t.predict(), t.area or self.fragment_area)
            for t in self.tracks
            if t.hits + t.traced >= self.min_hits
        }

    def update(
        self, blobs: list[Blob], frame: int, glimpses: list[Blob] | None = None
    ) -> list[LineEvent]:
        """Advance all tracks by one frame of detections; return confirmed crossings.

        `glimpses` are faint traces (a cast shadow, a few pixels off the floor) that
        never start a track but keep a lost, established one going.
        """
        by_id = {t.id: t for t in self.tracks}
        match: dict[int, list[Blob]] = {}
        free: list[Blob] = []
        for b in blobs:
            if b.track in by_id and b.track not in match:
                match[b.track] = [b]
            else:
                free.append(b)
        rest = [t for t in self.tracks if t.id not in match]
        cost = []
        for t in rest:
            px, py = t.predict()
            gate = self._gate(t)
            row = []
            for b in free:
                d = math.hypot(b.x - px, b.y - py)
                row.append(d + self._reversal(t, b, frame) if d < gate else math.inf)
            cost.append(row)
        used: set[int] = set()
        for r, c in assign(cost):
            match[rest[r].id] = [free[c]]
            used.add(c)
        spawn = []
        for bi, b in enumerate(free):
            if bi in used:
                continue
            # A fragment next to a person already matched (the blob broke up over a
            # floor edge) joins that person, so it cannot start a second track. A blob
            # the size of a person is a person, however close, and pieces of a split
            # blob are separate people by decision.
            near = [
                (math.hypot(b.x - by_id[tid].x, b.y - by_id[tid].y), tid)
                for tid, parts in match.items()
                if b.people == 1 and parts[0].people == 1 and b.area < self.fragment_area
            ]
            d, tid = min(near, default=(math.inf, -1))
            if d < self.gate:
                match[tid].append(b)
            else:
                spawn.append(b)
        # A trace beside a person in view is that person's shadow.
        glimpses = [
            g
            for g in glimpses or []
            if all(math.hypot(g.x - b.x, g.y - b.y) >= self.gate for b in blobs)
        ]
        seen = self._glimpse(match, glimpses)
        events: list[LineEvent] = []
        alive = []
        for t in self.tracks:
            parts = match.get(t.id)
            if parts:
                self._measure(t, parts, frame)
                events.extend(self._observe(t, frame))
            elif t.id in seen:
                self._trace(t, seen[t.id], frame)
                events.extend(self._observe(t, frame))
            else:
                t.missed += 1
                t.x += t.vx  # coast: a person briefly lost keeps walking
                t.y += t.vy
                self._coast_sign(t, frame)
                if t.missed > self._patience(t):
                    events.extend(self._finish(t, frame))
                    continue
            alive.append(t)
        self.tracks = self._dedupe(alive, traced=set(seen))
        for group in self._group(spawn):
            area = sum(b.area for b in group)
            x = sum(b.x * b.area for b in group) / area
            y = sum(b.y * b.area for b in group) / area
            self._start(x, y, area, frame, hits=1)
        # A trace far from everyone may be a person the floor hides: a tentative track
        # (no hits) that remembers the side they came from, and counts only once they
        # are seen as a person for `min_hits` frames.
        taken = set(seen.values())
        for g in glimpses:
            if g in taken or any(math.hypot(g.x - o.x, g.y - o.y) < self.gate for o in self.tracks):
                continue
            self._start(g.x, g.y, 0.0, frame, hits=0)
        return events

    def _dedupe(self, tracks: list[Track], traced: set[int]) -> list[Track]:
        # Two traces of one hidden person (their shadow and their coat's texture) can
        # each start a tentative track; once they meet, the younger one goes.
        keep: list[Track] = []
        for t in tracks:  # oldest first
            if t.hits == 0 and any(
                math.hypot(t.x - o.x, t.y - o.y) < 0.5 * self.gate for o in keep
            ):
                continue
            keep.append(t)
        # A track that coasts right beside one seen this frame, walking the same way,
        # with not even a trace of its own, is the same person followed twice (a
        # piece of them once started it): two bodies cannot overlap that much. Left,
        # it takes the next piece of the person and both tracks count them. A track
        # kept by a trace is someone hidden, whom a bad cut may have pulled sideways.
        seen = [o for o in keep if o.missed == 0 and o.hits >= self.min_hits]
        return [
            t
            for t in keep
            if not (t.missed and t.id not in traced and any(self._twin(t, o) for o in seen))
        ]

    def _twin(self, t: Track, o: Track) -> bool:
        """Whether coasting `t` is `o`, seen this frame, followed a second time."""
        if o is t or math.hypot(t.x - o.x, t.y - o.y) >= 0.5 * self.gate:
            return False
        st, so = math.hypot(t.vx, t.vy), math.hypot(o.vx, o.vy)
        # Both walking (a lingerer's sway has no heading), the same way.
        if min(st, so) < REVERSE_SPEED:
            return False
        return t.vx * o.vx + t.vy * o.vy > TWIN_COS * st * so

    def _start(self, x: float, y: float, area: float, frame: int, hits: int) -> None:
        t = Track(self._next_id, x, y, hits=hits, seen=(x, y, frame), area=area, whole=area)
        t.trail.append((x, y))
        self._next_id += 1
        self.tracks.append(t)
        self._observe(t, frame)

    def _trace(self, t: Track, g: Blob, frame: int) -> None:
        if t.hits >= self.min_hits:
            # Halfway between where they should be and the trace: a shadow lies beside
            # the person, but it shows they are still there and walking.
            px, py = t.predict()
            t.x, t.y = 0.5 * (g.x + px), 0.5 * (g.y + py)
            return
        t.traced += 1
        # Nothing better known yet: the trace is the person's best position and speed.
        sx, sy, sf = t.seen
        steps = max(1, frame - sf)
        t.vx = 0.5 * t.vx + 0.5 * (g.x - sx) / steps
        t.vy = 0.5 * t.vy + 0.5 * (g.y - sy) / steps
        t.x, t.y = g.x, g.y
        t.seen = (g.x, g.y, frame)
        t.missed = 0
        t.trail.append((g.x, g.y))

    def _glimpse(self, match: dict[int, list[Blob]], glimpses: list[Blob]) -> dict[int, Blob]:
        lost = [t for t in self.tracks if t.id not in match]
        if not lost or not glimpses:
            return {}
        cost = []
        for t in lost:
            px, py = t.predict()
            gate = self._gate(t)
            row = [math.hypot(g.x - px, g.y - py) for g in glimpses]
            cost.append([d if d < gate else math.inf for d in row])
        return {lost[r].id: glimpses[c] for r, c in assign(cost)}

    def _group(self, spawn: list[Blob]) -> list[list[Blob]]:
        # New blobs too small to be a person that lie next to each other are pieces of
        # one person coming into view, not several people.
        groups: list[list[Blob]] = []
        for b in sorted(spawn, key=lambda b: -b.area):
            small = b.people == 1 and b.area < self.fragment_area
            for g in groups:
                if small and math.hypot(b.x - g[0].x, b.y - g[0].y) < self.gate:
                    g.append(b)
                    break
            else:
                groups.append([b])
        return groups

    def _reversal(self, t: Track, b: Blob, frame: int) -> float:
        """Extra cost of giving `b` to `t` if it means `t` turned back since last seen.

        A walker does not turn on the spot between two frames. When two people pass
        head-on and one of them is hidden by the floor, the one in view is nearer the
        other's prediction the moment they re-emerge; judged by distance alone, the
        tracks swap and each follows the wrong person back. The way a track is heading
        is taken over its whole trail (a velocity from the last few pieces of a cut
        blob can point sideways). Half a gate of extra cost lets a track that keeps
        its heading win; a lone U-turner, with no one else to take them, is still
        matched.
        """
        n = len(t.trail) - 1
        if t.hits < self.min_hits or n < self.min_hits:
            return 0.0
        (x0, y0), (x1, y1) = t.trail[0], t.trail[-1]
        hx, hy = (x1 - x0) / n, (y1 - y0) / n
        speed = math.hypot(hx, hy)
        if speed < REVERSE_SPEED:
            return 0.0
        sx, sy, sf = t.seen
        along = ((b.x - sx) * hx + (b.y - sy) * hy) / (speed * max(1, frame - sf))
        return REVERSE_COST * self.gate if along < -REVERSE_SHARE * speed else 0.0

    def _gate(self, t: Track) -> float:
        # A person lost in mid-view (a coat the colour of the floor) walked on at a
        # speed we only know roughly: the longer they coast, the wider we look.
        if t.missed == 0 or t.hits < self.min_hits:
            return self.gate
        return self.gate * min(GATE_GROWTH_MAX, 1.0 + GATE_GROWTH * t.missed)

    def _patience(self, t: Track) -> int:
        if self.bounds is None or t.hits + t.traced < self.min_hits:
            return self.max_missed
        w, h = self.bounds
        m = self.gate
        inside = m < t.x < w - m and m < t.y < h - m
        return self.lost_missed if inside else self.max_missed

    def _measure(self, t: Track, parts: list[Blob], frame: int) -> None:
        area = sum(p.area for p in parts)
        x = sum(p.x * p.area for p in parts) / area
        y = sum(p.y * p.area for p in parts) / area
        sx, sy, sf = t.seen
        steps = max(1, frame - sf)
        if t.hits >= self.min_hits and any(p.shared for p in parts):
            # Two tracked people overlapping too much to be cut apart (passing through
            # the same spot): the blob's centre is the middle of the pair. Taken whole,
            # it jerks the track sideways and teaches it a sideways speed on which it
            # coasts off the person, and the two tracks swap when the pair parts. It
            # moves the track halfway and teaches it neither speed nor size.
            px, py = t.predict()
            x, y = 0.5 * (x + px), 0.5 * (y + py)
        elif t.hits >= 2 * self.min_hits and area < PARTIAL * t.whole:
            # Only part of the person shows (the rest matches the floor or the mat):
            # the centre of that part lags or leads, so it moves the track only halfway
            # and says nothing about the speed.
            px, py = t.predict()
            x, y = 0.5 * (x + px), 0.5 * (y + py)
        elif t.hits == 0:
            # First sight of someone followed by their shadow: the jump from shadow to
            # body is where the shadow lay, not how fast they walk.
            t.area = t.whole = area
        else:
            # Velocity between measurements: frames coasted count as time passing,
            # never as evidence of where the person was.
            t.vx = 0.5 * t.vx + 0.5 * (x - sx) / steps
            t.vy = 0.5 * t.vy + 0.5 * (y - sy) / steps
            t.area += 0.3 * (area - t.area)
            # A person does not shrink: parts fading into the floor must not teach the
            # track a smaller whole size, or the next partial view would pass as whole.
            t.whole += (0.3 if area > t.whole else 0.05) * (area - t.whole)
        t.x, t.y = x, y
        t.seen = (x, y, frame)
        t.hits += 1
        t.missed = 0
        t.trail.append((x, y))

    def flush(self, frame: int) -> list[LineEvent]:
        """End every track (end of a video): pending crossings of real tracks count."""
        events = [e for t in self.tracks for e in self._finish(t, frame)]
        self.tracks = []
        return events

    def freeze(self) -> None:
        """Hold tracks where they are for a frame without evidence (background relearn)."""
        for t in self.tracks:
            t.vx = t.vy = 0.0
            t.seen = (t.x, t.y, t.seen[2])

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

    def _coast_sign(self, t: Track, frame: int) -> None:
        # When a lost person is found again past the line, they crossed it while lost:
        # the coasted path says when. Sides are only committed on evidence.
        d, in_span = self.line.distance(t.x, t.y)
        sign = 1 if d >= 0 else -1
        if in_span and t.sign != 0 and sign != t.sign:
            t.sign = sign
            t.crossed_frame = frame

    def _finish(self, t: Track, frame: int) -> list[LineEvent]:
        if t.pending and t.hits >= self.min_hits:
            return [self._count(t, frame)]
        return []

    def _count(self, t: Track, frame: int) -> LineEvent:
        event = LineEvent(self.line.direction(t.pending), t.id, frame, t.crossed_frame)
        t.anchor, t.pending = t.pending, 0
        return event
