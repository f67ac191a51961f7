"""GS1 mod-10 check digits: GTIN-8/12/13/14, UPC-E, SSCC, and AIs inside GS1 element strings.

The algorithm (GS1 General Specifications §7.9): weight the digits 3,1,3,1,… from the
right (excluding the check digit); the check digit brings the sum up to a multiple of 10.

A GS1 element string (what GS1-128, GS1 DataMatrix and GS1 QR carry) is a run of
application identifiers (AI) and values. Predefined-length AIs run on without a
separator; variable-length ones end at FNC1, which scanners send as GS (0x1D).
"""

from __future__ import annotations

GS = "\x1d"

# First two digits of an AI → total element length (AI + value) for the AIs whose
# length is predefined by GS1 (General Specifications, figure 5.10.1-2). Every other
# AI is variable-length and ends at GS or at the end of the data.
_PREDEFINED_LENGTH = {
    "00": 20,  # SSCC: 2 + 18
    "01": 16,  # GTIN: 2 + 14
    "02": 16,  # GTIN of contained items
    "03": 16,
    "04": 18,
    **{str(p): 8 for p in range(11, 20)},  # dates: 2 + 6
    "20": 4,
    **{str(p): 10 for p in range(31, 37)},  # measures: 4-digit AI + 6
    "41": 16,  # GLNs: 3-digit AI + 13
}

# AIs whose value ends in a mod-10 check digit (SSCC, GTIN, contained GTIN).
_CHECKED_AIS = ("00", "01", "02")


def mod10_check_digit(body: str) -> int:
    """Check digit for the digits in `body` (the number without its check digit)."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        total += int(ch) * (3 if i % 2 == 0 else 1)
    return (10 - total % 10) % 10


def mod10_valid(number: str) -> bool:
    """True when `number` is all ASCII digits and its last digit is the right check digit."""
    if len(number) < 2 or not (number.isascii() and number.isdigit()):
        return False
    return mod10_check_digit(number[:-1]) == int(number[-1])


def gtin_valid(number: str) -> bool:
    """True for a GTIN-8, -12, -13 or -14 with a correct check digit."""
    return len(number) in (8, 12, 13, 14) and mod10_valid(number)


def upce_to_upca(upce: str) -> str | None:
    """Expand an 8-digit UPC-E (number system, 6 digits, check) to UPC-A, or None."""
    if len(upce) != 8 or not (upce.isascii() and upce.isdigit()) or upce[0] not in "01":
        return None
    ns, d, check = upce[0], upce[1:7], upce[7]
    last = d[5]
    # The last of the six digits says where the zeros were suppressed (GS1 GenSpecs §5.2.2.4.2).
    if last in "012":
        body = d[0:2] + last + "0000" + d[2:5]
    elif last == "3":
        body = d[0:3] + "00000" + d[3:5]
    elif last == "4":
        body = d[0:4] + "00000" + d[4]
    else:
        body = d[0:5] + "0000" + last
    return ns + body + check


def upce_valid(upce: str) -> bool:
    """True for an 8-digit UPC-E whose check digit matches its UPC-A expansion."""
    upca = upce_to_upca(upce)
    return upca is not None and mod10_valid(upca)


def gs1_check_errors(element_string: str) -> list[str]:
    """Problems with the checked AIs (00, 01, 02) of a GS1 element string; [] when fine.

    Only the checked AIs are judged: an unknown or oddly formed variable-length AI is
    skipped to the next GS, because rejecting a real scan over syntax we do not use
    would lose data.
    """
    errors: list[str] = []
    i, n = 0, len(element_string)
    while i < n:
        if element_string[i] == GS:
            i += 1
            continue
        head = element_string[i : i + 2]
        length = _PREDEFINED_LENGTH.get(head)
        if length is None:
            nxt = element_string.find(GS, i)
            i = n if nxt < 0 else nxt + 1
            continue
        element = element_string[i : i + length]
        if head in _CHECKED_AIS:
            value = element[2:]
            if len(value) != length - 2:
                errors.append(f"AI ({head}) truncated")
            elif not mod10_valid(value):
                errors.append(f"AI ({head}) check digit")
        i += length
    return errors
