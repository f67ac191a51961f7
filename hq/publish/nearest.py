"""Which stores are nearest to which (pure): great-circle distance from the registry's lat/lon."""

from __future__ import annotations

import math
from collections.abc import Mapping

EARTH_RADIUS_KM = 6371.0088  # the mean radius (IUGG)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two points given in degrees."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def nearest_stores(
    locations: Mapping[str, tuple[float, float] | None], n: int
) -> dict[str, list[tuple[str, float]]]:
    """For every store, its `n` nearest other stores as (store, km), nearest first.

    A store without a location has no neighbours and is nobody's neighbour (its
    distance is unknown, and guessing would show shoppers a wrong "3 km"). Equal
    distances are ordered by store id, so the choice is the same every run.
    """
    placed = sorted((s, loc) for s, loc in locations.items() if loc is not None)
    out: dict[str, list[tuple[str, float]]] = {s: [] for s in locations}
    if n <= 0:
        return out
    for store, (lat, lon) in placed:
        others = [
            (haversine_km(lat, lon, olat, olon), other)
            for other, (olat, olon) in placed
            if other != store
        ]
        others.sort()
        out[store] = [(other, km) for km, other in others[:n]]
    return out
