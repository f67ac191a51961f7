"""`touchpoint devices …`: list serial ports and watch a device's live readings.

A thin shell: the parsers, delta tracker and reader do the work; this module turns
a person's mistakes into usage errors (exit 2) and readings into lines.
"""

from __future__ import annotations

import codecs
import json
import queue
import signal
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any

import click

from devices.readings import Crossing, Distance, Reading, Rejected, Scan, Status, Totals, to_json
from devices.serial_port import PortSpecError, check_port_spec, list_serial_ports

PROTOCOLS_BY_KIND = {"counter": ("terabee", "ascii"), "scanner": ("aim",)}


@click.group(name="devices")
def devices_group() -> None:
    """Serial door counters and scanners: list ports, watch live readings."""


@devices_group.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array, one object per port.")
def list_command(as_json: bool) -> None:
    """List serial ports with by-id path, USB id, serial number and guessed kind."""
    ports = list_serial_ports()
    if as_json:
        click.echo(json.dumps([p.to_dict() for p in ports]))
        return
    if not ports:
        click.echo("no serial ports found (the Pi console UART is never listed)")
        return
    for p in ports:
        guess = p.kind + (f"/{p.protocol}?" if p.protocol else "")
        click.echo(f"{p.by_id or p.device}")
        click.echo(
            f"    device {p.device}  usb {p.vid_pid or '-'}  serial {p.serial_number or '-'}"
            f"  kind {guess}  {p.description}"
        )


@devices_group.command(name="monitor")
@click.argument("port")
@click.option(
    "--kind",
    type=click.Choice(sorted(PROTOCOLS_BY_KIND)),
    required=True,
    help="What is on the port: a door counter or a barcode/QR scanner.",
)
@click.option(
    "--protocol",
    type=click.Choice(["terabee", "ascii", "aim"]),
    required=True,
    help="Wire protocol: terabee or ascii for counters, aim for scanners.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per reading.")
@click.option(
    "--baud",
    type=click.IntRange(50, 4_000_000),
    default=115200,
    show_default=True,
    help="Serial speed (USB-CDC devices ignore it).",
)
@click.option(
    "--prefix",
    default="",
    help=r"aim: fixed prefix the scanner sends before each code, escapes allowed (e.g. '\x02').",
)
@click.option(
    "--suffix",
    type=click.Choice(["cr", "lf", "crlf"]),
    default="cr",
    show_default=True,
    help="aim: the terminator the scanner sends after each code.",
)
@click.option(
    "--allow-unstable-name",
    is_flag=True,
    help="Accept a bare ttyUSBn/ttyACMn path, whose number changes with plug order.",
)
def monitor_command(
    port: str,
    kind: str,
    protocol: str,
    as_json: bool,
    baud: int,
    prefix: str,
    suffix: str,
    allow_unstable_name: bool,
) -> None:
    """Show PORT's live readings until Ctrl-C, across unplug and replug.

    PORT is a /dev/serial/by-id/… path, another explicit path, or VID:PID[:SERIAL].
    Counters show crossings (deltas of the sensor totals); scanners show scans.
    """
    if protocol not in PROTOCOLS_BY_KIND[kind]:
        raise click.UsageError(
            f"--protocol {protocol} is not a {kind} protocol "
            f"(choose {' or '.join(PROTOCOLS_BY_KIND[kind])})"
        )
    try:
        check_port_spec(port, allow_unstable_name=allow_unstable_name)
    except PortSpecError as exc:
        raise click.BadParameter(str(exc), param_hint="PORT") from exc
    try:
        prefix_bytes = codecs.decode(prefix, "unicode_escape").encode("latin-1")
    except (UnicodeError, ValueError) as exc:
        raise click.BadParameter(f"cannot decode {prefix!r}: {exc}", param_hint="--prefix") from exc

    parser_factory, process = _pipeline(port, protocol, prefix_bytes, suffix)
    _run_monitor(port, parser_factory, process, baud, allow_unstable_name, as_json)


def _pipeline(
    port: str, protocol: str, prefix: bytes, suffix: str
) -> tuple[Callable[[], Any], Callable[[Reading], list[Reading]] | None]:
    """The parser factory and post-processing step for `protocol`."""
    if protocol == "aim":
        # Imported here: the scanner stack is only needed when monitoring a scanner.
        from devices.scanners.serial_scanner import ScannerParser

        return (lambda: ScannerParser(prefix=prefix, suffix=suffix, device=port)), None
    from devices.counters import counter_parser, delta_tracker

    tracker = delta_tracker(protocol)
    return (lambda: counter_parser(protocol, device=port)), tracker.process


def _run_monitor(
    port: str,
    parser_factory: Callable[[], Any],
    process: Callable[[Reading], list[Reading]] | None,
    baud: int,
    allow_unstable_name: bool,
    as_json: bool,
) -> None:
    """Print readings until interrupted (Ctrl-C or SIGTERM), then stop the reader."""
    from devices.serial_reader import SerialReader

    readings: queue.Queue[Reading] = queue.Queue()
    reader = SerialReader(
        port,
        parser_factory,
        readings.put,
        baudrate=baud,
        process=process,
        allow_unstable_name=allow_unstable_name,
    )
    # Installed explicitly: a shell that started us in the background leaves SIGINT
    # ignored, and SIGTERM (systemd, kill) should stop us as cleanly as Ctrl-C.
    previous = {
        sig: signal.signal(sig, _raise_interrupt) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    reader.start()
    try:
        while True:
            try:
                reading = readings.get(timeout=0.5)
            except queue.Empty:
                continue
            click.echo(to_json(reading) if as_json else describe(reading))
            sys.stdout.flush()
    except KeyboardInterrupt:
        pass
    finally:
        reader.stop(timeout=2.0)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def describe(reading: Reading) -> str:
    """One readable line for a reading (the live view without --json)."""
    when = datetime.fromtimestamp(reading.ts).strftime("%H:%M:%S.%f")[:-3] if reading.ts else ""
    if isinstance(reading, Crossing):
        text = f"{reading.direction:<3} +{reading.count}  sensor {reading.sensor}"
    elif isinstance(reading, Scan):
        text = f"{reading.symbology}  {reading.data}"
    elif isinstance(reading, Status):
        text = f"{reading.state}  {reading.detail}".rstrip()
    elif isinstance(reading, Rejected):
        text = f"{reading.reason}  {reading.detail}".rstrip()
    elif isinstance(reading, Distance):
        text = f"d1 {reading.d1_mm} mm  d2 {reading.d2_mm} mm  sensor {reading.sensor}"
    elif isinstance(reading, Totals):
        text = f"in {reading.total_in}  out {reading.total_out}  sensor {reading.sensor}"
    else:
        text = to_json(reading)
    kind = type(reading).__name__.lower()
    return f"{when} {kind:<9} {text}"
