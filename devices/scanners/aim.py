"""AIM symbology identifiers (ISO/IEC 15424): the ``]cm`` prefix a scanner can send.

Layout: ``]`` (0x5D), a code character naming the symbology family, and a modifier
character whose meaning depends on the family (FNC1 position, check digit handling,
add-ons). The identifier precedes the data: ``]E04006381333931`` is an EAN-13.

`identify` splits the identifier off and names the symbology with the short,
normalised names every scanner in `devices/` uses (``Scan.symbology``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Symbology:
    """What an AIM identifier says about the data that follows it."""

    name: str
    # How to verify the data: "ean8", "upc" (EAN-13/UPC-A/UPC-E, optional add-on),
    # "gs1" (element string with AIs), "mod10" (ITF's own check digit), or "" (none).
    check: str = ""


# Family names by code character, for any modifier not listed in _BY_ID.
_FAMILY: dict[str, str] = {
    "A": "code39",
    "B": "telepen",
    "C": "code128",
    "D": "code-one",
    "E": "ean-upc",
    "F": "codabar",
    "G": "code93",
    "H": "code11",
    "I": "itf",
    "J": "dotcode",
    "K": "code16k",
    "L": "pdf417",
    "M": "msi",
    "N": "anker",
    "O": "codablock",
    "P": "plessey",
    "Q": "qr",
    "R": "straight-2of5-2bar",
    "S": "straight-2of5",
    "T": "code49",
    "U": "maxicode",
    "X": "other",
    "Z": "non-barcode",
    "d": "datamatrix",
    "e": "gs1-databar",
    "h": "hanxin",
    "z": "aztec",
}

# Identifiers whose modifier changes the name or how the data is checked.
_BY_ID: dict[str, Symbology] = {
    # UPC/EAN: ]E0 carries EAN-13 (UPC-A as 13 digits with a leading 0), ]E4 EAN-8,
    # ]E1/]E2 a lone 2-/5-digit add-on (no check digit), ]E3 a main symbol + add-on.
    "E0": Symbology("ean13", "upc"),
    "E1": Symbology("ean-addon2"),
    "E2": Symbology("ean-addon5"),
    "E3": Symbology("ean13-addon", "upc"),
    "E4": Symbology("ean8", "ean8"),
    # Code 128: modifier 1 = FNC1 in first position, which makes it GS1-128.
    "C0": Symbology("code128"),
    "C1": Symbology("gs1-128", "gs1"),
    "C2": Symbology("code128"),
    "C4": Symbology("code128"),
    # ITF: modifier 1 = the reader validated a mod-10 check digit and kept it in the data.
    "I0": Symbology("itf"),
    "I1": Symbology("itf", "mod10"),
    "I3": Symbology("itf"),
    # GS1 DataBar always carries an element string starting with AI (01).
    "e0": Symbology("gs1-databar", "gs1"),
    # DataMatrix: ]d2 (FNC1 first) is GS1 DataMatrix; the GS1 data is checked, the
    # name stays "datamatrix" so one symbology has one name.
    "d0": Symbology("datamatrix"),
    "d1": Symbology("datamatrix"),
    "d2": Symbology("datamatrix", "gs1"),
    "d3": Symbology("datamatrix"),
    "d4": Symbology("datamatrix"),
    "d5": Symbology("datamatrix", "gs1"),
    # QR: ]Q3/]Q4 (FNC1 first position) is GS1 QR, checked like GS1-128.
    "Q0": Symbology("qr"),
    "Q1": Symbology("qr"),
    "Q2": Symbology("qr"),
    "Q3": Symbology("qr", "gs1"),
    "Q4": Symbology("qr", "gs1"),
    "Q5": Symbology("qr"),
    "Q6": Symbology("qr"),
    # DotCode ]J1 = FNC1 first position (GS1 DotCode).
    "J1": Symbology("dotcode", "gs1"),
    # Aztec: modifiers 1 and 4..6 (with FNC1 first) carry GS1 data.
    "z1": Symbology("aztec", "gs1"),
}

UNKNOWN = Symbology("unknown")


def lookup(aim_id: str) -> Symbology | None:
    """Symbology for a 2-character AIM id (code + modifier), or None if not an AIM id."""
    if len(aim_id) != 2:
        return None
    known = _BY_ID.get(aim_id)
    if known is not None:
        return known
    family = _FAMILY.get(aim_id[0])
    if family is None or not aim_id[1].isalnum():
        return None
    return Symbology(family)


def identify(data: str) -> tuple[Symbology, str]:
    """Split a leading ``]cm`` off `data`: (symbology, data without the identifier)."""
    if len(data) >= 3 and data[0] == "]":
        symbology = lookup(data[1:3])
        if symbology is not None:
            return symbology, data[3:]
    return UNKNOWN, data


def aim_ids() -> dict[str, str]:
    """Every explicitly listed AIM id and its symbology name (for docs and emulators)."""
    return {"]" + key: sym.name for key, sym in _BY_ID.items()}
