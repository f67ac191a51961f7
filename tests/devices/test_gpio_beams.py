"""Two-beam GPIO counter: the pure BeamSequencer, and BeamPairCounter on gpiozero MockFactory pins."""

from __future__ import annotations

import threading
import time

import pytest
from gpiozero.exc import GPIOPinInUse
from gpiozero.pins.mock import MockFactory
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.counters.gpio_beams import BeamPairCounter, BeamSequencer
from devices.readings import Crossing, Rejected, Status

DEBOUNCE, SETTLE, TIMEOUT = 0.02, 0.2, 3.0


def run(seq: BeamSequencer, edges, end: float | None = None):
    """Feed (beam, broken, t) edges in order, then poll well after the last one."""
    out = []
    for beam, broken, t in edges:
        out += seq.edge(beam, broken, t)
    last = edges[-1][2] if edges else 0.0
    out += seq.poll(last + 10.0 if end is None else end)
    return out


def walk(first: str, t0: float = 0.0) -> list[tuple[str, bool, float]]:
    """A person walking through: first beam breaks, other breaks, first clears, other clears."""
    other = "b" if first == "a" else "a"
    return [
        (first, True, t0),
        (other, True, t0 + 0.1),
        (first, False, t0 + 0.3),
        (other, False, t0 + 0.4),
    ]


def kinds(readings):
    """Compact view: crossing directions and rejection reasons, in order."""
    return [
        r.direction if isinstance(r, Crossing) else f"rejected:{r.reason}"
        for r in readings
        if isinstance(r, Crossing | Rejected)
    ]


def test_direction_comes_from_the_beam_that_breaks_first():
    seq = BeamSequencer(sensor="door1")
    out = run(seq, walk("a") + walk("b", t0=2.0))
    assert out == [
        Crossing(direction="in", count=1, sensor="door1"),
        Crossing(direction="out", count=1, sensor="door1"),
    ]
    assert seq.counts == {"in": 1, "out": 1}


def test_in_order_is_configurable():
    assert kinds(run(BeamSequencer(in_order="ba"), walk("a"))) == ["out"]
    with pytest.raises(ValueError):
        BeamSequencer(in_order="aa")


def test_a_person_turning_back_is_not_a_crossing():
    edges = [("a", True, 0.0), ("b", True, 0.1), ("b", False, 0.3), ("a", False, 0.5)]
    seq = BeamSequencer()
    assert kinds(run(seq, edges)) == ["rejected:reversal"]
    assert seq.counts == {"in": 0, "out": 0}


def test_only_one_beam_breaking_is_a_half_crossing():
    assert kinds(run(BeamSequencer(), [("a", True, 0.0), ("a", False, 0.4)])) == [
        "rejected:half_crossing"
    ]


def test_a_stalled_half_crossing_times_out_uncounted_and_counting_resumes():
    seq = BeamSequencer(timeout=TIMEOUT)
    out = seq.edge("a", True, 0.0) + seq.poll(TIMEOUT - 0.1)
    assert out == []
    out = seq.poll(TIMEOUT + 0.1)
    assert kinds(out) == ["rejected:half_crossing"]
    # The walker finally goes through while A is still broken: not counted either.
    out = run(seq, [("b", True, 4.0), ("a", False, 4.2), ("b", False, 4.3)], end=5.0)
    assert kinds(out) == []
    assert kinds(run(seq, walk("b", t0=6.0))) == ["out"]
    assert seq.counts == {"in": 0, "out": 1}
    assert seq.rejected == {"half_crossing": 1}


def test_glitches_shorter_than_the_debounce_are_ignored():
    seq = BeamSequencer(debounce=DEBOUNCE)
    glitch = [("b", True, 0.0), ("b", False, 0.005)]
    # A flicker of A while the walker is between the beams does not end the walk.
    flicker = [("a", False, 1.15), ("a", True, 1.16)]
    out = run(seq, sorted(glitch + walk("a", t0=1.0) + flicker, key=lambda e: e[2]))
    assert kinds(out) == ["in"]
    assert seq.glitches == 2


def test_gaps_within_the_settle_time_do_not_split_a_walk():
    # A narrow object clears A 50 ms before it reaches B: still one crossing A→B.
    edges = [("a", True, 0.0), ("a", False, 0.1), ("b", True, 0.15), ("b", False, 0.25)]
    assert kinds(run(BeamSequencer(settle=SETTLE), edges)) == ["in"]
    # With no settle time the same edges are two half crossings.
    assert kinds(run(BeamSequencer(settle=0), edges)) == ["rejected:half_crossing"] * 2


