"""A scanner emulator on a real pty, read by SerialReader into ScannerParser, against ground truth."""

from __future__ import annotations

import random
import threading
import time

import pytest

from devices.emulators.scanner import ScannerEmulator, outcome, random_gtin13, with_check_digit
from devices.readings import Rejected, Scan, Status
from devices.scanners.serial_scanner import ScannerParser
from devices.serial_reader import SerialReader

GS = "\x1d"
TIMEOUT = 0.1  # generous: a loaded CI box can pause the reader thread for tens of ms


class Sink:
    """Collects readings from the reader thread."""

    def __init__(self) -> None:
        self.readings = []
        self._cond = threading.Condition()

    def __call__(self, reading) -> None:
        with self._cond:
            self.readings.append(reading)
            self._cond.notify_all()

    def data(self):
        """Scans and rejections only (status changes aside)."""
        with self._cond:
            return [r for r in self.readings if isinstance(r, Scan | Rejected)]

    def wait_for_data(self, n: int, timeout: float = 5.0):
        """Wait for `n` scans/rejections, then a little longer to catch any extra."""
        with self._cond:
            self._cond.wait_for(lambda: len(self.data()) >= n, timeout)
        time.sleep(TIMEOUT * 3)
        return self.data()


class Rig:
    """Emulator + SerialReader + sink, with the parser of the current connection at hand."""

    def __init__(self, tmp_path, *, suffix="cr", prefix=b"", emulator_suffix=None) -> None:
        link = tmp_path / "usb-Scanner_Emulated_0001-if00"
        self.emu = ScannerEmulator(
            link, prefix=prefix, suffix=emulator_suffix or suffix, inter_byte_timeout=TIMEOUT
        )
        self.emu.plug()
        self.parsers: list[ScannerParser] = []

        def new_parser() -> ScannerParser:
            parser = ScannerParser(
                prefix=prefix, suffix=suffix, inter_byte_timeout=TIMEOUT, device=str(link)
            )
            self.parsers.append(parser)
            return parser

        self.sink = Sink()
        self.reader = SerialReader(
            str(link), new_parser, self.sink, read_timeout=0.01, backoff_min=0.05
        )
        self.reader.start()
        assert self.emu.wait_connected()

    def close(self) -> None:
        self.reader.stop()
        self.emu.close()


@pytest.fixture
def rig_factory(tmp_path):
    rigs = []

    def make(**kw) -> Rig:
        rigs.append(Rig(tmp_path, **kw))
        return rigs[-1]

    yield make
    for rig in rigs:
        rig.close()


@pytest.mark.parametrize(("suffix", "prefix"), [("cr", b""), ("lf", b"#S"), ("crlf", b"")])
def test_scanner_session_over_a_pty_matches_ground_truth(rig_factory, suffix, prefix):
    rng = random.Random(7)
    rig = rig_factory(suffix=suffix, prefix=prefix)
    emu = rig.emu
    assert emu.scan(random_gtin13(rng), "]E0")
    emu.duplicate()  # a double read inside the window
    emu.scan("96385074", "]E4")
    emu.scan("01" + with_check_digit("0950110153000") + "10LOT9" + GS + "17260101", "]C1")
    emu.half_frame(random_gtin13(rng), "]E0")  # cable jiggled mid-scan
    emu.scan("https://example.com/o/Grüße", "]Q1")
    emu.scan("0109501101530003" + "21SER" + GS + "17270101", "]d2")
    emu.bad_check_digit()
    emu.bad_gs1()
    emu.garbage(rng)
    emu.missing_prefix("LOYALTY-42")
    emu.scan("LOYALTY-43")  # no AIM id configured for this code: "unknown"
    emu.half_frame("partial")
    emu.scan(random_gtin13(rng), "]E0")
    got = rig.sink.wait_for_data(len(emu.truth))

    assert [outcome(r) for r in got] == [outcome(r) for r in emu.truth]
    [parser] = rig.parsers
    assert parser.duplicates == 1
    expected_rejections = {"duplicate": 1, "timeout": 2, "check_digit": 2, "garbage": 1}
    if prefix:
        expected_rejections["prefix"] = 1
    assert parser.rejected == expected_rejections
    assert all(r.device == emu.device and r.ts is not None for r in got)


def test_scans_resume_after_the_scanner_is_replugged(rig_factory):
    rig = rig_factory()
    rig.emu.scan("ORDER-1", "]Q1")
    rig.sink.wait_for_data(1)
    rig.emu.replug()
    assert rig.emu.wait_connected()
    rig.emu.scan("ORDER-2", "]Q1")
    got = rig.sink.wait_for_data(2)
    assert [outcome(r) for r in got] == [("scan", "qr", "ORDER-1"), ("scan", "qr", "ORDER-2")]
    states = [r.state for r in rig.sink.readings if isinstance(r, Status)]
    assert states[:3] == ["connected", "disconnected", "connected"]


def test_a_misconfigured_suffix_shows_up_as_timeouts_not_scans(rig_factory):
    # The scanner sends CR but we expect LF: frames never end, so each one times out.
    rig = rig_factory(suffix="lf", emulator_suffix="cr")
    rig.emu.scan(random_gtin13(random.Random(1)), "]E0")
    got = rig.sink.wait_for_data(1)
    assert [outcome(r) for r in got] == [("rejected", "timeout")]
