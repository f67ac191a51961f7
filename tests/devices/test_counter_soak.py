"""Soak: 10,000 crossings over a pty with 5% corrupted frames, garbage, 20 unplug/replug
cycles and 3 power-loss resets; the summed crossings must equal ground truth exactly.

Ground truth is what the device *reported* (see `devices.emulators.counter`). The
emulator reports after every crossing, so a corrupted report costs nothing as long as
a later clean report in the same counting epoch reaches the reader: totals are
cumulative. A power loss ends an epoch: crossings whose only report was corrupted just
before it are lost by the device itself, and neither a reader nor this test can count
them. Unplugs do not end an epoch (the sensor keeps counting, and the next report
carries the crossings made while unplugged). The emulator drains before each unplug so
"sent" means "read"; everything else goes through a real pty, the real
`SerialReader`, parser and `DeltaTracker`.
"""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import pytest

from devices.counters import counter_parser, delta_tracker
from devices.emulators.ascii_counter import AsciiCounterEmulator
from devices.emulators.counter import CounterEmulator
from devices.emulators.terabee import TerabeeEmulator
from devices.readings import Crossing, Reading, Rejected, Status
from devices.serial_reader import SerialReader

CROSSINGS = 10_000
UNPLUGS = 20
RESETS = (3_000, 6_000, 8_500)

# Start values make one direction wrap early on (before the first reset); the other
# direction stays far from its own wrap, so a wrap is never hidden inside a restart.
EMULATORS = {
    "terabee": lambda link: TerabeeEmulator(
        link, sensor="4242", start=(65_000, 30_000), corrupt_rate=0.05, seed=3
    ),
    "ascii": lambda link: AsciiCounterEmulator(
        link, sensor="door-1", start=(2**32 - 600, 5), corrupt_rate=0.05, seed=4
    ),
}


class Collector:
    """Thread-safe sink summing crossings and keeping status/rejection counts."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sums = {"in": 0, "out": 0}
        self.states: list[str] = []
        self.rejected: dict[str, int] = {}

    def __call__(self, reading: Reading) -> None:
        with self.lock:
            if isinstance(reading, Crossing):
                self.sums[reading.direction] += reading.count
            elif isinstance(reading, Status):
                self.states.append(reading.state)
            elif isinstance(reading, Rejected):
                self.rejected[reading.reason] = self.rejected.get(reading.reason, 0) + 1

    def totals(self) -> tuple[int, int]:
        with self.lock:
            return (self.sums["in"], self.sums["out"])


def _replug(emu: CounterEmulator, rng: random.Random) -> int:
    """Unplug, count a few crossings while unplugged, replug; returns crossings made."""
    emu.unplug()
    made = rng.randint(0, 4)
    for _ in range(made):
        emu.cross(rng.choice(("in", "out")))
    emu.plug()
    assert emu.wait_connected(timeout=10), "reader did not reconnect"
    return made


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.parametrize("protocol", sorted(EMULATORS))
def test_soak_sums_equal_ground_truth(tmp_path: Path, protocol: str) -> None:
    emu = EMULATORS[protocol](tmp_path / "usb-Emulated_Counter-if00")
    emu.plug()
    tracker = delta_tracker(protocol)
    sink = Collector()
    reader = SerialReader(
        emu.path,
        lambda: counter_parser(protocol, device=emu.path),
        sink,
        process=tracker.process,
        backoff_min=0.02,
        backoff_max=0.2,
    )
    reader.start()
    try:
        assert emu.wait_connected(timeout=10)
        # The first report is the baseline the tracker starts from; make it arrive.
        assert emu.report(clean=True)
        assert emu.drain()
        rng = random.Random(7)
        unplug_at = set(rng.sample(range(100, CROSSINGS - 100), UNPLUGS)) - set(RESETS)
        while len(unplug_at) < UNPLUGS:
            unplug_at.add(rng.randrange(100, CROSSINGS - 100))
            unplug_at -= set(RESETS)
        made = 0
        while made < CROSSINGS:
            if made in unplug_at:
                unplug_at.discard(made)
                made += _replug(emu, rng)
                continue
            if made in RESETS:
                emu.power_loss()
                assert emu.wait_connected(timeout=10)
            if rng.random() < 0.01:
                emu.garbage(rng.randint(1, 12))
            emu.cross(rng.choice(("in", "out")))
            made += 1
        assert emu.drain()
        deadline = time.monotonic() + 5
        while sink.totals() != emu.truth and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        reader.stop(timeout=2)
        emu.close()

    assert sink.totals() == emu.truth
    # The faults really happened, and were seen as such.
    assert emu.resets == len(RESETS)
    assert 0.03 < emu.frames_corrupted / emu.frames_sent < 0.07
    assert sink.states.count("connected") == 1 + UNPLUGS + len(RESETS)
    assert sink.states.count("disconnected") == UNPLUGS + len(RESETS)
    refused = sum(sink.rejected.values())
    assert refused >= emu.frames_corrupted
    assert tracker.resets == len(RESETS)
    assert tracker.wraps >= 1
    # Only the device's own loss separates truth from everything ever counted.
    assert sum(emu.truth) <= CROSSINGS
