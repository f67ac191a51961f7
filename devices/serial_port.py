"""Serial ports: discovery, stable selection, exclusive open.

A USB serial adapter's kernel name (``ttyUSB0``, ``ttyACM1``) depends on plug order,
so a port is chosen by something stable: a ``/dev/serial/by-id/…`` path (or any other
explicit path, such as a udev symlink or a test pty) or ``VID:PID[:SERIAL]``. Bare
``ttyUSB*``/``ttyACM*`` names are refused unless `allow_unstable_name` is set, and the
Raspberry Pi console UART (``serial0``, ``ttyAMA0``, ``ttyS0``) is never used: a
login console on it would answer our sensor, and its chatter would look like garbage.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import serial
from serial.tools import list_ports as _list_ports

BY_ID_DIR = Path("/dev/serial/by-id")
CONSOLE_NAMES = frozenset({"serial0", "ttyAMA0", "ttyS0", "ttyAMA10", "console"})
_UNSTABLE = re.compile(r"tty(USB|ACM)\d+")
_VID_PID = re.compile(r"([0-9a-fA-F]{4}):([0-9a-fA-F]{4})(?::(.+))?")

# VID:PID (or VID alone) → (kind, protocol) guesses; a guess, shown as such.
_KNOWN_USB: dict[str, tuple[str, str]] = {
    "0483:5740": ("counter", "terabee"),  # STM32 virtual COM port, used by the Evo
    "0c2e": ("scanner", "aim"),  # Honeywell / Metrologic
    "05e0": ("scanner", "aim"),  # Symbol / Zebra
    "05f9": ("scanner", "aim"),  # Datalogic
    "1eab": ("scanner", "aim"),  # Newland
    "303a": ("counter", "ascii"),  # Espressif native USB (ESP32-S2/S3/C3)
    "2341": ("counter", "ascii"),  # Arduino
    "2e8a": ("counter", "ascii"),  # Raspberry Pi Pico
    "10c4:ea60": ("counter", "ascii"),  # CP210x, common on ESP32 boards
    "1a86:7523": ("counter", "ascii"),  # CH340, common on ESP32/Arduino clones
    "1a86:55d4": ("counter", "ascii"),  # CH9102
}
_KEYWORDS: tuple[tuple[str, tuple[str, str]], ...] = (
    ("teraranger", ("counter", "terabee")),
    ("terabee", ("counter", "terabee")),
    ("scanner", ("scanner", "aim")),
    ("barcode", ("scanner", "aim")),
    ("honeywell", ("scanner", "aim")),
    ("zebra", ("scanner", "aim")),
    ("datalogic", ("scanner", "aim")),
)


class PortError(Exception):
    """A port could not be selected or opened."""


class PortSpecError(PortError, ValueError):
    """The port was named in a way we refuse (a person's mistake: exit 2 at the CLI)."""


class PortNotFound(PortError):
    """No (or more than one) present port matches the selection."""


@dataclass(frozen=True)
class PortInfo:
    """One serial port as discovered, with a guessed kind and protocol."""

    device: str
    by_id: str | None
    vid_pid: str | None
    serial_number: str | None
    description: str
    manufacturer: str | None
    kind: str
    protocol: str | None

    def to_dict(self) -> dict[str, str | None]:
        """JSON-able form for ``devices list --json``."""
        return asdict(self)


def by_id_links(by_id_dir: Path = BY_ID_DIR) -> dict[str, str]:
    """Map each real device path to its ``by-id`` symlink."""
    links: dict[str, str] = {}
    try:
        entries = sorted(by_id_dir.iterdir())
    except OSError:
        return links
    for entry in entries:
        if entry.is_symlink():
            links[os.path.realpath(entry)] = str(entry)
    return links


def guess_kind(vid_pid: str | None, text: str) -> tuple[str, str | None]:
    """Guess (kind, protocol) from USB ids and descriptive text."""
    lowered = text.lower()
    for word, guess in _KEYWORDS:
        if word in lowered:
            return guess
    if vid_pid:
        guess = _KNOWN_USB.get(vid_pid) or _KNOWN_USB.get(vid_pid.split(":")[0])
        if guess:
            return guess
    return ("unknown", None)


def is_console(path: str) -> bool:
    """Whether `path` is (or links to) the Pi's console UART."""
    names = {os.path.basename(path), os.path.basename(os.path.realpath(path))}
    return bool(names & CONSOLE_NAMES)


def list_serial_ports(by_id_dir: Path = BY_ID_DIR) -> list[PortInfo]:
    """Present serial ports, console UART excluded, sorted by device."""
    links = by_id_links(by_id_dir)
    ports = []
    for info in _list_ports.comports():
        if is_console(info.device):
            continue
        vid_pid = f"{info.vid:04x}:{info.pid:04x}" if info.vid is not None else None
        text = " ".join(
            str(part) for part in (info.description, info.manufacturer, info.product) if part
        )
        kind, protocol = guess_kind(vid_pid, text)
        ports.append(
            PortInfo(
                device=info.device,
                by_id=links.get(os.path.realpath(info.device)),
                vid_pid=vid_pid,
                serial_number=info.serial_number,
                description=info.description or "",
                manufacturer=info.manufacturer,
                kind=kind,
                protocol=protocol,
            )
        )
    return sorted(ports, key=lambda p: p.device)


def check_port_spec(spec: str, *, allow_unstable_name: bool = False) -> None:
    """Refuse a port named in an unstable or unsafe way (raises PortSpecError)."""
    if not spec:
        raise PortSpecError("empty port")
    if _VID_PID.fullmatch(spec):
        return
    name = os.path.basename(spec)
    if is_console(spec):
        raise PortSpecError(f"{spec} is the console UART; door devices must not use it")
    if _UNSTABLE.fullmatch(name) and not allow_unstable_name:
        raise PortSpecError(
            f"{spec}: ttyUSB/ttyACM numbers change with plug order; "
            "use /dev/serial/by-id/… or VID:PID[:SERIAL] (see `touchpoint devices list`)"
        )
    if "/" not in spec and not _UNSTABLE.fullmatch(name):
        raise PortSpecError(f"{spec}: give a path (/dev/serial/by-id/…) or VID:PID[:SERIAL]")


def resolve_port(
    spec: str, *, allow_unstable_name: bool = False, by_id_dir: Path = BY_ID_DIR
) -> str:
    """The device path to open for `spec`, looked up afresh (ports move on replug)."""
    check_port_spec(spec, allow_unstable_name=allow_unstable_name)
    match = _VID_PID.fullmatch(spec)
    if match is None:
        return spec if "/" in spec else f"/dev/{spec}"
    vid_pid = f"{match[1]}:{match[2]}".lower()
    serial_number = match[3]
    found = [
        p
        for p in list_serial_ports(by_id_dir)
        if p.vid_pid == vid_pid and (serial_number is None or p.serial_number == serial_number)
    ]
    if not found:
        raise PortNotFound(f"no serial port with USB id {spec} is plugged in")
    if len(found) > 1:
        raise PortNotFound(
            f"{len(found)} ports match {spec}; add the serial number: {vid_pid}:SERIAL"
        )
    return found[0].by_id or found[0].device


def open_exclusive(path: str, *, baudrate: int = 115200, timeout: float = 0.05) -> serial.Serial:
    """Open `path` exclusively (flock), so no second reader can steal its bytes."""
    return serial.Serial(
        path, baudrate=baudrate, timeout=timeout, write_timeout=1.0, exclusive=True
    )
