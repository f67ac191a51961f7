"""The dashboard's two languages: texts from `messages.CATALOG`, numbers and dates by Babel.

A page is in Dutch or English: the `lang` cookie (the language switch) wins, then the
browser's Accept-Language, then Dutch (the chain's own language). Numbers, percentages,
dates and "5 minutes ago" follow the language's CLDR rules (12.345 / 12,345; 12,3% /
12.3%).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from babel import Locale
from babel.dates import format_date, format_time, format_timedelta

from hq.web.messages import CATALOG

LANGUAGES = ("nl", "en")
DEFAULT = "nl"
LANG_COOKIE = "lang"
_LOCALES = {"nl": "nl_NL", "en": "en_GB"}
_COLUMN = {"en": 0, "nl": 1}  # messages.CATALOG: (English, Dutch)
DASH = "—"  # a figure that has no value (a ratio over zero, no answers yet)


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The page language: the switch's cookie, else the browser's preference, else Dutch."""
    if cookie in LANGUAGES:
        return cookie
    wanted: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue  # a malformed weight: that entry says nothing
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and q > 0:
            wanted.append((-q, i, primary))
    return min(wanted)[2] if wanted else DEFAULT


class Texts:
    """One language's page texts and number, date and time formats."""

    def __init__(self, language: str) -> None:
        if language not in LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {language!r}")
        self.language = language
        self.locale = _LOCALES[language]
        self._index = _COLUMN[language]
        symbols = Locale.parse(self.locale).number_symbols["latn"]
        group, decimal = symbols["group"], symbols["decimal"]
        self._separators = (
            None if (group, decimal) == (",", ".") else str.maketrans(",.", group + decimal)
        )
        self._percent = symbols["percentSign"]

    def __call__(self, key: str, **values: object) -> str:
        """The text of `key` in this language, with `{name}` fields filled in."""
        text = CATALOG[key][self._index]
        return text.format(**values) if values else text

    def number(self, value: float | None, decimals: int = 0) -> str:
        """A count or amount: 12.345 in Dutch, 12,345 in English; a dash for none."""
        if value is None:
            return DASH
        # The language's CLDR separators on Python's own formatting: a page of 1,000
        # stores formats some 10,000 numbers, which Babel's pattern engine makes slow.
        text = f"{value:,.{decimals}f}"
        return text.translate(self._separators) if self._separators else text

    def percent(self, value: float | None) -> str:
        """A ratio as a percentage with one decimal: 12,3% / 12.3%; a dash for none."""
        if value is None:
            return DASH
        return self.number(value * 100, 1) + self._percent

    def signed_percent(self, value: float | None) -> str:
        """A change as a signed percentage: +12,3% / −4.0%; a dash for none."""
        if value is None:
            return DASH
        text = self.percent(abs(value))
        return ("+" if value >= 0 else "−") + text

    def day(self, value: date, style: str = "EEE d MMM") -> str:
        """A date in this language: do 3 dec / Thu 3 Dec."""
        return format_date(value, style, locale=self.locale)

    def clock(self, moment: datetime) -> str:
        """A time of day with seconds (24-hour in both languages): 14:05:09."""
        return format_time(moment, "HH:mm:ss", locale=self.locale)

    def ago(self, seconds: float | None) -> str:
        """How long ago: "5 minuten geleden" / "5 minutes ago"; a dash when never."""
        if seconds is None:
            return DASH
        if seconds < 60:
            return self("just_now")
        return format_timedelta(
            timedelta(seconds=-seconds), add_direction=True, threshold=1.5, locale=self.locale
        )

    def money(self, cents: float | None) -> str:
        """Euros with two decimals, without the sign: 1.234,50 / 1,234.50."""
        return DASH if cents is None else self.number(cents / 100, 2)
