"""Online profile rows (`hq import profiles`): checked and pseudonymised, pure.

The loyalty number and app id are turned into pseudonyms under every chain key here,
at parse time, so no raw id travels further than this module, and no reason given
for a rejected row repeats one.
"""

from __future__ import annotations

import re

import msgspec

from edge.identity import Pseudonymiser, normalise_loyalty
from hq.imports.fields import Bad, external_id, has_control, id_list, moment, text

# Column order of hq_profiles (without updated_at), the order `values()` gives.
COLUMNS = (
    "customer_id",
    "first_name",
    "recognition",
    "recognition_at",
    "marketing",
    "marketing_at",
    "last_online_at",
    "wishlist",
    "recently_viewed",
)
STATUSES = ("granted", "denied", "withdrawn")
# Input field per purpose: (status column, time column) in hq_profiles.
PURPOSES = {"instore_recognition": "recognition", "marketing": "marketing"}
_LOYALTY = re.compile(r"[0-9A-Za-z]{4,64}")
_json = msgspec.json.Encoder().encode


class ProfileRecord(msgspec.Struct, frozen=True):
    """A profile ready to store; `keys` are (key_id, pseudonym, kind) under every chain key."""

    line: int
    customer_id: str
    first_name: str | None
    recognition: str | None
    recognition_at: str | None
    marketing: str | None
    marketing_at: str | None
    last_online_at: str | None
    wishlist: str
    recently_viewed: str
    keys: tuple[tuple[str, str, str], ...]

    def values(self) -> tuple:
        """The row in COLUMNS order."""
        return (
            self.customer_id,
            self.first_name,
            self.recognition,
            self.recognition_at,
            self.marketing,
            self.marketing_at,
            self.last_online_at,
            self.wishlist,
            self.recently_viewed,
        )


def _consent(row: dict, purpose: str) -> tuple[str | None, str | None]:
    status = text(row, purpose, required=False, max_len=20)
    at_name = f"{purpose}_at"
    if status is None:
        if row.get(at_name) not in (None, ""):
            raise Bad(f"{at_name}: given without a {purpose} status")
        return None, None
    if status not in STATUSES:
        raise Bad(f"{purpose}: {status!r} is not a consent status ({' | '.join(STATUSES)})")
    at = moment(row, at_name, date_ok=True, required=False)
    if at is None:
        raise Bad(f"{at_name}: missing (when the consent was given or withdrawn)")
    return status, at


def loyalty_keys(
    pseudonymiser: Pseudonymiser, row: dict, name: str = "loyalty_number"
) -> list[tuple[str, str]]:
    """(key_id, pseudonym) of a row's loyalty number under every key; [] when absent."""
    raw = row.get(name)
    if not raw:
        return []
    if type(raw) is not str:
        raise Bad(f"{name}: expected text")
    number = normalise_loyalty(raw.strip())
    # The reason never quotes the number: it may be a real one, mistyped.
    if not _LOYALTY.fullmatch(number):
        raise Bad(f"{name}: not a loyalty number (4-64 letters or digits; spaces, dashes allowed)")
    # Already normalised, so every_key's own normalisation finds nothing to remove.
    return [(kid, p) for p, kid in pseudonymiser.every_key("loyalty", number)]


def _app_keys(pseudonymiser: Pseudonymiser, row: dict) -> list[tuple[str, str]]:
    raw = row.get("app_id")
    if raw is None or raw == "":
        return []
    if not isinstance(raw, str):
        raise Bad("app_id: expected text")
    raw = raw.strip()
    if not raw or len(raw) > 128 or has_control(raw):
        raise Bad("app_id: not an app id (1-128 printable characters)")
    return [(kid, p) for p, kid in pseudonymiser.every_key("app", raw)]


def parse_profile(row: dict, line: int, pseudonymiser: Pseudonymiser) -> ProfileRecord:
    """One input row as a ProfileRecord; raises Bad with the reason."""
    customer = external_id(row, "customer_id")
    recognition, recognition_at = _consent(row, "instore_recognition")
    marketing, marketing_at = _consent(row, "marketing")
    keys = [(kid, p, "loyalty") for kid, p in loyalty_keys(pseudonymiser, row)]
    keys += [(kid, p, "app") for kid, p in _app_keys(pseudonymiser, row)]
    return ProfileRecord(
        line=line,
        customer_id=customer,
        first_name=text(row, "first_name", required=False, max_len=100),
        recognition=recognition,
        recognition_at=recognition_at,
        marketing=marketing,
        marketing_at=marketing_at,
        last_online_at=moment(row, "last_online_at", date_ok=True, required=False),
        wishlist=_json(id_list(row, "wishlist")).decode(),
        recently_viewed=_json(id_list(row, "recently_viewed")).decode(),
        keys=tuple(sorted(keys)),
    )
