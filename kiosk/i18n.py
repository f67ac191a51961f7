"""Languages of the kiosk: gettext catalogs (Dutch, English), prices and stock phrases.

Message ids are English; `locale/nl/LC_MESSAGES/kiosk.po` holds the Dutch. Screens
call `app.tr("…")` (extracted by Babel with the keyword `tr`, see Makefile `i18n`)
and never show a literal string of their own. The compiled `.mo` files are
committed, so a fresh checkout runs without a build step; `tests/kiosk/test_i18n.py`
fails when a `.mo` is older than its `.po`.
"""

from __future__ import annotations

import gettext
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "kiosk"
LANGUAGES = ("nl", "en")


class Translator:
    """One language's messages and number formats."""

    def __init__(self, language: str) -> None:
        if language not in LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {language!r}")
        self.language = language
        if language == "en":  # the message ids are English
            self._t: gettext.NullTranslations = gettext.NullTranslations()
        else:
            self._t = gettext.translation(DOMAIN, LOCALE_DIR, languages=[language])

    def tr(self, message: str) -> str:
        """The message in this language."""
        return self._t.gettext(message)

    def ntr(self, singular: str, plural: str, n: int) -> str:
        """The singular or plural message for `n`, in this language."""
        return self._t.ngettext(singular, plural, n)

    def price(self, cents: int) -> str:
        """A price as shoppers read it: € 59,99 in Dutch, €59.99 in English."""
        euros, rest = divmod(cents, 100)
        if self.language == "nl":
            return f"€ {euros:,}".replace(",", ".") + f",{rest:02d}"
        return f"€{euros:,}.{rest:02d}"

    def decimal(self, value: float) -> str:
        """One decimal: 4,5 in Dutch, 4.5 in English."""
        text = f"{value:.1f}"
        return text.replace(".", ",") if self.language == "nl" else text

    def km(self, km: float) -> str:
        """A distance: 2,5 km in Dutch, 2.5 km in English."""
        return f"{self.decimal(km)} km"


def N_(message: str) -> str:
    """Mark a message for extraction where it is translated later (`app.tr(variable)`)."""
    return message
