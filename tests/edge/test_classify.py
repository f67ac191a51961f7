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


# Every printed or typed form docs/identity.md promises ("spaces and dashes removed"),
# for both loyalty formats (in-store EAN-13 with prefix 2, and 16–19 digits).
LOYALTY_FORMS = {
    "2620001234565": [
        "2620001234565",
        "2 620001 234565",  # as printed under an EAN-13 bar code
        "2620-0012-34565",
        "2620 0012-34565",  # mixed
        "  2620001234565  ",  # stray spaces around
        "2620\t0012\t34565",  # a tab from a keyboard wedge
        "2620\u00a00012\u00a034565",  # no-break spaces from a copied document
        "2620\u20130012\u201334565",  # en dashes from a copied document
    ],
    "4000123412341234": [
        "4000 1234 1234 1234",
        "4000-1234-1234-1234",
        "4000 - 1234 - 1234 - 1234",
        "4000--1234 1234-1234",
    ],
    "4000123412341234567": ["4000-1234-1234-1234-567", "4000 1234 1234 1234 567"],
}


@pytest.mark.parametrize(
    ("digits", "form"), [(d, f) for d, forms in LOYALTY_FORMS.items() for f in forms]
)
def test_every_promised_form_of_a_card_number_is_one_loyalty_pseudonym(classifier, digits, form):
    event = classifier.classify(form, "code128", NOW)
    plain = classifier.classify(digits, "code128", NOW)
    assert (event.cls, plain.cls) == ("loyalty", "loyalty")
    # The same pseudonym as the plain digits, which is what head office computes.
    assert (
        event.pseudonym
        == plain.pseudonym
        == classifier.pseudonymiser.pseudonym("loyalty", digits)[0]
    )
    assert digits not in encode_data(event)


@pytest.mark.parametrize(
    "data",
    ["2620-0012-3456", "4000-1234-1234-123", "4000.1234.1234.1234", "4000/1234/1234/1234"],
)
def test_separators_do_not_make_a_wrong_length_or_other_punctuation_a_card(classifier, data):
    # Too short after removing dashes, or separated by characters the doc does not name.
    assert classifier.classify(data, "code128", NOW).cls == "unknown"
