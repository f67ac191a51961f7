"""Door counters: people-crossing sensors → `Crossing` readings.

Serial counters are a stream parser (bytes → cumulative `Totals`) plus a shared
`DeltaTracker` (totals → crossings). `COUNTER_PROTOCOLS` names them for the CLI and
the edge config; each entry gives the parser class and the modulus its totals wrap at.
"""

from __future__ import annotations

from typing import Any

from devices.counters.ascii_line import MODULUS as ASCII_MODULUS
from devices.counters.ascii_line import AsciiLineParser
from devices.counters.deltas import DeltaTracker
from devices.counters.terabee import MODULUS as TERABEE_MODULUS
from devices.counters.terabee import TerabeeParser

COUNTER_PROTOCOLS: dict[str, tuple[type[TerabeeParser] | type[AsciiLineParser], int]] = {
    "terabee": (TerabeeParser, TERABEE_MODULUS),
    "ascii": (AsciiLineParser, ASCII_MODULUS),
}


def counter_parser(protocol: str, *, device: str = "") -> TerabeeParser | AsciiLineParser:
    """A fresh stream parser for a serial counter `protocol`."""
    parser_class, _modulus = COUNTER_PROTOCOLS[protocol]
    return parser_class(device=device)


def delta_tracker(protocol: str, state: dict[str, Any] | None = None) -> DeltaTracker:
    """A `DeltaTracker` for `protocol`, restored from persisted `state` when given."""
    _parser_class, modulus = COUNTER_PROTOCOLS[protocol]
    if state is None:
        return DeltaTracker(modulus=modulus)
    tracker = DeltaTracker.from_state(state)
    if tracker.modulus != modulus:
        raise ValueError(f"delta state is for modulus {tracker.modulus}, {protocol} uses {modulus}")
    return tracker
