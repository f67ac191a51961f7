"""Foreground mask → person detections: size filter, and splitting of merged people.

Seen from above, a person is a blob about `aspect` times wider (shoulders) than deep.
Two people walking side by side merge into one blob that is either bigger than any
single person or clearly too wide for its depth; such a blob is cut into n pieces of
equal pixel count along its widest axis, and each piece becomes a detection.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Blob:
    """One detection in analysis pixels: centre, area, box, and how many people it holds."""

    x: float
    y: float
    area: float
    box: tuple[int, int, int, int]  # x, y, w, h of the connected component it came from
    people: int = 1


@dataclass(frozen=True)
class BlobRules:
    """Person-size rules, all in analysis pixels."""

    min_area: float
    max_area: float
    aspect: float = 1.6  # shoulder width / body depth of one person seen from above
    max_people: int = 4  # a bigger blob is a lighting change or a crowd, not people to count


def find_blobs(mask: np.ndarray, rules: BlobRules) -> list[Blob]:
    """Connected components of a binary mask, filtered by size, merged people split."""
    n, labels, stats, centroids = cv2.connectedComponentsWithStats(mask, connectivity=8)
    fh, fw = mask.shape[:2]
    blobs: list[Blob] = []
    for i in range(1, n):
        area = float(stats[i, cv2.CC_STAT_AREA])
        if area < rules.min_area or area > rules.max_area * rules.max_people:
            continue
        box = tuple(int(v) for v in stats[i, :4])
        cx, cy = centroids[i]
        if area <= rules.max_area * 0.6:
            # Too small to be two people: skip the pixel-level shape analysis (speed).
            blobs.append(Blob(float(cx), float(cy), area, box))
            continue
        # A person cut by the frame edge looks wide and shallow: judge it by area only.
        cut = box[0] == 0 or box[1] == 0 or box[0] + box[2] == fw or box[1] + box[3] == fh
        blobs.extend(_split(labels, i, area, box, rules, cut))
    return blobs


def _split(labels, i: int, area: float, box, rules: BlobRules, cut: bool) -> list[Blob]:
    x, y, w, h = box
    ys, xs = np.nonzero(labels[y : y + h, x : x + w] == i)
    pts = np.stack([xs + x, ys + y], axis=1).astype(np.float32)
    mean = pts.mean(axis=0)
    centred = pts - mean
    # Principal axes give width and depth whatever the walking direction.
    evals, evecs = np.linalg.eigh(np.cov(centred.T) + np.eye(2) * 1e-3)
    major = evecs[:, 1]
    ratio = float(np.sqrt(evals[1] / evals[0]))
    # Between 1x and 1.4x the largest person a blob may be one big person: shape decides.
    by_area = int(area / rules.max_area + 0.6)
    # One person reads as ~aspect; two side by side as ~2*aspect. Split at 1.45*aspect
    # so a staggered pair (deeper, so less elongated) still splits.
    by_shape = 1 + int(ratio >= 1.45 * rules.aspect) + int(ratio >= 2.6 * rules.aspect)
    if cut:
        by_shape = 1
    people = max(1, min(rules.max_people, max(by_area, by_shape)))
    if people == 1:
        return [Blob(float(mean[0]), float(mean[1]), area, box)]
    t = centred @ major
    order = np.argsort(t)
    out = []
    for chunk in np.array_split(order, people):
        c = pts[chunk].mean(axis=0)
        out.append(Blob(float(c[0]), float(c[1]), area / people, box, people))
    return out
