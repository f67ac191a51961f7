"""DeltaTracker: totals → crossings, with wraps, restarts and persisted state."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.counters import delta_tracker
from devices.counters.deltas import DeltaTracker
from devices.readings import Crossing, Distance, Totals

M = 65536


def totals(i: int, o: int, sensor: str = "s") -> Totals:
    return Totals(sensor=sensor, total_in=i, total_out=o)


def counts(tracker: DeltaTracker, i: int, o: int, sensor: str = "s") -> tuple[int, int]:
    """(in, out) crossings the tracker reports for new totals (i, o)."""
    got = {"in": 0, "out": 0}
    for crossing in tracker.update(totals(i, o, sensor)):
        assert crossing.count > 0 and crossing.sensor == sensor
        got[crossing.direction] += crossing.count
    return got["in"], got["out"]


def test_first_reading_is_a_baseline_unless_configured() -> None:
    assert counts(DeltaTracker(), 500, 400) == (0, 0)
    assert counts(DeltaTracker(count_first=True), 5, 4) == (5, 4)


def test_plain_increments() -> None:
    tracker = DeltaTracker()
    counts(tracker, 10, 20)
    assert counts(tracker, 11, 20) == (1, 0)
    assert counts(tracker, 11, 20) == (0, 0)
    assert counts(tracker, 15, 23) == (4, 3)


def test_wrap_at_65536_while_the_other_direction_keeps_its_total() -> None:
    tracker = DeltaTracker()
    counts(tracker, 65534, 65000)
    assert counts(tracker, 1, 65000) == (3, 0)
    assert tracker.wraps == 1 and tracker.resets == 0


def test_restart_counts_the_new_totals() -> None:
    tracker = DeltaTracker()
    counts(tracker, 500, 480)
    assert counts(tracker, 3, 1) == (3, 1)
    assert counts(tracker, 0, 0) == (0, 0)  # a second restart with nothing counted
    assert tracker.resets == 2


def test_restart_near_the_top_is_not_a_wrap() -> None:
    # Both totals fall from near the top: a wrap would need ~1080 crossings, a restart 1.
    tracker = DeltaTracker()
    counts(tracker, 65000, 64990)
    assert counts(tracker, 1, 0) == (1, 0)
    assert tracker.resets == 1


def test_documented_blind_spot_wrap_onto_all_zero_reads_as_restart() -> None:
    # docs/devices.md: with the other total at exactly 0, a wrap onto (0, 0) looks
    # like a power-up; the one crossing is not counted.
    tracker = DeltaTracker()
    counts(tracker, 65535, 0)
    assert counts(tracker, 0, 0) == (0, 0)


def test_state_round_trip_never_counts_twice() -> None:
    tracker = DeltaTracker()
    counts(tracker, 100, 90)
    counts(tracker, 105, 91)
    saved = json.loads(json.dumps(tracker.state))
    restarted = DeltaTracker.from_state(saved)
    assert counts(restarted, 105, 91) == (0, 0)  # the same totals after a reconnect
    assert counts(restarted, 107, 91) == (2, 0)


def test_sensors_are_tracked_separately() -> None:
    tracker = DeltaTracker(modulus=2**32)
    counts(tracker, 10, 10, "a")
    counts(tracker, 500, 500, "b")
    assert counts(tracker, 12, 10, "a") == (2, 0)
    assert counts(tracker, 501, 502, "b") == (1, 2)
    assert set(tracker.state["sensors"]) == {"a", "b"}


@pytest.mark.parametrize(
    "state",
    [
        {},
        {"v": 2, "sensors": {}},
        {"v": 1, "sensors": []},
        {"v": 1, "sensors": {"s": {"in": 1}}},
        {"v": 1, "modulus": 65536, "sensors": {"s": {"in": 70000, "out": 0}}},
    ],
)
def test_malformed_state_is_refused(state: dict) -> None:
    with pytest.raises(ValueError):
        DeltaTracker.from_state(state)


def test_protocol_factory_checks_the_modulus() -> None:
    assert delta_tracker("terabee").modulus == 65536
    assert delta_tracker("ascii").modulus == 2**32
    with pytest.raises(ValueError, match="modulus"):
        delta_tracker("ascii", DeltaTracker().state)


def test_process_passes_other_readings_through() -> None:
    tracker = DeltaTracker()
    distance = Distance(sensor="s", d1_mm=1, d2_mm=2)
    assert tracker.process(distance) == [distance]
    assert tracker.process(totals(1, 1)) == []
    [crossing] = tracker.process(totals(2, 1))
    assert isinstance(crossing, Crossing) and crossing.direction == "in"


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, M - 1),
    st.integers(1000, 60000),
    st.lists(st.tuples(st.booleans(), st.integers(1, 50)), max_size=60),
)
def test_observed_with_gaps_and_a_wrap_sums_exactly(
    start_in: int, start_out: int, steps: list[tuple[bool, int]]
) -> None:
    # The device counts; we observe after every `gap` crossings (frames lost between).
    tracker = DeltaTracker()
    cur = [start_in, start_out]
    tracker.update(totals(*cur))
    true_sum = [0, 0]
    got = [0, 0]
    for go_in, gap in steps:
        side = 0 if go_in else 1
        cur[side] = (cur[side] + gap) % M
        true_sum[side] += gap
        got = [g + c for g, c in zip(got, counts(tracker, *cur), strict=True)]
    assert got == true_sum


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(100, 60000), st.integers(100, 60000), st.integers(0, 50)),
        min_size=1,
        max_size=6,
    )
)
def test_restarts_lose_nothing_the_device_reported(
    epochs: list[tuple[int, int, int]],
) -> None:
    # Each epoch climbs to totals the tracker sees (>= 100 each); the sensor restarts
    # and the first report after it carries up to 50 crossings, all of them "in".
    tracker = DeltaTracker()
    tracker.update(totals(0, 0))
    expected = [0, 0]
    got = [0, 0]
    prev = (0, 0)
    for end_in, end_out, after in epochs:
        step = counts(tracker, end_in, end_out)
        got = [g + s for g, s in zip(got, step, strict=True)]
        expected = [e + v - p for e, v, p in zip(expected, (end_in, end_out), prev, strict=True)]
        step = counts(tracker, after, 0)  # restart, then `after` people came in
        got = [g + s for g, s in zip(got, step, strict=True)]
        expected[0] += after
        prev = (after, 0)
    assert got == expected
