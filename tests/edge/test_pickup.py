"""edge.pickup: line and order states, pick-up-by, and the shopper's texts in nl and en."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from edge import pickup as p

AMS = "Europe/Amsterdam"


@pytest.mark.parametrize(
    ("lines", "cancelled", "state"),
    [
        (["to_pick", "to_pick"], False, "preparing"),
        (["picked", "short"], False, "preparing"),
        (["ready", "short", "to_pick"], False, "partly_ready"),
        (["ready", "ready"], False, "ready"),
        (["collected", "ready"], False, "partly_collected"),
        (["collected", "short"], False, "partly_collected"),
        (["collected", "collected"], False, "collected"),
        (["collected", "put_back"], False, "collected"),
        (["put_back", "put_back"], False, "expired"),
        (["picked", "to_pick"], True, "cancelled"),
    ],
)
def test_order_state_follows_its_lines(lines, cancelled, state):
    assert p.order_state(lines, cancelled=cancelled) == state


def test_staff_moves_are_picking_only():
    assert p.staff_may_move("to_pick", "picked") and p.staff_may_move("short", "picked")
    assert not p.staff_may_move("ready", "short")  # ready lines are on the counter
    assert not p.staff_may_move("collected", "picked")
    assert not p.staff_may_move("to_pick", "ready")


def test_line_numbers_given_or_by_position():
    assert p.line_numbers([None, None, None]) == [1, 2, 3]
    assert p.line_numbers([10, 20]) == [10, 20]
    with pytest.raises(p.LineNumberError, match="repeat"):
        p.line_numbers([1, 1])
    with pytest.raises(p.LineNumberError, match="some"):
        p.line_numbers([1, None])


def test_pickup_by_is_the_end_of_the_local_day():
    # 23:30 UTC on 6 June is already 7 June in Amsterdam (summer time, +2).
    ready = datetime(2026, 6, 6, 23, 30, tzinfo=UTC)
    by = p.pickup_by(ready, 7, AMS)
    assert by.isoformat() == "2026-06-14T23:59:59+02:00"
    assert not p.is_due(by, datetime(2026, 6, 14, 21, 59, tzinfo=UTC))
    assert p.is_due(by, datetime(2026, 6, 14, 22, 0, tzinfo=UTC))
    # Winter time: +1.
    assert p.pickup_by(datetime(2026, 1, 5, 9, tzinfo=UTC), 1, AMS).isoformat() == (
        "2026-01-06T23:59:59+01:00"
    )


BY = datetime(2025, 6, 14, 21, 59, 59, tzinfo=UTC)  # Saturday 14 June 2025, 23:59:59 local


@pytest.mark.parametrize(
    ("summary", "en", "nl"),
    [
        (
            p.summarise(["to_pick", "picked"]),
            "We're getting your order ready",
            "We maken je bestelling klaar",
        ),
        (
            p.summarise(["ready", "ready"], pickup_by=BY),
            "Ready at the service desk until Saturday 14 June",
            "Ligt klaar bij de servicebalie tot en met zaterdag 14 juni",
        ),
        (
            p.summarise(["ready", "ready", "short"], pickup_by=BY),
            "Part of your order is ready: 2 of 3 items. At the service desk until Saturday 14 June",
            "Een deel van je bestelling ligt klaar: 2 van 3 artikelen."
            " Bij de servicebalie tot en met zaterdag 14 juni",
        ),
        (
            p.summarise(["collected", "ready"], pickup_by=BY),
            "You have collected part of your order: 1 of 2 items."
            " The rest is ready at the service desk until Saturday 14 June",
            "Je hebt een deel van je bestelling opgehaald: 1 van 2 artikelen."
            " De rest ligt klaar bij de servicebalie tot en met zaterdag 14 juni",
        ),
        (
            p.summarise(["collected", "short"]),
            "You have collected part of your order: 1 of 2 items. We're getting the rest ready",
            "Je hebt een deel van je bestelling opgehaald: 1 van 2 artikelen. We maken de rest klaar",
        ),
        (
            p.summarise(["collected"], collected_at=datetime(2025, 6, 12, 23, 5, tzinfo=UTC)),
            "Collected on Friday 13 June",  # 01:05 local on the 13th
            "Opgehaald op vrijdag 13 juni",
        ),
        (
            p.summarise(
                ["collected", "collected", "put_back"],
                collected_at=datetime(2025, 6, 14, 10, 0, tzinfo=UTC),
            ),
            "Collected on Saturday 14 June: 2 of 3 items",
            "Opgehaald op zaterdag 14 juni: 2 van 3 artikelen",
        ),
        (
            p.summarise(["collected", "put_back"]),
            "Collected: 1 of 2 items",
            "Opgehaald: 1 van 2 artikelen",
        ),
        (
            p.summarise(["put_back", "put_back"]),
            "This order has expired: the items are back on the shelf",
            "Deze bestelling is verlopen: de artikelen liggen weer in de winkel",
        ),
        (
            p.summarise(["to_pick"], cancelled=True),
            "This order has been cancelled",
            "Deze bestelling is geannuleerd",
        ),
    ],
    ids=lambda v: v.state if isinstance(v, p.OrderSummary) else "",
)
def test_shopper_texts(summary, en, nl):
    assert p.shopper_text(summary, "en", AMS) == en
    assert p.shopper_text(summary, "nl", AMS) == nl


def test_close_out_puts_back_every_open_line_not_handed_over():
    lines = {1: "ready", 2: "short", 3: "to_pick", 4: "collected", 5: "ready", 6: "put_back"}
    assert p.close_out(lines, [1]) == [2, 3, 5]
    assert p.close_out({1: "ready"}, [1]) == []


def test_no_system_state_reaches_a_shopper():
    for state in ("to_pick", "picked", "short", "ready", "collected", "put_back"):
        for lang in ("nl", "en"):
            text = p.shopper_text(p.summarise([state, "to_pick"], pickup_by=BY), lang, AMS)
            assert "_" not in text and "{" not in text
