"""DeltaTracker: totals → crossings, with wraps, restarts and persisted state."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.counters import delta_tracker
from devices.counters.deltas import AMBIGUOUS, DeltaTracker
from devices.readings import Crossing, Distance, Rejected, Status, Totals

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
    assert tracker.resets == 1 and tracker.ambiguous == 0


def test_the_same_fall_after_a_port_break_is_ambiguous_and_counted_low() -> None:
    # Unheard, the sensor may have counted 537 + 546 crossings: both explanations fit.
    tracker = DeltaTracker()
    counts(tracker, 65000, 64990)
    tracker.process(Status(state="disconnected"))
    assert counts(tracker, 1, 0) == (1, 0)
    assert tracker.resets == 0 and tracker.ambiguous == 1


def test_issue_14_both_totals_wrap_around_an_outage_never_counts_twice() -> None:
    # Persisted (10, 65470); the agent comes back to (50, 14). A wrap means +40/+80, a
    # restart +50/+14: whichever is true, +40/+14 counts nobody twice.
    tracker = DeltaTracker.from_state(
        {"v": 1, "modulus": M, "sensors": {"s": {"in": 10, "out": 65470}}}
    )
    out = tracker.process(totals(50, 14))
    got = {r.direction: r.count for r in out if isinstance(r, Crossing)}
    assert got == {"in": 40, "out": 14}
    [note] = [r for r in out if isinstance(r, Rejected)]
    assert note.reason == AMBIGUOUS and "10/65470 -> 50/14" in note.detail
    assert tracker.ambiguous == 1 and tracker.resets == tracker.wraps == 0


def test_a_wrap_onto_all_zero_is_ambiguous_and_counted_low() -> None:
    # With the other total at exactly 0, a wrap onto (0, 0) also looks like a power-up;
    # the one crossing is not counted, and the ambiguity is reported.
    tracker = DeltaTracker()
    counts(tracker, 65535, 0)
    assert counts(tracker, 0, 0) == (0, 0)
    assert tracker.ambiguous == 1


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


LISTEN, WINDOW = DeltaTracker().listen_window, DeltaTracker().wrap_window


def explanations(old: tuple[int, int], new: tuple[int, int], bound: int) -> set[tuple[int, int]]:
    """Every (in, out) step the totals allow when each direction moved less than `bound`."""
    found = set()
    kept = tuple((n - o) % M for o, n in zip(old, new, strict=True))
    if all(step < bound for step in kept):
        found.add(kept)
    if all(total < bound for total in new):
        found.add(new)
    return found


@settings(max_examples=500, deadline=None)
@given(
    st.tuples(
        st.one_of(st.integers(0, M - 1), st.integers(M - 300, M - 1)),
        st.one_of(st.integers(0, M - 1), st.integers(M - 300, M - 1)),
    ),
    st.data(),
)
def test_recorded_never_exceeds_the_truth_and_equals_it_when_determined(
    start: tuple[int, int], data: st.DataObject
) -> None:
    # The sensor counts; between two totals the tracker sees, it may restart (power
    # loss: USB replug or a UART sensor's own supply), the port may drop (the sensor
    # keeps counting unheard), or the agent may restart from its persisted state.
    # Heard throughout, fewer than LISTEN crossings hide between two totals (only
    # damaged frames); across a break, fewer than WINDOW per direction.
    tracker = DeltaTracker()
    cur = start
    tracker.update(totals(*cur))
    recorded = [0, 0]
    truth = [0, 0]
    all_determined = True
    for _ in range(data.draw(st.integers(1, 25), label="intervals")):
        brk = data.draw(st.sampled_from(["none", "none", "port", "agent"]), label="break")
        restart = data.draw(st.booleans(), label="restart")
        bound = LISTEN if brk == "none" else WINDOW
        step = (
            data.draw(st.integers(0, bound - 1), label="in"),
            data.draw(st.integers(0, bound - 1), label="out"),
        )
        if brk == "port":
            tracker.process(Status(state="disconnected"))
            tracker.process(Status(state="connected"))
        elif brk == "agent":
            tracker = DeltaTracker.from_state(json.loads(json.dumps(tracker.state)))
        base = (0, 0) if restart else cur
        new = ((base[0] + step[0]) % M, (base[1] + step[1]) % M)
        got = counts(tracker, *new)
        assert got[0] <= step[0] and got[1] <= step[1], (cur, new, brk, restart)
        if len(explanations(cur, new, bound)) == 1:
            assert got == step, (cur, new, brk, restart)
        else:
            all_determined = False
        recorded = [r + g for r, g in zip(recorded, got, strict=True)]
        truth = [t + s for t, s in zip(truth, step, strict=True)]
        cur = new
    assert recorded[0] <= truth[0] and recorded[1] <= truth[1]
    if all_determined:
        assert recorded == truth