def test_a_beam_blocked_for_long_is_reported_degraded_then_recovered():
    seq = BeamSequencer(sensor="door1", blocked_after=30.0)
    seq.edge("a", True, 0.0)
    out = seq.poll(31.0)
    assert Status(state="degraded", detail="beam a blocked for 30 s", device="door1") in out
    assert seq.poll(40.0) == []  # reported once
    out = seq.edge("a", False, 50.0) + seq.poll(51.0)
    assert Status(state="connected", detail="beam a clear", device="door1") in out


def test_a_beam_broken_at_start_is_not_a_crossing():
    seq = BeamSequencer()
    seq.reset(a_broken=True, b_broken=False, now=0.0)
    out = run(seq, [("b", True, 1.0), ("a", False, 1.1), ("b", False, 1.2)])
    assert kinds(out) == []
    assert kinds(run(seq, walk("a", t0=3.0))) == ["in"]


# --- properties -------------------------------------------------------------------

walks = st.lists(
    st.tuples(
        st.sampled_from(["in", "out", "reversal", "half"]),
        st.floats(0.05, 0.5),  # time between edges within a walk
        st.booleans(),  # add sub-debounce glitches
    ),
    max_size=20,
)


def build_session(plan):
    """Edges for a sequence of walks, with glitches, and the expected outcome of each walk."""
    edges, expected, t = [], [], 0.0
    for what, step, glitchy in plan:
        first = "a" if what in ("in", "reversal", "half") else "b"
        other = "b" if first == "a" else "a"
        if what == "half":
            walk_edges = [(first, True, t), (first, False, t + step)]
            expected.append("rejected:half_crossing")
        elif what == "reversal":
            walk_edges = [(first, True, t), (other, True, t + step), (other, False, t + 2 * step)]
            walk_edges.append((first, False, t + 3 * step))
            expected.append("rejected:reversal")
        else:
            walk_edges = [(first, True, t), (other, True, t + step), (first, False, t + 2 * step)]
            walk_edges.append((other, False, t + 3 * step))
            expected.append(what)
        edges += walk_edges
        if glitchy:
            # A break glitch on an idle beam, in the quiet time after the walk.
            gap_start = walk_edges[-1][2] + 2 * SETTLE
            edges += [(other, True, gap_start), (other, False, gap_start + DEBOUNCE / 3)]
        t = walk_edges[-1][2] + 4 * SETTLE
    return edges, expected


@settings(max_examples=200, deadline=None)
@given(plan=walks)
def test_any_session_of_walks_counts_exactly(plan):
    edges, expected = build_session(plan)
    seq = BeamSequencer(debounce=DEBOUNCE, settle=SETTLE, timeout=TIMEOUT)
    assert kinds(run(seq, edges)) == expected
    assert seq.counts == {"in": expected.count("in"), "out": expected.count("out")}


@settings(max_examples=200, deadline=None)
@given(plan=walks)
def test_mirroring_the_beams_mirrors_the_directions(plan):
    edges, _ = build_session(plan)
    mirrored = [("b" if beam == "a" else "a", broken, t) for beam, broken, t in edges]
    seq, mirror = BeamSequencer(), BeamSequencer()
    run(seq, edges)
    run(mirror, mirrored)
    assert mirror.counts == {"in": seq.counts["out"], "out": seq.counts["in"]}


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "x"]), st.booleans(), st.floats(0, 5)), max_size=60
    )
)
def test_arbitrary_edges_never_raise_and_crossings_need_both_beams(events):
    seq = BeamSequencer()
    t, out = 0.0, []
    for beam, broken, dt in events:
        t += dt
        out += seq.edge(beam, broken, t)
    out += seq.poll(t + 100)
    crossings = [r for r in out if isinstance(r, Crossing)]
    breaks_of_b = sum(1 for beam, broken, _ in events if beam == "b" and broken)
    breaks_of_a = sum(1 for beam, broken, _ in events if beam == "a" and broken)
    assert len(crossings) <= min(breaks_of_a, breaks_of_b)
    assert len(crossings) == seq.counts["in"] + seq.counts["out"]


# --- the component on MockFactory pins ----------------------------------------------


