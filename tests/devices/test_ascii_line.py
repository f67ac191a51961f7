"""ASCII ``$TPC`` line protocol: checksum, parsing, resync and refusal reasons."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from devices.counters.ascii_line import AsciiLineParser, checksum, encode_line
from devices.readings import Reading, Rejected, Totals

u32 = st.integers(0, 2**32 - 1)
sensors = st.text(alphabet="ABCxyz019_-.", min_size=1, max_size=32)


def reasons(out: list[Reading]) -> list[str]:
    return [r.reason for r in out if isinstance(r, Rejected)]


def test_encode_line_matches_documented_example() -> None:
    # The worked example in docs/devices.md.
    assert encode_line("door1", 120, 95) == b"$TPC,door1,120,95*73\r\n"
    assert checksum(b"TPC,door1,120,95") == 0x73


def test_lines_parse_with_or_without_cr_and_lowercase_hex() -> None:
    out = AsciiLineParser().feed(b"$TPC,door1,120,95*73\r\n$TPC,door1,128,95*7b\n", 0.0)
    assert out == [
        Totals(sensor="door1", total_in=120, total_out=95),
        Totals(sensor="door1", total_in=128, total_out=95),
    ]


def test_refusal_reasons() -> None:
    parser = AsciiLineParser(device="esp32")
    out = parser.feed(
        b"booting v1.2\r\n"  # firmware chatter
        b"$TPC,door1,120,95*3A\r\n"  # wrong checksum
        b"$TPC,door1,120,95\r\n"  # no checksum
        b"$GPX,1,2*" + b"%02X" % checksum(b"GPX,1,2") + b"\r\n"  # good checksum, wrong talker
        b"noise$TPC,door1,120,95*73\r\n",  # noise, then a good sentence
        0.0,
    )
    assert reasons(out) == ["garbage", "checksum", "malformed", "malformed", "garbage"]
    assert out[-1] == Totals(sensor="door1", total_in=120, total_out=95)
    assert parser.rejected == {"garbage": 2, "checksum": 1, "malformed": 2}


def test_total_above_32_bits_is_malformed() -> None:
    body = b"TPC,d,4294967296,0"
    out = AsciiLineParser().feed(b"$" + body + b"*%02X\n" % checksum(body), 0.0)
    assert reasons(out) == ["malformed"]


def test_overlong_line_is_dropped_and_stream_recovers() -> None:
    parser = AsciiLineParser()
    out = parser.feed(b"$" + b"x" * 200, 0.0)
    assert reasons(out) == ["garbage"]
    out = parser.feed(b"yyy\n" + encode_line("d", 1, 2), 0.1)
    assert out[-1] == Totals(sensor="d", total_in=1, total_out=2)


def test_partial_line_times_out() -> None:
    parser = AsciiLineParser(partial_timeout=0.5)
    assert parser.feed(b"$TPC,d,1", 1.0) == []
    assert parser.poll(1.2) == []
    assert reasons(parser.poll(1.6)) == ["timeout"]
    assert parser.feed(encode_line("d", 3, 4), 2.0) == [Totals(sensor="d", total_in=3, total_out=4)]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.lists(st.integers(0, 400), max_size=8))
def test_arbitrary_bytes_never_raise(data: bytes, cuts: list[int]) -> None:
    parser = AsciiLineParser()
    bounds = [0, *sorted(c % (len(data) + 1) for c in cuts), len(data)]
    out: list[Reading] = []
    for start, end in itertools.pairwise(bounds):
        out += parser.feed(data[start:end], 0.0)
    for reading in out + parser.poll(1e9):
        assert isinstance(reading, Totals | Rejected)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(sensors, u32, u32), min_size=1, max_size=20), st.integers(1, 64))
def test_emulator_lines_round_trip(lines: list[tuple[str, int, int]], chunk: int) -> None:
    stream = b"".join(encode_line(s, i, o) for s, i, o in lines)
    parser = AsciiLineParser()
    out: list[Reading] = []
    for start in range(0, len(stream), chunk):
        out += parser.feed(stream[start : start + chunk], 0.0)
    assert out == [Totals(sensor=s, total_in=i, total_out=o) for s, i, o in lines]


@settings(max_examples=300, deadline=None)
@given(sensors, u32, u32, st.data(), st.integers(1, 0x1F), u32)
def test_corrupted_line_rejected_next_parses(
    sensor: str, a: int, b: int, data: st.DataObject, mask: int, c: int
) -> None:
    bad = bytearray(encode_line(sensor, a, b))
    index = data.draw(st.integers(1, len(bad) - 3))  # between "$" and the line end
    bad[index] ^= mask
    out = AsciiLineParser().feed(bytes(bad) + encode_line(sensor, c, b), 0.0)
    assert out[-1] == Totals(sensor=sensor, total_in=c, total_out=b)
    assert out[:-1] and all(isinstance(r, Rejected) for r in out[:-1])
