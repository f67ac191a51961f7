"""The dashboard's two languages: every text in both, language choice, number formats."""

from __future__ import annotations

import re
from datetime import date
from typing import get_args, get_type_hints

import pytest

from edge.events import DeviceStatus
from hq.alert_rules import KINDS
from hq.web.i18n import Texts, negotiate
from hq.web.messages import CATALOG, SAME_IN_BOTH
from hq.web.views import FIGURES
from tests.support import ROOT

WEB = ROOT / "hq" / "web"
DEVICE_STATES = get_args(get_type_hints(DeviceStatus)["state"])


def used_keys() -> set[str]:
    """Every literal text key the templates and views ask for."""
    keys: set[str] = set()
    for path in [*WEB.glob("templates/*.html"), *WEB.glob("*.py")]:
        keys |= set(
            re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z_.]+|[a-z_]+)["']""", path.read_text())
        )
    return keys


def test_every_text_the_pages_use_is_in_the_catalog():
    keys = used_keys()
    assert {"overview.title", "fig.visitors", "chart.hourly", "nav.logout"} <= keys
    assert not keys - set(CATALOG), keys - set(CATALOG)
    # Keys the views and templates build from names: every figure, device state and alert.
    assert "degraded" in DEVICE_STATES
    built = {f"fig.{name}" for name in FIGURES} | {f"devstate.{s}" for s in DEVICE_STATES}
    built |= {f"alert.{kind}" for kind in KINDS}
    assert not built - set(CATALOG), built - set(CATALOG)


def test_every_text_is_translated():
    for key, (en, nl) in CATALOG.items():
        assert en and nl, key
        assert (en == nl) == (key in SAME_IN_BOTH), f"{key}: {en!r} / {nl!r}"
        assert re.findall(r"{\w+}", en) == re.findall(r"{\w+}", nl), key


@pytest.mark.parametrize(
    ("cookie", "header", "expected"),
    [
        (None, None, "nl"),
        (None, "en-GB,en;q=0.9", "en"),
        (None, "de-DE,de;q=0.9,en;q=0.5,nl;q=0.8", "nl"),
        (None, "fr, en;q=0.1", "en"),
        (None, "nl;q=0, en;q=bad, fr", "nl"),  # refused and malformed entries say nothing
        ("en", "nl-NL", "en"),  # the switch wins
        ("xx", "en", "en"),  # a forged cookie is ignored
    ],
)
def test_the_language_comes_from_the_switch_then_the_browser(cookie, header, expected):
    assert negotiate(cookie, header) == expected


def test_numbers_and_dates_follow_the_language():
    nl, en = Texts("nl"), Texts("en")
    assert (nl.number(12345), en.number(12345)) == ("12.345", "12,345")
    assert (nl.percent(0.1234), en.percent(0.1234)) == ("12,3%", "12.3%")
    assert (nl.signed_percent(-0.04), en.signed_percent(0.5)) == ("−4,0%", "+50.0%")
    assert nl.percent(None) == nl.number(None) == "—"
    assert (nl.day(date(2026, 12, 3)), en.day(date(2026, 12, 3))) == ("do 3 dec", "Thu 3 Dec")
    assert (nl.ago(300), en.ago(300)) == ("5 minuten geleden", "5 minutes ago")
    assert nl.ago(10) == "zojuist" and en.ago(None) == "—"
    assert nl.money(123450) == "1.234,50"
    assert nl("overview.summary", n=3, off=1) == "3 winkels, 1 offline"
    with pytest.raises(ValueError, match="nl, en"):
        Texts("de")


@pytest.mark.parametrize("language", ["nl", "en"])
def test_fast_number_formats_agree_with_babel(language):
    from babel.numbers import format_decimal, format_percent

    t = Texts(language)
    for value in (0, 1, 7.25, 999.5, 1234, 12345.678, 1_000_000, -4321.5, 0.0004):
        assert t.number(value) == format_decimal(value, "#,##0", locale=t.locale)
        assert t.number(value, 2) == format_decimal(value, "#,##0.00", locale=t.locale)
        assert t.percent(value / 1000) == format_percent(value / 1000, "#,##0.0%", locale=t.locale)
