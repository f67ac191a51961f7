"""Kiosk languages: every message translated, catalogs current, no literal text in screens."""

from __future__ import annotations

import ast
import gettext
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from kiosk.i18n import LOCALE_DIR, Translator
from tests.support import ROOT

SCREEN_DIRS = [ROOT / "kiosk/screens", ROOT / "kiosk/widgets"]
WIDGETS = {"Label", "Button", "Static", "Input"}
# Text shown on purpose without translation: each language's own name, and key caps.
ALLOWED = {"", "English", "Nederlands"}


def extract() -> set:
    """The message ids Babel finds in kiosk/ (the same keywords as `make i18n`)."""
    found = extract_from_dir(
        ROOT / "kiosk",
        method_map=[("**.py", "python")],
        keywords={"tr": None, "ntr": (1, 2), "N_": None},
    )
    return {msg for _file, _line, msg, _comments, _ctx in found}


def test_every_message_in_the_code_is_translated_to_dutch():
    in_code = extract()
    with (LOCALE_DIR / "nl/LC_MESSAGES/kiosk.po").open("rb") as fh:
        po = read_po(fh)
    translated = {
        (m.id if isinstance(m.id, str) else tuple(m.id))
        for m in po
        if m.id and (all(m.string) if isinstance(m.string, tuple | list) else m.string)
    }
    assert in_code - translated == set(), "run `make i18n` and translate the new messages"
    assert len(in_code) > 50


def test_compiled_catalog_matches_the_po():
    with (LOCALE_DIR / "nl/LC_MESSAGES/kiosk.po").open("rb") as fh:
        po = read_po(fh)
    with (LOCALE_DIR / "nl/LC_MESSAGES/kiosk.mo").open("rb") as fh:
        mo = gettext.GNUTranslations(fh)
    for m in po:
        if m.id and isinstance(m.id, str):
            assert mo.gettext(m.id) == m.string, f"kiosk.mo is stale for {m.id!r}: run `make i18n`"


def _literal_texts(path: Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in WIDGETS:
            args = list(node.args[:1]) + [k.value for k in node.keywords if k.arg == "placeholder"]
            for arg in args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    yield node.lineno, arg.value


@pytest.mark.parametrize(
    "path", [p for d in SCREEN_DIRS for p in sorted(d.glob("*.py"))], ids=lambda p: p.name
)
def test_no_literal_text_in_screens(path):
    found = [(line, text) for line, text in _literal_texts(path) if text not in ALLOWED]
    assert found == [], f"{path.name}: wrap shopper text in app.tr(): {found}"


def test_prices_and_distances_per_language():
    nl, en = Translator("nl"), Translator("en")
    assert nl.price(123456) == "€ 1.234,56" and en.price(123456) == "€1,234.56"
    assert nl.km(2.5) == "2,5 km" and en.km(2.5) == "2.5 km"
    assert nl.tr("Sold out") == "Uitverkocht" and en.tr("Sold out") == "Sold out"
    assert nl.ntr("{n} review", "{n} reviews", 1) == "{n} review"
    with pytest.raises(ValueError):
        Translator("de")
