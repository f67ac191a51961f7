"""An order's state at head office folded from its store's events (pure: no database)."""

from __future__ import annotations

import random
from zoneinfo import ZoneInfo

from hq.orders.lifecycle import Step, fold

AMS = ZoneInfo("Europe/Amsterdam")


def steps(*events: tuple[str, str, dict]) -> list[Step]:
    return [Step(i, t, ts, {"order": "W-1"} | d) for i, (t, ts, d) in enumerate(events, 1)]


def life(events: list[Step], lines=(1, 2, 3), cancelled=False):
    return fold(lines, events, cancelled_at_hq=cancelled, hold_days=7, tz=AMS)


SHORT_THEN_REST = steps(
    ("pickup.line", "2026-06-12T08:00:00.000Z", {"line": 1, "state": "picked"}),
    ("pickup.line", "2026-06-12T08:01:00.000Z", {"line": 2, "state": "picked"}),
    ("pickup.line", "2026-06-12T08:02:00.000Z", {"line": 3, "state": "short"}),
    ("pickup.ready", "2026-06-12T08:03:00.000Z", {"lines_ready": 2, "lines_total": 3,
        "pickup_by": "2026-06-19T23:59:59+02:00"}),
    ("pickup.checkin", "2026-06-12T15:00:00.000Z", {"via": "scan"}),
    ("pickup.handover", "2026-06-12T15:02:00.000Z", {"lines": [1, 2], "partial": True}),
    ("pickup.line", "2026-06-13T09:00:00.000Z", {"line": 3, "state": "picked"}),
    ("pickup.ready", "2026-06-13T09:01:00.000Z", {"lines_ready": 1, "lines_total": 3}),
    ("pickup.handover", "2026-06-14T10:00:00.000Z", {"lines": [3], "partial": False}),
)  # fmt: skip


def test_partial_ready_and_hand_over_then_the_rest():
    assert life(SHORT_THEN_REST[:4]).state == "partly_ready"
    assert life(SHORT_THEN_REST[:4]).lines == {1: "ready", 2: "ready", 3: "short"}
    after_first = life(SHORT_THEN_REST[:6])
    assert after_first.state == "partly_collected" and after_first.ended_at is None
    assert after_first.pickup_by.isoformat() == "2026-06-19T23:59:59+02:00"
    done = life(SHORT_THEN_REST)
    assert done.state == "collected" and set(done.lines.values()) == {"collected"}
    assert done.collected_at.isoformat() == "2026-06-14T10:00:00+00:00"
    # The second ready mark had no pick-up-by: the store's zone and hold days give it.
    assert done.pickup_by.isoformat() == "2026-06-20T23:59:59+02:00"


def test_any_arrival_order_gives_the_same_state():
    expected = life(SHORT_THEN_REST)
    shuffled = list(SHORT_THEN_REST)
    random.Random(7).shuffle(shuffled)
    assert life(shuffled) == expected


def test_no_show_expires_or_ends_a_partly_collected_order_as_collected():
    ready = SHORT_THEN_REST[:4]
    no_show = Step(
        9, "pickup.no_show", "2026-06-19T22:00:00.000Z", {"order": "W-1", "lines": [1, 2]}
    )
    expired = life([*ready, no_show])
    assert expired.state == "expired" and set(expired.lines.values()) == {"put_back"}
    partly = life([*SHORT_THEN_REST[:6], no_show])
    assert partly.state == "collected" and partly.lines == {1: "collected", 2: "collected",
                                                             3: "put_back"}  # fmt: skip


def test_a_handover_without_the_missing_items_ends_the_order_collected():
    without = Step(7, "pickup.handover", "2026-06-12T15:02:00.000Z",
                   {"order": "W-1", "lines": [1, 2], "partial": False, "missing": [3]})  # fmt: skip
    done = life([*SHORT_THEN_REST[:5], without])
    assert done.state == "collected" and done.lines == {1: "collected", 2: "collected",
                                                         3: "put_back"}  # fmt: skip
    assert done.ended_at == done.collected_at
    # A no-show after it (a store that raced its expiry) changes nothing collected.
    late = Step(8, "pickup.no_show", "2026-06-19T22:00:00.000Z", {"order": "W-1", "lines": []})
    assert life([*SHORT_THEN_REST[:5], without, late]).lines == done.lines


def test_cancellation_by_head_office_reads_at_once_and_the_store_confirms_it():
    picked = SHORT_THEN_REST[:1]
    assert life(picked, cancelled=True).state == "cancelled"
    confirmed = life([*picked, Step(5, "pickup.cancelled", "2026-06-12T09:00:00.000Z",
                                    {"order": "W-1", "lines": [1]})], cancelled=True)  # fmt: skip
    assert confirmed.ended_at is not None and set(confirmed.lines.values()) == {"put_back"}
    # Collected before the cancellation reached the store: it stays collected.
    done = life(steps(("pickup.handover", "2026-06-12T09:00:00.000Z", {})), cancelled=True)
    assert done.state == "collected"


def test_events_of_an_older_store_without_line_details():
    old = steps(
        ("pickup.ready", "2026-06-12T08:03:00.000Z", {}),
        ("pickup.handover", "2026-06-12T15:02:00.000Z", {}),
    )
    assert life(old[:1]).state == "ready"
    assert life(old).state == "collected"