class ManualClock:
    """A monotonic clock the test moves by hand, so debounce and timeouts are exact."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Sink:
    """Collects readings from the component's threads."""

    def __init__(self) -> None:
        self.readings = []
        self._cond = threading.Condition()

    def __call__(self, reading) -> None:
        with self._cond:
            self.readings.append(reading)
            self._cond.notify_all()

    def wait_for(self, predicate, timeout: float = 2.0):
        with self._cond:
            assert self._cond.wait_for(lambda: predicate(self.readings), timeout), self.readings
            return list(self.readings)


@pytest.fixture
def factory():
    pins = MockFactory()
    yield pins
    pins.close()


def counter(factory, sink, clock, **kw):
    kw.setdefault("poll_interval", 0.005)
    return BeamPairCounter(
        sink, pin_a=17, pin_b=27, sensor="door1", pin_factory=factory, clock=clock, **kw
    )


def drive(factory, clock, steps, broken_low: bool = True):
    """Apply (pin, broken, t) steps to the mock pins at the given clock times."""
    for pin, broken, t in steps:
        clock.now = t
        mock = factory.pin(pin)
        if broken == broken_low:
            mock.drive_low()
        else:
            mock.drive_high()


def test_component_counts_walks_on_mock_pins(factory):
    sink, clock = Sink(), ManualClock()
    beams = counter(factory, sink, clock)
    beams.start()
    try:
        drive(
            factory, clock, [(17, True, 0.0), (27, True, 0.1), (17, False, 0.3), (27, False, 0.4)]
        )
        clock.now = 1.0
        drive(
            factory, clock, [(27, True, 2.0), (17, True, 2.1), (27, False, 2.3), (17, False, 2.4)]
        )
        clock.now = 3.0
        got = sink.wait_for(lambda rs: len(kinds(rs)) >= 2)
    finally:
        beams.stop()
    assert kinds(got) == ["in", "out"]
    assert isinstance(got[0], Status) and got[0].state == "connected"
    assert all(r.ts is not None for r in got)
    assert isinstance(sink.readings[-1], Status) and sink.readings[-1].state == "disconnected"


def test_component_ignores_glitches_and_reports_timeouts(factory):
    sink, clock = Sink(), ManualClock()
    beams = counter(factory, sink, clock, timeout=1.0)
    beams.start()
    try:
        drive(factory, clock, [(27, True, 0.0), (27, False, 0.01)])  # 10 ms flicker
        drive(factory, clock, [(17, True, 0.5)])  # someone stops in the door
        clock.now = 2.0
        got = sink.wait_for(lambda rs: kinds(rs))
    finally:
        beams.stop()
    assert kinds(got) == ["rejected:half_crossing"]
    assert beams.sequencer.glitches == 1


def test_component_with_active_high_receivers_and_no_pull(factory):
    sink, clock = Sink(), ManualClock()
    beams = counter(factory, sink, clock, pull_up=None, broken_level="high")
    beams.start()
    try:
        steps = [(17, True, 0.0), (27, True, 0.1), (17, False, 0.3), (27, False, 0.4)]
        drive(factory, clock, steps, broken_low=False)
        clock.now = 1.0
        got = sink.wait_for(lambda rs: kinds(rs))
    finally:
        beams.stop()
    assert kinds(got) == ["in"]


def test_component_releases_pins_on_stop_and_reports_pin_errors(factory):
    sink, clock = Sink(), ManualClock()
    first = counter(factory, sink, clock)
    first.start()
    clash = counter(factory, sink, clock)
    with pytest.raises(GPIOPinInUse):
        clash.start()
    assert any(isinstance(r, Status) and r.state == "error" for r in sink.readings)
    started = time.monotonic()
    first.stop(timeout=1.0)
    assert time.monotonic() - started < 1.0
    again = counter(factory, sink, clock)
    again.start()  # the pins were released
    again.stop()


def test_component_on_the_real_clock(factory):
    sink = Sink()
    beams = BeamPairCounter(
        sink, pin_a=5, pin_b=6, pin_factory=factory, debounce=0.005, settle=0.05
    )
    beams.start()
    try:
        for pin, level in [(6, "low"), (5, "low"), (6, "high"), (5, "high")]:
            getattr(factory.pin(pin), f"drive_{level}")()
            time.sleep(0.03)
        got = sink.wait_for(lambda rs: kinds(rs))
    finally:
        beams.stop()
    assert kinds(got) == ["out"]
