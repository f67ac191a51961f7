"""Parser throughput: frames/s for each serial protocol parser, fed 4 KiB chunks.

    PYTHONPATH=. .venv/bin/python bench/parsers.py

Target (issue 3): at least 100,000 Terabee frames/s. Each figure is the best of 5 runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from devices.counters.ascii_line import AsciiLineParser, encode_line
from devices.counters.terabee import TerabeeParser, encode_pc

FRAMES = 50_000
CHUNK = 4096
RUNS = 5


def best_rate(make_parser: Callable[[], object], stream: bytes, frames: int) -> float:
    """Best frames/s over RUNS runs; checks every frame came out."""
    best = 0.0
    for _ in range(RUNS):
        parser = make_parser()
        count = 0
        began = time.perf_counter()
        for start in range(0, len(stream), CHUNK):
            count += len(parser.feed(stream[start : start + CHUNK], 0.0))  # type: ignore[attr-defined]
        elapsed = time.perf_counter() - began
        assert count == frames, (count, frames)
        best = max(best, frames / elapsed)
    return best


def main() -> None:
    """Print frames/s per parser."""
    results = {
        "terabee": best_rate(
            TerabeeParser, b"".join(encode_pc(7, i % 65536, i // 2) for i in range(FRAMES)), FRAMES
        ),
        "ascii": best_rate(
            AsciiLineParser,
            b"".join(encode_line("door-1", i, i // 2) for i in range(FRAMES)),
            FRAMES,
        ),
    }
    try:
        from devices.scanners.serial_scanner import ScannerParser
    except ImportError:
        print("scanner (aim): not installed, skipped")
    else:
        codes = b"".join(b"]Q1https://example.com/p/%d\r" % i for i in range(FRAMES))
        # No duplicate window: every code in the stream is distinct anyway.
        results["scanner (aim)"] = best_rate(
            lambda: ScannerParser(duplicate_window=0.0), codes, FRAMES
        )
    for name, rate in results.items():
        print(f"{name:<14} {rate:>12,.0f} frames/s")
    verdict = "meets" if results["terabee"] >= 100_000 else "MISSES"
    print(f"terabee {verdict} the 100,000 frames/s target")


if __name__ == "__main__":
    main()
