"""Foreground mask → person detections: size filter, and splitting of merged people.

Seen from above, a person is a blob about `aspect` times wider (shoulders) than deep.
Several people touching make one blob; how it is cut depends on what is known:

- People already tracked whose predicted positions fall in the blob (`seeds`) are
  the best guide. If the blob is about as big as those people together, it is cut
  between their predicted positions (each pixel goes to the nearest prediction)
  and each piece is tied to its track. The cut thus
  runs between the people whatever way they walk: side by side, one behind the
  other, or passing head-on.
- If it is much smaller than their joint size (one walks right over or past the
  other), the pixels cannot say who is where; the blob is judged like any other
  and the tracker gives it to the nearest prediction while the rest coast.
- Otherwise (people who came into view together) a blob bigger than one person, or
  clearly too wide for its depth, is cut into equal pieces along its long axis.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import cv2
import numpy as np

SPLIT_SHARE = 0.8  # blob area / joint usual area of its tracked people needed to cut it
ABREAST = 1.2  # a blob split for its shape is longer than this many widths of the largest person


@dataclass(frozen=True)
class Blob:
    """One detection in analysis pixels: centre, area, box, and how many people it holds.

    `track` is the id of the tracked person a piece was cut for, if any. `shared`: the
    predictions of several tracked people lie in this blob and it was not cut between
    them (they overlap too much), so its centre is the middle of the group, not any
    one person's position.
    """

    x: float
    y: float
    area: float
    box: tuple[int, int, int, int]  # x, y, w, h of the connected component it came from
    people: int = 1
    track: int | None = None
    shared: bool = False


@dataclass(frozen=True)
class Seed:
    """A tracked person as the blob cutter needs them: predicted centre and usual area."""

    x: float
    y: float
    area: float


@dataclass(frozen=True)
class BlobRules:
    """Person-size rules, all in analysis pixels."""

    min_area: float
    max_area: float
    aspect: float = 1.6  # shoulder width / body depth of one person seen from above
    max_people: int = 4  # a bigger blob is a lighting change or a crowd, not people to count


def find_blobs(
    mask: np.ndarray, rules: BlobRules, seeds: Mapping[int, Seed] | None = None
) -> list[Blob]:
    """Connected components of a binary mask, filtered by size, merged people split.

    `seeds` maps track ids to the predicted position and usual area of people
    already being tracked.
    """
    seeds = seeds or {}
    n, labels, stats, centroids = cv2.connectedComponentsWithStats(mask, connectivity=8)
    fh, fw = mask.shape[:2]
    keep = [
        i
        for i in range(1, n)
        if rules.min_area <= stats[i, cv2.CC_STAT_AREA] <= rules.max_area * rules.max_people
    ]
    claims = _claims(keep, stats, centroids, seeds)
    blobs: list[Blob] = []
    for i in keep:
        area = float(stats[i, cv2.CC_STAT_AREA])
        box = tuple(int(v) for v in stats[i, :4])
        cx, cy = (float(v) for v in centroids[i])
        mine = claims.get(i, [])
        if area <= rules.max_area * 0.6 and len(mine) < 2:
            # Too small to be two people: skip the pixel-level shape analysis (speed).
            blobs.append(Blob(cx, cy, area, box))
            continue
        pts = _pixels(labels, i, box)
        if len(mine) >= 2 and area >= SPLIT_SHARE * sum(seeds[t].area for t in mine):
            pieces = _split_by_seeds(pts, box, mine, seeds)
            if pieces:
                blobs.extend(pieces)
                continue
        # A person cut by the frame edge looks wide and shallow: judge it by area only.
        cut = box[0] == 0 or box[1] == 0 or box[0] + box[2] == fw or box[1] + box[3] == fh
        people = _people(pts, area, rules, cut, tracked=len(mine) == 1)
        if people == 1:
            blobs.append(Blob(cx, cy, area, box, shared=len(mine) >= 2))
        else:
            blobs.extend(_split_by_shape(pts, area, box, people))
    return blobs


def _claims(keep, stats, centroids, seeds: Mapping[int, Seed]) -> dict[int, list[int]]:
    # Each prediction belongs to the nearest kept component whose box (plus a margin
    # for a person drifting off their prediction) contains it.
    claims: dict[int, list[int]] = {}
    for tid, seed in seeds.items():
        best, best_d = None, np.inf
        for i in keep:
            x, y, w, h = stats[i, :4]
            m = 0.15 * max(w, h) + 1
            if x - m <= seed.x <= x + w + m and y - m <= seed.y <= y + h + m:
                d = (centroids[i][0] - seed.x) ** 2 + (centroids[i][1] - seed.y) ** 2
                if d < best_d:
                    best, best_d = i, d
        if best is not None:
            claims.setdefault(best, []).append(tid)
    return claims


def _pixels(labels: np.ndarray, i: int, box) -> np.ndarray:
    x, y, w, h = box
    ys, xs = np.nonzero(labels[y : y + h, x : x + w] == i)
    return np.stack([xs + x, ys + y], axis=1).astype(np.float32)


def _people(
    pts: np.ndarray, area: float, rules: BlobRules, cut: bool, tracked: bool = False
) -> int:
    """How many people a blob's size and shape say it holds.

    `tracked`: one tracked person's prediction lies in the blob and no one else's.
    """
    if area <= rules.max_area * 0.6:
        return 1
    centred = pts - pts.mean(axis=0)
    evals = np.linalg.eigvalsh(np.cov(centred.T) + np.eye(2) * 1e-3)
    ratio = float(np.sqrt(evals[1] / evals[0]))
    # Between 1x and 1.4x the largest person a blob may be one big person: shape decides.
    # A tracked person in mid-view who grows (a big dark coat with its shadow joined
    # on, over a mat) is still one person unless the shape says two: anyone else in
    # the blob would have been seen coming. Cut in two, the piece that keeps the track
    # drags it off the person and the other starts a new track right on the line.
    by_area = int(area / ((2.0 if tracked and not cut else 1.0) * rules.max_area) + 0.6)
    # One person reads as ~aspect; two side by side as ~2*aspect. Split at 1.45*aspect
    # so a staggered pair (deeper, so less elongated) still splits.
    by_shape = 1 + int(ratio >= 1.45 * rules.aspect) + int(ratio >= 2.6 * rules.aspect)
    # Two people abreast span at least two shoulder widths; a blob no longer than
    # one person is wide is one person, however shallow (a sliver of someone stepping
    # off the mat). Cut in two, one piece drags the track sideways off the person and
    # the other starts a track right on the line that has lost the side they came from.
    widest = math.sqrt(4 / math.pi * rules.aspect * rules.max_area)
    if cut or 4 * math.sqrt(evals[1]) < ABREAST * widest:
        by_shape = 1
    # A sliver too small to hold two people is one person half hidden (stepping off
    # a mat the colour of their coat), however wide it looks.
    by_shape = min(by_shape, max(1, int(area / (2 * rules.min_area))))
    return max(1, min(rules.max_people, max(by_area, by_shape)))


def _split_by_shape(pts: np.ndarray, area: float, box, people: int) -> list[Blob]:
    # Principal axes give width and depth whatever the walking direction.
    mean = pts.mean(axis=0)
    centred = pts - mean
    _, evecs = np.linalg.eigh(np.cov(centred.T) + np.eye(2) * 1e-3)
    order = np.argsort(centred @ evecs[:, 1])
    out = []
    for chunk in np.array_split(order, people):
        c = pts[chunk].mean(axis=0)
        out.append(Blob(float(c[0]), float(c[1]), area / people, box, people))
    return out


def _split_by_seeds(pts, box, ids: list[int], seeds: Mapping[int, Seed]) -> list[Blob]:
    """Give each pixel to the nearest predicted person; [] if one would get too few."""
    centres = np.array([(seeds[t].x, seeds[t].y) for t in ids], np.float32)
    nearest = ((pts[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
    counts = np.bincount(nearest, minlength=len(ids))
    # A piece under a quarter of a fair share is not a person: do not cut this way.
    if counts.min() < 0.25 * len(pts) / len(ids):
        return []
    out = []
    for k, t in enumerate(ids):
        c = pts[nearest == k].mean(axis=0)
        out.append(Blob(float(c[0]), float(c[1]), float(counts[k]), box, len(ids), track=t))
    return out
