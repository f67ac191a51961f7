"""Pseudonyms and app tokens: forged, expired, replayed and wrong-key tokens are refused."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.identity import Pseudonymiser, TokenVerifier, issue_token

KEY = b"app-token-key"
NOW = 1_800_000_000.0


def test_pseudonym_is_hmac_of_namespaced_normalised_id():
    p = Pseudonymiser({"k1": b"chain", "k2": b"other"}, active="k1")
    expected = hmac.new(b"chain", b"loyalty:2620001234567", hashlib.sha256).hexdigest()
    assert p.pseudonym("loyalty", "2620 0012-34567") == (expected, "k1")
    assert p.pseudonym("loyalty", "2620001234567", key_id="k2")[0] != expected
    assert p.pseudonym("app", "2620001234567")[0] != expected  # namespaces never collide


def test_unknown_active_key_is_refused():
    with pytest.raises(ValueError):
        Pseudonymiser({"k1": b"x"}, active="k2")


def test_valid_token_passes_once():
    v = TokenVerifier(KEY)
    token = issue_token(KEY, "cust-42", NOW)
    result = v.verify(token, NOW)
    assert result.valid and result.customer == "cust-42"
    assert v.verify(token, NOW).reason == "replayed"
    assert v.rejected == {"replayed": 1}


@pytest.mark.parametrize("skew_steps", [-1, 0, 1])
def test_clock_skew_of_one_step_passes(skew_steps):
    token = issue_token(KEY, "c", NOW + skew_steps * 30)
    assert TokenVerifier(KEY).verify(token, NOW).valid


def test_expired_and_future_tokens_are_refused():
    assert TokenVerifier(KEY).verify(issue_token(KEY, "c", NOW - 61), NOW).reason == "expired"
    assert TokenVerifier(KEY).verify(issue_token(KEY, "c", NOW + 61), NOW).reason == "not_yet_valid"


def test_wrong_key_and_tampered_tokens_are_forged():
    v = TokenVerifier(KEY)
    assert v.verify(issue_token(b"another-key", "c", NOW), NOW).reason == "forged"
    token = issue_token(KEY, "alice", NOW)
    parts = token.split(".")
    parts[3] = issue_token(KEY, "mallory", NOW).split(".")[3]  # swap the customer
    assert v.verify(".".join(parts), NOW).reason == "forged"
    parts = token.split(".")
    parts[1] = str(int(parts[1]) + 1)  # stretch its lifetime
    assert v.verify(".".join(parts), NOW).reason == "forged"
    assert v.rejected == {"forged": 3}


@given(st.text(max_size=600))
def test_arbitrary_text_never_raises(text):
    result = TokenVerifier(KEY).verify("TP1." + text, NOW)
    assert not result.valid
