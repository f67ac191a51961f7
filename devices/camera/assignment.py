"""Minimum-cost assignment of tracks to detections (the Hungarian method).

A handful of people are in view at a door, so a plain O(n²m) implementation of the
shortest-augmenting-path form of the Hungarian method is fast enough and keeps SciPy
off the Pi. Pairs whose cost is `math.inf` (outside the gate) are never assigned.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

_BIG = 1e9  # stands in for "forbidden" inside the solver; such pairs are dropped after


def assign(cost: Sequence[Sequence[float]]) -> list[tuple[int, int]]:
    """(row, column) pairs of least total cost; each row and column used at most once."""
    rows = len(cost)
    cols = len(cost[0]) if rows else 0
    if rows == 0 or cols == 0:
        return []
    transpose = rows > cols  # the solver wants rows <= columns
    if transpose:
        cost = [[cost[r][c] for r in range(rows)] for c in range(cols)]
        rows, cols = cols, rows
    c = [[_BIG if math.isinf(v) else float(v) for v in row] for row in cost]
    # Potentials u (rows), v (columns); way[] remembers the augmenting path. 1-based,
    # with column 0 as the virtual start of each search.
    u = [0.0] * (rows + 1)
    v = [0.0] * (cols + 1)
    owner = [0] * (cols + 1)  # row matched to each column, 0 = free
    way = [0] * (cols + 1)
    for r in range(1, rows + 1):
        owner[0] = r
        col = 0
        best = [math.inf] * (cols + 1)
        used = [False] * (cols + 1)
        while True:
            used[col] = True
            row, delta, nxt = owner[col], math.inf, 0
            for j in range(1, cols + 1):
                if used[j]:
                    continue
                reduced = c[row - 1][j - 1] - u[row] - v[j]
                if reduced < best[j]:
                    best[j], way[j] = reduced, col
                if best[j] < delta:
                    delta, nxt = best[j], j
            for j in range(cols + 1):
                if used[j]:
                    u[owner[j]] += delta
                    v[j] -= delta
                else:
                    best[j] -= delta
            col = nxt
            if owner[col] == 0:
                break
        while col:  # flip the augmenting path
            prev = way[col]
            owner[col] = owner[prev]
            col = prev
    pairs = []
    for j in range(1, cols + 1):
        r = owner[j]
        if r and c[r - 1][j - 1] < _BIG:
            pairs.append((j - 1, r - 1) if transpose else (r - 1, j - 1))
    return sorted(pairs)
