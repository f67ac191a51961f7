"""ScannerParser driven with bytes: framing, AIM ids, timeouts, duplicates, check digits."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.emulators.scanner import (
    GARBAGE_BYTES,
    build_frame,
    random_gtin13,
    with_bad_check_digit,
    with_check_digit,
)
from devices.readings import Rejected, Scan
from devices.scanners.serial_scanner import MAX_FRAME, SUFFIXES, ScannerParser

GS = "\x1d"
EAN13 = "4006381333931"


def reasons(readings):
    """Rejection reasons in order."""
    return [r.reason for r in readings if isinstance(r, Rejected)]


def scans(readings):
    """(symbology, data) of the scans in order."""
    return [(r.symbology, r.data) for r in readings if isinstance(r, Scan)]


@pytest.mark.parametrize("suffix", ["cr", "lf", "crlf"])
def test_each_suffix_ends_a_frame(suffix):
    parser = ScannerParser(suffix=suffix, device="till-1")
    out = parser.feed(build_frame(EAN13, aim_id="]E0", suffix=suffix), 0.0)
    assert out == [Scan(symbology="ean13", data=EAN13, device="till-1")]


def test_crlf_split_across_reads_still_frames():
    parser = ScannerParser(suffix="crlf")
    assert parser.feed(b"]Q1hello\r", 0.0) == []
    assert scans(parser.feed(b"\n", 0.01)) == [("qr", "hello")]


def test_cr_mode_tolerates_a_scanner_sending_crlf():
    parser = ScannerParser(suffix="cr")
    out = parser.feed(b"]Q1one\r\n", 0.0) + parser.feed(b"]Q1two\r\n", 0.01)
    out += parser.poll(1.0)
    assert scans(out) == [("qr", "one"), ("qr", "two")]
    assert reasons(out) == []


def test_prefix_is_stripped_and_required():
    parser = ScannerParser(prefix=b"#S", suffix="lf")
    out = parser.feed(b"#S]E0" + EAN13.encode() + b"\n" + EAN13.encode() + b"\n", 0.0)
    assert scans(out) == [("ean13", EAN13)]
    assert reasons(out) == ["prefix"]


@pytest.mark.parametrize(
    ("aim_id", "data", "symbology"),
    [
        ("]E0", EAN13, "ean13"),
        ("]E0", "036000291452", "ean13"),  # UPC-A sent as 12 digits
        ("]E0", "04252614", "ean13"),  # UPC-E, checked via its UPC-A expansion
        ("]E3", EAN13 + "12", "ean13-addon"),
        ("]E4", "96385074", "ean8"),
        ("]C0", "ABC-123", "code128"),
        ("]C1", "01" + "09501101530003" + "17250101" + "10ABC" + GS + "21XYZ", "gs1-128"),
        ("]Q1", "https://example.com/o/42", "qr"),
        ("]Q3", "0109501101530003" + "3103000123", "qr"),
        ("]d1", "hello datamatrix", "datamatrix"),
        ("]d2", "0109501101530003" + "10LOT1" + GS + "17260101", "datamatrix"),
        ("]A0", "CODE39", "code39"),
        ("]I1", "15400141288763", "itf"),
        ("]e0", "0109501101530003", "gs1-databar"),
        ("]z0", "aztec text", "aztec"),
        ("", "LOYALTY-12345", "unknown"),
    ],
)
def test_aim_ids_name_the_symbology(aim_id, data, symbology):
    parser = ScannerParser()
    assert scans(parser.feed(build_frame(data, aim_id=aim_id), 0.0)) == [(symbology, data)]


@pytest.mark.parametrize(
    ("aim_id", "data"),
    [
        ("]E0", with_bad_check_digit("400638133393")),
        ("]E0", "03600029145"),  # 11 digits: no EAN/UPC is that long
        ("]E0", "04252615"),  # UPC-E with the wrong check digit
        ("]E4", with_bad_check_digit("9638507")),
        ("]C1", "01" + with_bad_check_digit("0950110153000") + "10ABC"),
        ("]C1", "0109501101"),  # AI (01) cut short
        ("]d2", "10LOT" + GS + "01" + with_bad_check_digit("0950110153000")),
        ("]Q3", "00" + with_bad_check_digit("03456789012345678")),
        ("]I1", "15400141288764"),
    ],
)
def test_bad_check_digits_are_rejected_without_the_data(aim_id, data):
    parser = ScannerParser(device="till-1")
    [reading] = parser.feed(build_frame(data, aim_id=aim_id), 0.0)
    assert isinstance(reading, Rejected)
    assert reading.reason == "check_digit"
    assert data not in reading.detail  # the raw number may be a loyalty id: never echo it
    assert parser.rejected == {"check_digit": 1}


def test_check_digits_are_not_judged_without_an_ean_or_gs1_symbology():
    parser = ScannerParser()
    data = with_bad_check_digit("400638133393")
    assert scans(parser.feed(build_frame(data, aim_id="]C0") + build_frame(data), 0.0)) == [
        ("code128", data),
        ("unknown", data),
    ]


def test_half_frame_times_out_and_the_next_frame_parses():
    parser = ScannerParser(inter_byte_timeout=0.05)
    assert parser.feed(b"]E04006", 0.0) == []
    assert parser.poll(0.04) == []
    assert reasons(parser.poll(0.06)) == ["timeout"]
    assert scans(parser.feed(build_frame(EAN13, aim_id="]E0"), 0.1)) == [("ean13", EAN13)]


def test_a_stall_inside_a_frame_is_caught_even_without_poll():
    parser = ScannerParser(inter_byte_timeout=0.05)
    parser.feed(b"]E04006", 0.0)
    out = parser.feed(build_frame(EAN13, aim_id="]E0"), 0.5)
    assert reasons(out) == ["timeout"]
    assert scans(out) == [("ean13", EAN13)]


def test_duplicates_within_the_window_are_suppressed_and_counted():
    parser = ScannerParser(duplicate_window=1.0)
    frame = build_frame(EAN13, aim_id="]E0")
    out = parser.feed(frame, 0.0) + parser.feed(frame, 0.5) + parser.feed(frame, 1.2)
    # Each repeat restarts the window: a code held under the scanner is one scan.
    assert scans(out) == [("ean13", EAN13)]
    assert reasons(out) == ["duplicate", "duplicate"]
    assert parser.duplicates == 2
    assert scans(parser.feed(frame, 2.3)) == [("ean13", EAN13)]


def test_zero_window_disables_duplicate_suppression():
    parser = ScannerParser(duplicate_window=0)
    frame = build_frame("x", aim_id="]Q1")
    assert len(scans(parser.feed(frame + frame, 0.0))) == 2


def test_garbage_and_overflow_are_rejected_then_parsing_resumes():
    parser = ScannerParser()
    out = parser.feed(b"\x00\x13\xff\xfe\r", 0.0)
    out += parser.feed(b"A" * (MAX_FRAME + 10), 0.01)
    out += parser.feed(b"A" * 100 + b"\r", 0.02)  # the overflowing frame's tail: dropped
    out += parser.feed(b"]Q1ok\r", 0.03)
    assert reasons(out) == ["garbage", "overflow"]
    assert scans(out) == [("qr", "ok")]


def test_multiline_qr_text_and_gs1_envelopes_are_not_garbage():
    parser = ScannerParser(suffix="crlf")
    envelope = "[)>\x1e06\x1d1PABC\x1d\x1e\x04"
    out = parser.feed(build_frame("BEGIN:VCARD\nFN:Ann", aim_id="]Q1", suffix="crlf"), 0.0)
    out += parser.feed(build_frame(envelope, aim_id="]d1", suffix="crlf"), 0.0)
    out += parser.feed(build_frame("Grüße €", aim_id="]Q1", suffix="crlf"), 0.0)
    assert reasons(out) == []
    assert len(scans(out)) == 3


def test_unknown_suffix_is_a_configuration_error():
    with pytest.raises(ValueError, match="suffix"):
        ScannerParser(suffix="tab")


# --- properties -------------------------------------------------------------------

chunks = st.lists(st.tuples(st.binary(max_size=64), st.floats(0, 0.2)), max_size=30)


@settings(max_examples=150, deadline=None)
@given(
    chunks=chunks,
    suffix=st.sampled_from(sorted(SUFFIXES)),
    prefix=st.sampled_from([b"", b"]", b"#S"]),
)
def test_arbitrary_bytes_never_raise(chunks, suffix, prefix):
    parser = ScannerParser(prefix=prefix, suffix=suffix)
    now = 0.0
    for data, dt in chunks:
        now += dt
        for reading in parser.feed(data, now) + parser.poll(now):
            assert isinstance(reading, Scan | Rejected)


# Symbologies whose data carries no check digit, so any printable text is valid.
UNCHECKED_IDS = ["", "]Q1", "]C0", "]A0", "]d1", "]z0", "]L0"]
text = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E) | st.sampled_from("äé€\x1d"),
    min_size=1,
    max_size=60,
)


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    """`data` cut at the given positions (as a reader's short reads would)."""
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


@settings(max_examples=150, deadline=None)
@given(
    items=st.lists(st.tuples(text, st.sampled_from(UNCHECKED_IDS)), min_size=1, max_size=12),
    suffix=st.sampled_from(sorted(SUFFIXES)),
    prefix=st.sampled_from([b"", b"#S"]),
    cuts=st.lists(st.integers(0, 10_000), max_size=20),
)
def test_emulator_frames_round_trip_however_the_bytes_are_split(items, suffix, prefix, cuts):
    # Distinct data, so the duplicate window does not apply.
    items = [(f"{i}:{data}", aim_id) for i, (data, aim_id) in enumerate(items)]
    stream = b"".join(build_frame(d, aim_id=a, prefix=prefix, suffix=suffix) for d, a in items)
    parser = ScannerParser(prefix=prefix, suffix=suffix)
    out = []
    for piece in split_at(stream, cuts):
        out += parser.feed(piece, 0.0)
    expected_names = {"": "unknown", "]Q1": "qr", "]C0": "code128", "]A0": "code39"}
    expected_names |= {"]d1": "datamatrix", "]z0": "aztec", "]L0": "pdf417"}
    assert out == [Scan(symbology=expected_names[a], data=d) for d, a in items]


@settings(max_examples=150, deadline=None)
@given(
    seed=st.randoms(use_true_random=False),
    corruption=st.sampled_from(["digit", "garbage"]),
    position=st.integers(0, 12),
    suffix=st.sampled_from(sorted(SUFFIXES)),
)
def test_a_corrupted_frame_is_rejected_and_the_next_still_parses(
    seed, corruption, position, suffix
):
    good = random_gtin13(seed)
    following = with_check_digit(str((int(good[:12]) + 1) % 10**12).zfill(12))
    if corruption == "digit":
        # Any single wrong digit changes the mod-10 sum: always caught.
        wrong = str((int(good[position]) + 1 + seed.randrange(9)) % 10)
        bad = good[:position] + wrong + good[position + 1 :]
        frame = build_frame(bad, aim_id="]E0", suffix=suffix)
    else:
        noise = chr(seed.choice(GARBAGE_BYTES)).encode("latin-1")
        raw = ("]E0" + good).encode()
        frame = raw[:position] + noise + raw[position:] + SUFFIXES[suffix]
    parser = ScannerParser(suffix=suffix)
    out = parser.feed(frame, 0.0) + parser.feed(
        build_frame(following, aim_id="]E0", suffix=suffix), 0.0
    )
    assert [type(r) for r in out] == [Rejected, Scan]
    assert out[0].reason == ("check_digit" if corruption == "digit" else "garbage")
    assert out[1].data == following


def test_random_gtins_are_valid():
    assert with_check_digit("400638133393") == EAN13
