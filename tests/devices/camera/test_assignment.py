"""The Hungarian assignment: least total cost, gates respected, any shape of matrix."""

from __future__ import annotations

import itertools
import math
import random

from devices.camera.assignment import assign

INF = math.inf


def test_least_total_cost_beats_greedy_nearest_first() -> None:
    # Greedy takes the 1.0 pair and leaves 10.0; the best total is 2 + 2.
    cost = [[1.0, 2.0], [2.0, 10.0]]
    assert assign(cost) == [(0, 1), (1, 0)]


def test_pairs_outside_the_gate_are_never_made() -> None:
    cost = [[INF, 3.0], [INF, 1.0]]
    assert assign(cost) == [(1, 1)]
    assert assign([[INF, INF]]) == []


def test_rectangular_and_empty_matrices() -> None:
    assert assign([]) == []
    assert assign([[], []]) == []
    assert assign([[5.0], [1.0], [3.0]]) == [(1, 0)]
    assert assign([[5.0, 1.0, 3.0]]) == [(0, 1)]


def _best(cost):
    # Brute force: most pairs first, then least total cost.
    rows, cols = len(cost), len(cost[0])
    best = (0, 0.0)
    for k in range(min(rows, cols), 0, -1):
        for rs in itertools.combinations(range(rows), k):
            for cs in itertools.permutations(range(cols), k):
                total = sum(cost[r][c] for r, c in zip(rs, cs, strict=True))
                if total < INF and (k > best[0] or total < best[1]):
                    best = (k, total)
        if best[0]:
            return best
    return best


def test_matches_brute_force_on_random_gated_matrices() -> None:
    rng = random.Random(4)
    for _ in range(300):
        rows, cols = rng.randint(1, 4), rng.randint(1, 4)
        cost = [
            [INF if rng.random() < 0.3 else rng.uniform(0, 10) for _ in range(cols)]
            for _ in range(rows)
        ]
        pairs = assign(cost)
        assert len({r for r, _ in pairs}) == len({c for _, c in pairs}) == len(pairs)
        k, total = _best(cost)
        assert len(pairs) == k
        assert math.isclose(sum(cost[r][c] for r, c in pairs), total, abs_tol=1e-9)
