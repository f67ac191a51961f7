"""The feed bucket as the OpenAPI document describes it, built from `hq/metrics.py`'s own
field lists so the two cannot drift apart (a test compares it with served rows).

Only documentation: feed rows are encoded as `hq/feeds.py` makes them."""

from __future__ import annotations

from typing import Literal

import msgspec

from hq.metrics import COUNTS, DAY_ONLY, HOUR_ONLY, NOT_SUMMED, RATIOS

FeedBucket = msgspec.defstruct(
    "FeedBucket",
    [
        ("store", str),
        ("period", Literal["hour", "day"]),
        ("start", str),
        ("label", str),
        ("day", str),
        ("revision", int),
        ("provisional", bool),
        ("unregistered", bool),
        *((name, float) for name in COUNTS),
        ("doors", dict[str, dict[str, int]]),
        *((name, float | None) for name in NOT_SUMMED if name != "doors"),
        *((name, float | None) for name in RATIOS),
        # Hour buckets only, day buckets only, the chain roll-up only:
        *((name, float | None, None) for name in (*HOUR_ONLY, *DAY_ONLY, "stores")),
    ],
    module=__name__,
    kw_only=True,
)
