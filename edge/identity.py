"""Pseudonyms and app QR tokens: the raw number never leaves this module.

A loyalty number or app customer id becomes
``HMAC-SHA256(chain_key[key_id], namespace + ":" + normalised id)`` here, at the
edge. Head office pseudonymises its online profiles with the same chain key, so the
two sides match without either sending the raw id (DESIGN.md §5). The namespace
keeps a loyalty number and an app id that happen to be equal from colliding.

App tokens (docs/identity.md) are short-lived and signed by the app back end:

    TP1.<step>.<nonce>.<customer>.<mac>

`step` = floor(unix time / step_s); `nonce` = 8 random bytes (base64url);
`customer` = the app customer id (base64url); `mac` = the first 16 bytes of
HMAC-SHA256(token_key, "TP1.<step>.<nonce>.<customer>"), base64url. A token is
valid within one step either side of the verifier's step (clock skew), once; the
agent persists used nonces so a restart does not reopen that window.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

TOKEN_PREFIX = "TP1"
MAC_BYTES = 16
MAX_TOKEN_LEN = 512
Namespace = Literal["loyalty", "app"]


_LOYALTY_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]")


def normalise_loyalty(raw: str) -> str:
    """A card number without separators: printed and typed forms use spaces and dashes.

    The one normalisation of loyalty numbers: the scan classifier matches
    `loyalty_pattern` against it and the pseudonym is computed over it
    (docs/identity.md). Any whitespace counts as a space (tab, no-break space) and any
    Unicode dash or minus as a dash, because card numbers get copied from documents.
    """
    return _LOYALTY_SEPARATORS.sub("", raw)


@dataclass(frozen=True)
class Pseudonymiser:
    """Holds the chain keys by id; turns identifiers into (pseudonym, key_id)."""

    keys: dict[str, bytes]
    active: str

    def __post_init__(self) -> None:
        if self.active not in self.keys:
            raise ValueError(f"active key {self.active!r} is not among the keys")

    @cached_property
    def _keyed(self) -> dict[str, hmac.HMAC]:
        # Keyed once: copying a keyed HMAC is cheaper than keying it again for each id,
        # which counts when head office imports hundreds of thousands of profiles.
        return {kid: hmac.new(key, digestmod=hashlib.sha256) for kid, key in self.keys.items()}

    def pseudonym(
        self, namespace: Namespace, ident: str, key_id: str | None = None
    ) -> tuple[str, str]:
        """(hex pseudonym, key id) for an identifier; uses the active key unless told."""
        kid = key_id or self.active
        value = normalise_loyalty(ident) if namespace == "loyalty" else ident
        mac = self._keyed[kid].copy()
        mac.update(f"{namespace}:{value}".encode())
        return mac.hexdigest(), kid

    def every_key(self, namespace: Namespace, ident: str) -> list[tuple[str, str]]:
        """(hex pseudonym, key id) under every key, so matches survive a key rotation."""
        value = normalise_loyalty(ident) if namespace == "loyalty" else ident
        message = f"{namespace}:{value}".encode()
        out = []
        for kid, keyed in self._keyed.items():
            mac = keyed.copy()
            mac.update(message)
            out.append((mac.hexdigest(), kid))
        return out


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, body: str) -> str:
    return _b64(hmac.new(key, body.encode(), hashlib.sha256).digest()[:MAC_BYTES])


def issue_token(
    key: bytes, customer: str, now: float, step_s: int = 30, nonce: bytes | None = None
) -> str:
    """A signed app QR token for `customer`, valid around time `now`."""
    step = int(now // step_s)
    body = f"{TOKEN_PREFIX}.{step}.{_b64(nonce or os.urandom(8))}.{_b64(customer.encode())}"
    return f"{body}.{_mac(key, body)}"


def looks_like_token(text: str) -> bool:
    """Whether a scan claims to be an app token (it may still be forged)."""
    return text.startswith(TOKEN_PREFIX + ".")


@dataclass(frozen=True)
class TokenResult:
    """Outcome of verifying a token: `reason` is "ok" or why it was refused."""

    reason: str
    customer: str | None = None
    step: int | None = None

    @property
    def valid(self) -> bool:
        """Whether the token was accepted."""
        return self.reason == "ok"


class TokenVerifier:
    """Checks signature, freshness and single use of app tokens."""

    def __init__(self, key: bytes, step_s: int = 30, remember: int = 10_000) -> None:
        self._key = key
        self.step_s = step_s
        self._seen: OrderedDict[str, int] = OrderedDict()
        self._remember = remember
        self.rejected: dict[str, int] = {}
        # Nonces accepted since the caller last took them, to persist (replays across restarts).
        self.consumed: list[tuple[str, int]] = []
        # Shared with the store's other processes (edge/nonces.py): False = used elsewhere.
        self.ledger: Callable[[str, int], bool] | None = None

    def verify(self, token: str, now: float) -> TokenResult:
        """Verify and consume a token; rejects are counted by reason."""
        result = self._check(token, now)
        if not result.valid:
            self.rejected[result.reason] = self.rejected.get(result.reason, 0) + 1
        return result

    def _check(self, token: str, now: float) -> TokenResult:
        if len(token) > MAX_TOKEN_LEN:
            return TokenResult("malformed")
        parts = token.split(".")
        if len(parts) != 5 or parts[0] != TOKEN_PREFIX or not parts[1].isdigit():
            return TokenResult("malformed")
        _, step_text, nonce, customer_b64, mac = parts
        body = token.rsplit(".", 1)[0]
        if not hmac.compare_digest(_mac(self._key, body), mac):
            return TokenResult("forged")
        step = int(step_text)
        current = int(now // self.step_s)
        if step < current - 1:
            return TokenResult("expired", step=step)
        if step > current + 1:
            return TokenResult("not_yet_valid", step=step)
        if nonce in self._seen:
            return TokenResult("replayed", step=step)
        try:
            customer = _unb64(customer_b64).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return TokenResult("malformed")
        if self.ledger is not None and not self.ledger(nonce, step):
            self._remember_nonce(nonce, step)
            return TokenResult("replayed", step=step)
        self._remember_nonce(nonce, step)
        self.consumed.append((nonce, step))
        return TokenResult("ok", customer=customer, step=step)

    def restore(self, nonce: str, step: int) -> None:
        """Remember a nonce used before a restart, so its token cannot be replayed now."""
        self._remember_nonce(nonce, step)

    def take_consumed(self) -> list[tuple[str, int]]:
        """Nonces accepted since the last call (the caller persists them)."""
        taken, self.consumed = self.consumed, []
        return taken

    def _remember_nonce(self, nonce: str, step: int) -> None:
        self._seen[nonce] = step
        # A nonce only matters while its token could still verify (3 steps).
        while self._seen and (
            len(self._seen) > self._remember or next(iter(self._seen.values())) < step - 2
        ):
            self._seen.popitem(last=False)
