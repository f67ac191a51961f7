"""`touchpoint devices …`: the real command, run as a user runs it, against emulators."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from devices.cli import devices_group
from devices.counters.terabee import encode_pc
from devices.emulators.ascii_counter import AsciiCounterEmulator
from devices.emulators.terabee import TerabeeEmulator
from touchpoint.cli import main

ROOT = Path(__file__).resolve().parents[2]


class Monitor:
    """`touchpoint devices …` in a subprocess, its stdout lines collected by a thread."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from touchpoint.cli import main; main()", "devices", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def expect(self, match: Callable[[str], bool], timeout: float = 10.0) -> str:
        """The next line satisfying `match` (lines before it are skipped)."""
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                break
            self.seen.append(line)
            if match(line):
                return line
        raise AssertionError(f"no matching line within {timeout}s; seen: {self.seen}")

    def interrupt(self) -> int:
        """Ctrl-C, then the exit code."""
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=10)
        finally:
            self.proc.kill()


@pytest.fixture
def monitors() -> Iterator[list[Monitor]]:
    started: list[Monitor] = []
    yield started
    for monitor in started:
        monitor.proc.kill()
        monitor.proc.wait(timeout=10)


def json_kind(kind: str, **fields: object) -> Callable[[str], bool]:
    def match(line: str) -> bool:
        obj = json.loads(line)
        return obj["kind"] == kind and all(obj.get(k) == v for k, v in fields.items())

    return match


def test_monitor_json_across_unplug_and_replug(tmp_path: Path, monitors: list[Monitor]) -> None:
    emu = TerabeeEmulator(tmp_path / "usb-Terabee_Evo-if00", sensor="5", start=(10, 10))
    emu.plug()
    try:
        mon = Monitor("monitor", emu.path, "--kind", "counter", "--protocol", "terabee", "--json")
        monitors.append(mon)
        mon.expect(json_kind("status", state="connected"))
        assert emu.wait_connected()
        assert emu.report(clean=True)  # the baseline: not a crossing
        emu.cross("in")
        line = mon.expect(json_kind("crossing"))
        crossing = json.loads(line)
        assert crossing == {
            "kind": "crossing",
            "direction": "in",
            "count": 1,
            "sensor": "5",
            "ts": crossing["ts"],
        }
        assert crossing["ts"].endswith("Z")
        assert emu.send(encode_pc(5, 99, 99)[:-1] + b"\x00")  # bad CRC byte
        mon.expect(json_kind("rejected", reason="crc"))
        emu.unplug()
        mon.expect(json_kind("status", state="disconnected"))
        emu.cross("out")  # counted by the sensor while unplugged
        emu.plug()
        mon.expect(json_kind("status", state="connected"))
        assert emu.wait_connected()
        emu.cross("out")
        line = mon.expect(json_kind("crossing"))
        assert json.loads(line)["direction"] == "out" and json.loads(line)["count"] == 2
        assert mon.interrupt() == 0
    finally:
        emu.close()


def test_monitor_readable_view_for_ascii(tmp_path: Path, monitors: list[Monitor]) -> None:
    emu = AsciiCounterEmulator(tmp_path / "usb-Espressif-if00", sensor="door-2")
    emu.plug()
    try:
        mon = Monitor("monitor", emu.path, "--kind", "counter", "--protocol", "ascii")
        monitors.append(mon)
        mon.expect(lambda line: "connected" in line)
        assert emu.wait_connected()
        assert emu.report(clean=True)
        emu.cross("in", 2)
        line = mon.expect(lambda line: "crossing" in line)
        assert "in  +1  sensor door-2" in line
        assert mon.interrupt() == 0
    finally:
        emu.close()


def test_monitor_aim_scanner(pty_pair, monitors: list[Monitor]) -> None:
    pytest.importorskip("devices.scanners.serial_scanner")
    mon = Monitor(
        "monitor",
        pty_pair.port,
        "--kind",
        "scanner",
        "--protocol",
        "aim",
        "--suffix",
        "lf",
        "--json",
    )
    monitors.append(mon)
    mon.expect(json_kind("status", state="connected"))
    os.write(pty_pair.master_fd, b"]Q1hello world\n")
    scan = json.loads(mon.expect(json_kind("scan")))
    assert scan["symbology"] == "qr" and scan["data"] == "hello world"
    assert mon.interrupt() == 0


def test_list_json_works_here() -> None:
    result = CliRunner().invoke(main, ["devices", "list", "--json"])
    assert result.exit_code == 0, result.output
    ports = json.loads(result.output)
    assert isinstance(ports, list)
    for port in ports:
        assert {"device", "by_id", "vid_pid", "serial_number", "description", "kind"} <= set(port)


@pytest.mark.parametrize(
    "args",
    [
        ["monitor", "/dev/pts/0", "--kind", "counter", "--protocol", "aim"],
        ["monitor", "/dev/pts/0", "--kind", "scanner", "--protocol", "terabee"],
        ["monitor", "/dev/pts/0", "--protocol", "terabee"],
        ["monitor", "/dev/ttyUSB0", "--kind", "counter", "--protocol", "terabee"],
        ["monitor", "/dev/serial0", "--kind", "counter", "--protocol", "ascii"],
        ["monitor", "/dev/pts/0", "--kind", "counter", "--protocol", "modbus"],
        ["monitor", "/dev/pts/0", "--kind", "scanner", "--protocol", "aim", "--prefix", "\\x"],
        ["list", "--bogus"],
    ],
)
def test_bad_arguments_are_usage_errors(args: list[str]) -> None:
    result = CliRunner().invoke(main, ["devices", *args])
    assert result.exit_code == 2, result.output
    assert "Usage:" in result.output or "Error" in result.output


def test_every_command_and_option_has_help() -> None:
    assert devices_group.help
    for name, command in devices_group.commands.items():
        assert command.help, name
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"{name} {param.name}"
