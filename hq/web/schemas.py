"""The feed bucket as the OpenAPI document describes it, built from `hq/metrics.py`'s own
field lists so the two cannot drift apart (a test compares it with served rows).

Only documentation: feed rows are encoded as `hq/feeds.py` makes them."""

from __future__ import annotations

from typing import Literal

import msgspec

from hq.metrics import COUNTS, DAY_ONLY, HOUR_ONLY

# The ratios `metrics.derive` adds when a feed is read (null for a zero denominator).
RATIOS = (
    "conversion",
    "atv_cents",
    "sales_per_visitor_cents",
    "identification_rate",
    "online_to_offline_share",
    "nps",
    "counting_accuracy",
    "untrusted_clock_share",
)

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
        ("wait_median_s", float | None),
        *((name, float | None) for name in RATIOS),
        # Hour buckets only, day buckets only, the chain roll-up only:
        *((name, float | None, None) for name in (*HOUR_ONLY, *DAY_ONLY, "stores")),
    ],
    module=__name__,
    kw_only=True,
)
