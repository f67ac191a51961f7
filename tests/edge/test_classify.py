"""Scan classification: each class, and no raw identifier in what comes out."""

from __future__ import annotations

import pytest

from edge.classify import ScanClassifier
from edge.events import encode_data
from edge.identity import Pseudonymiser, TokenVerifier, issue_token

NOW = 1_800_000_000.0


@pytest.fixture
def classifier():
    return ScanClassifier(Pseudonymiser({"k1": b"chain"}, "k1"), TokenVerifier(b"tok"))


@pytest.mark.parametrize(
    ("data", "symbology", "cls"),
    [
        ("2620001234565", "ean13", "loyalty"),
        ("4000 1234 1234 1234", "unknown", "loyalty"),
        ("4006381333931", "ean13", "gtin"),
        ("4006381333932", "ean13", "unknown"),  # bad check digit: not a product
        ("TPO-778899", "qr", "order_code"),
        ("STAFF-0042", "code128", "staff_badge"),
        ("hello", "qr", "unknown"),
    ],
)
def test_classes(classifier, data, symbology, cls):
    event = classifier.classify(data, symbology, NOW)
    assert event.cls == cls
    text = encode_data(event)
    if cls in ("loyalty", "staff_badge", "unknown"):
        assert data.replace(" ", "") not in text.replace(" ", "")


def test_app_tokens(classifier):
    good = classifier.classify(issue_token(b"tok", "cust", NOW), "qr", NOW)
    assert good.cls == "app_token" and good.pseudonym and good.rejected is None
    assert "cust" not in encode_data(good)
    bad = classifier.classify(issue_token(b"other", "cust", NOW), "qr", NOW)
    assert bad.rejected == "forged" and bad.pseudonym is None
    off = ScanClassifier(Pseudonymiser({"k1": b"c"}, "k1"), None)
    assert off.classify(issue_token(b"tok", "cust", NOW), "qr", NOW).rejected == "tokens_disabled"
