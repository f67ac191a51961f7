"""Typed readings: what every device in `devices/` produces.

A parser turns bytes (or pin edges, or frames) into these; a reader stamps them
with the wall-clock time it saw them (`ts`, seconds since the epoch) and hands them
to whoever consumes them: the edge agent, `touchpoint devices monitor`, a test.

The JSON form (``to_json``) is what `devices monitor --json` prints, one object a
line, with ``kind`` naming the reading.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

import msgspec

Direction = Literal["in", "out"]


class Reading(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind"):
    """Base of every reading; ``ts`` is wall-clock seconds, set by the reader."""

    ts: float | None = None


class Crossing(Reading, frozen=True, kw_only=True, tag="crossing"):
    """`count` people crossed the door in `direction` (a delta, never a running total)."""

    direction: Direction
    count: int
    sensor: str


class Totals(Reading, frozen=True, kw_only=True, tag="totals"):
    """Raw cumulative totals as the sensor reported them (before delta conversion)."""

    sensor: str
    total_in: int
    total_out: int


class Distance(Reading, frozen=True, kw_only=True, tag="distance"):
    """Distances from a two-zone ranging counter, in millimetres."""

    sensor: str
    d1_mm: int
    d2_mm: int


class Scan(Reading, frozen=True, kw_only=True, tag="scan"):
    """One decoded barcode or QR code. `data` is raw: the edge pseudonymises it."""

    symbology: str
    data: str
    device: str = ""


class Status(Reading, frozen=True, kw_only=True, tag="status"):
    """Port or component state change: connected, disconnected, error, degraded."""

    state: Literal["connected", "disconnected", "error", "degraded"]
    detail: str = ""
    device: str = ""


class Rejected(Reading, frozen=True, kw_only=True, tag="rejected"):
    """Input that was refused, with a machine-readable reason (crc, garbage, timeout, …)."""

    reason: str
    detail: str = ""
    device: str = ""


AnyReading = Crossing | Totals | Distance | Scan | Status | Rejected

_encoder = msgspec.json.Encoder()


def stamp(reading: Reading, ts: float) -> Reading:
    """Return `reading` with its wall-clock time set."""
    return msgspec.structs.replace(reading, ts=ts)


def to_json(reading: Reading) -> str:
    """One-line JSON form, with ``ts`` as UTC ISO-8601 (ms) when set."""
    raw = msgspec.to_builtins(reading)
    if reading.ts is None:
        raw.pop("ts", None)
    else:
        raw["ts"] = iso_ms(reading.ts)
    return _encoder.encode(raw).decode()


def iso_ms(ts: float) -> str:
    """UTC ISO-8601 with milliseconds and a trailing Z."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
