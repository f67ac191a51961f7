"""Port selection and the reconnecting `SerialReader`, over real ptys."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import serial

from devices.counters.terabee import TerabeeParser, encode_pc
from devices.emulators.terabee import TerabeeEmulator
from devices.readings import Reading, Status, Totals
from devices.serial_port import (
    PortNotFound,
    PortSpecError,
    by_id_links,
    check_port_spec,
    guess_kind,
    list_serial_ports,
    open_exclusive,
    resolve_port,
)
from devices.serial_reader import SerialReader


class Sink:
    """Collects readings from the reader thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: list[Reading] = []

    def __call__(self, reading: Reading) -> None:
        with self.lock:
            self.items.append(reading)

    def states(self) -> list[str]:
        with self.lock:
            return [r.state for r in self.items if isinstance(r, Status)]

    def totals(self) -> list[Totals]:
        with self.lock:
            return [r for r in self.items if isinstance(r, Totals)]


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)
    return True


@pytest.mark.parametrize(
    "spec", ["/dev/ttyUSB0", "ttyACM1", "/dev/serial0", "/dev/ttyAMA0", "ttyS0", "", "foo"]
)
def test_unstable_console_and_bare_names_are_refused(spec: str) -> None:
    with pytest.raises(PortSpecError):
        check_port_spec(spec)


@pytest.mark.parametrize(
    "spec",
    [
        "/dev/serial/by-id/usb-Terabee_Evo-if00",
        "0483:5740",
        "0483:5740:2051359C4E50",
        "/dev/pts/3",
    ],
)
def test_stable_names_are_accepted(spec: str) -> None:
    check_port_spec(spec)


def test_unstable_name_allowed_on_request() -> None:
    check_port_spec("/dev/ttyUSB0", allow_unstable_name=True)
    assert resolve_port("ttyUSB0", allow_unstable_name=True) == "/dev/ttyUSB0"
    with pytest.raises(PortSpecError, match="console"):
        check_port_spec("/dev/ttyAMA0", allow_unstable_name=True)


def test_console_reached_through_a_link_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "door"
    link.symlink_to("/dev/ttyAMA0")
    with pytest.raises(PortSpecError, match="console"):
        check_port_spec(str(link))


def test_vid_pid_not_plugged_in_is_not_found() -> None:
    with pytest.raises(PortNotFound, match="ffff:fffe"):
        resolve_port("ffff:fffe")


def test_by_id_links_map_devices_to_links(tmp_path: Path) -> None:
    target = tmp_path / "ttyUSB7"
    target.touch()
    (tmp_path / "by-id").mkdir()
    (tmp_path / "by-id" / "usb-Terabee_Evo_123-if00").symlink_to(target)
    assert by_id_links(tmp_path / "by-id") == {
        str(target): str(tmp_path / "by-id" / "usb-Terabee_Evo_123-if00")
    }
    assert by_id_links(tmp_path / "missing") == {}


def test_guess_kind() -> None:
    assert guess_kind("0483:5740", "STM32 Virtual ComPort") == ("counter", "terabee")
    assert guess_kind(None, "TeraRanger Evo") == ("counter", "terabee")
    assert guess_kind("0c2e:0b61", "") == ("scanner", "aim")
    assert guess_kind("10c4:ea60", "CP2102") == ("counter", "ascii")
    assert guess_kind("1234:5678", "thing") == ("unknown", None)


def test_list_serial_ports_never_lists_the_console() -> None:
    for port in list_serial_ports():
        assert os.path.basename(port.device) not in {"ttyAMA0", "ttyS0", "serial0"}
        assert set(port.to_dict()) >= {"device", "by_id", "vid_pid", "kind"}


def test_reader_parses_stamps_and_opens_exclusively(pty_pair) -> None:
    sink = Sink()
    reader = SerialReader(pty_pair.port, TerabeeParser, sink, backoff_min=0.02)
    reader.start()
    try:
        assert wait_for(lambda: reader.connected)
        with pytest.raises(serial.SerialException):
            open_exclusive(pty_pair.port).close()
        os.write(pty_pair.master_fd, encode_pc(3, 10, 4) + encode_pc(3, 11, 4))
        assert wait_for(lambda: len(sink.totals()) == 2)
    finally:
        reader.stop()
    first = sink.items[0]
    assert isinstance(first, Status) and first.state == "connected"
    assert [t.total_in for t in sink.totals()] == [10, 11]
    assert all(t.ts is not None and abs(t.ts - time.time()) < 60 for t in sink.totals())


def test_reader_reconnects_after_unplug_and_logs_errors_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    emu = TerabeeEmulator(tmp_path / "usb-Evo-if00", sensor="1")
    emu.plug()
    sink = Sink()
    reader = SerialReader(emu.path, TerabeeParser, sink, backoff_min=0.01, backoff_max=0.02)
    caplog.set_level(logging.WARNING, logger="devices.serial_reader")
    reader.start()
    try:
        assert emu.wait_connected()
        emu.cross("in")
        assert wait_for(lambda: len(sink.totals()) == 1)
        emu.unplug()
        # Left unplugged for many retry rounds: one error reading, one log line.
        assert wait_for(lambda: "error" in sink.states())
        time.sleep(0.3)
        emu.plug()
        assert emu.wait_connected()
        emu.cross("in")
        assert wait_for(lambda: len(sink.totals()) == 2)
    finally:
        reader.stop()
        emu.close()
    assert sink.states() == ["connected", "disconnected", "error", "connected"]
    missing = [r for r in caplog.records if "No such file" in r.getMessage()]
    assert len(missing) == 1
    assert reader.connects == 2


def test_reader_survives_a_failing_sink(pty_pair) -> None:
    seen: list[Reading] = []

    def sink(reading: Reading) -> None:
        seen.append(reading)
        raise RuntimeError("consumer bug")

    reader = SerialReader(pty_pair.port, TerabeeParser, sink)
    reader.start()
    try:
        assert wait_for(lambda: reader.connected)
        os.write(pty_pair.master_fd, encode_pc(1, 1, 1) + encode_pc(1, 2, 1))
        assert wait_for(lambda: len([r for r in seen if isinstance(r, Totals)]) == 2)
    finally:
        reader.stop()


def test_stop_is_prompt_whether_connected_or_backing_off(pty_pair, tmp_path: Path) -> None:
    for port in (pty_pair.port, str(tmp_path / "absent")):
        reader = SerialReader(port, TerabeeParser, lambda r: None, backoff_min=5, backoff_max=5)
        reader.start()
        time.sleep(0.2)
        began = time.monotonic()
        reader.stop(timeout=2)
        assert time.monotonic() - began < 0.5
        assert not reader.connected
