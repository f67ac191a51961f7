"""The pure import parsers: each field rule accepts what docs/imports.md promises and rejects the rest."""

from __future__ import annotations

import json

import pytest

from edge.identity import Pseudonymiser
from hq.imports import hours
from hq.imports.fields import Bad, cents, moment
from hq.imports.profiles import parse_profile
from hq.imports.stores import parse_store
from hq.imports.transactions import parse_transaction

KEYS = Pseudonymiser({"k1": b"one", "k2": b"two"}, "k1")
LOYALTY = "2000 0000 0001 2"

STORE = {
    "store": "ams-01",
    "name": "Amsterdam",
    "timezone": "Europe/Amsterdam",
    "hours": "mon-fri 09:00-18:00; sat 10:00-12:00,13:00-17:00; sun closed",
    "exceptions": "2026-12-25 closed; 2026-12-24 09:00-16:00",
    "doors": "main|side",
    "lat": "52.37",
    "lon": "4.89",
    "staff_count": "6",
}


def test_store_from_csv_text():
    rec = parse_store(STORE, 2)
    week = json.loads(rec.hours)
    assert list(week) == list(hours.DAYS)
    assert week["mon"] == [["09:00", "18:00"]]
    assert week["sat"] == [["10:00", "12:00"], ["13:00", "17:00"]]
    assert week["sun"] == []
    assert json.loads(rec.exceptions) == {"2026-12-24": [["09:00", "16:00"]], "2026-12-25": []}
    assert json.loads(rec.doors) == ["main", "side"]
    assert (rec.lat, rec.lon, rec.staff_count) == (52.37, 4.89, 6)


def test_store_from_json_objects_equals_csv_text():
    as_json = STORE | {
        "hours": {
            **{d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
            "sat": [["13:00", "17:00"], ["10:00", "12:00"]],  # unsorted: sorted on import
            "sun": [],
        },
        "exceptions": {"2026-12-25": [], "2026-12-24": [["09:00", "16:00"]]},
        "doors": ["main", "side"],
        "lat": 52.37,
        "lon": 4.89,
        "staff_count": 6,
    }
    assert parse_store(as_json, 2) == parse_store(STORE, 2)


def test_store_24h_close():
    rec = parse_store(STORE | {"hours": "mon-sun 00:00-24:00"}, 2)
    assert json.loads(rec.hours)["sun"] == [["00:00", "24:00"]]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"timezone": "Europe/Mars"}, "timezone: 'Europe/Mars' is not an IANA time zone"),
        ({"timezone": ""}, "timezone: missing"),
        ({"hours": "mon-fri 09:00-18:00; sat 10:00-17:00"}, "hours: sun missing"),
        ({"hours": "mon-sun 18:00-09:00"}, "hours: opens at 18:00, not before it closes at 09:00"),
        ({"hours": "mon-sun 09:00-13:00,12:00-18:00"}, "hours: intervals overlap"),
        ({"hours": "mon-sun 9-18"}, "hours: 9-18 is not HH:MM-HH:MM"),
        ({"hours": "mon-sun 09:00-25:00"}, "hours: 09:00-25:00 is not HH:MM-HH:MM"),
        ({"hours": "mon-sun 09:00-18:00; sun closed"}, "hours: sun given twice"),
        ({"hours": "fri-mon 09:00-18:00"}, "hours: day range 'fri-mon' runs backwards"),
        ({"hours": {"mon": []}}, "hours: tue missing"),
        ({"exceptions": "2026-13-01 closed"}, "exceptions: '2026-13-01' is not a date"),
        ({"store": "ams 01"}, "store: 'ams 01' is not a store id"),
        ({"lat": "91"}, "lat: 91.0 is outside -90..90"),
        ({"lon": ""}, "lat/lon: give both or neither"),
        ({"staff_count": "-1"}, "staff_count: -1 is outside 0..10000"),
        ({"doors": "main|main"}, "doors: a door is named twice"),
        ({"name": ""}, "name: missing"),
    ],
)
def test_store_rejects(change, reason):
    with pytest.raises(Bad) as exc:
        parse_store(STORE | change, 2)
    assert str(exc.value).startswith(reason)


PROFILE = {
    "customer_id": "c-1",
    "first_name": "Anna",
    "loyalty_number": LOYALTY,
    "app_id": "app-77",
    "instore_recognition": "granted",
    "instore_recognition_at": "2026-11-01",
    "marketing": "withdrawn",
    "marketing_at": "2026-11-02T10:30:00+01:00",
    "last_online_at": "2026-11-20T23:30:00-02:00",
    "wishlist": "p1|p2",
    "recently_viewed": "",
}


def test_profile_pseudonymised_under_every_key():
    rec = parse_profile(PROFILE, 2, KEYS)
    expected = {
        (kid, KEYS.pseudonym(ns, ident, kid)[0], ns)
        for kid in ("k1", "k2")
        for ns, ident in (("loyalty", "2000000000012"), ("app", "app-77"))
    }
    assert set(rec.keys) == expected
    assert (rec.recognition, rec.recognition_at) == ("granted", "2026-11-01T00:00:00.000Z")
    assert (rec.marketing, rec.marketing_at) == ("withdrawn", "2026-11-02T09:30:00.000Z")
    assert rec.last_online_at == "2026-11-21T01:30:00.000Z"
    assert json.loads(rec.wishlist) == ["p1", "p2"] and json.loads(rec.recently_viewed) == []
    assert LOYALTY.replace(" ", "") not in repr(rec) and "app-77" not in repr(rec)


def test_profile_with_neither_id_nor_consent():
    rec = parse_profile({"customer_id": "c-2"}, 2, KEYS)
    assert rec.keys == () and rec.recognition is None and rec.recognition_at is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"instore_recognition": "maybe"}, "instore_recognition: 'maybe' is not a consent status"),
        ({"instore_recognition_at": ""}, "instore_recognition_at: missing"),
        ({"marketing": "", "marketing_at": "2026-01-01"}, "marketing_at: given without"),
        (
            {"instore_recognition_at": "2026-11-01T10:00:00"},
            "instore_recognition_at: '2026-11-01T10:00:00' has no UTC offset",
        ),
        ({"last_online_at": "yesterday"}, "last_online_at: 'yesterday' is not a date or a time"),
        ({"loyalty_number": "12"}, "loyalty_number: not a loyalty number"),
        ({"loyalty_number": "2000-0000-0001-2!"}, "loyalty_number: not a loyalty number"),
        ({"app_id": "x" * 129}, "app_id: not an app id"),
        ({"customer_id": ""}, "customer_id: missing"),
        ({"customer_id": "a b"}, "customer_id: 'a b' is not an id"),
        ({"wishlist": "p1||p2"}, "wishlist: every item must be non-empty text"),
    ],
)
def test_profile_rejects_without_echoing_ids(change, reason):
    with pytest.raises(Bad) as exc:
        parse_profile(PROFILE | change, 2, KEYS)
    assert str(exc.value).startswith(reason)
    for raw in (change.get("loyalty_number"), change.get("app_id")):
        if raw:
            assert raw not in str(exc.value)


TXN = {
    "id": "r-1",
    "store": "ams-01",
    "ts": "2026-11-20T10:00:00+01:00",
    "type": "sale",
    "net_amount": "12.50",
    "currency": "EUR",
    "items": "2",
    "loyalty_number": LOYALTY,
}


def test_transaction_sale_and_return():
    sale = parse_transaction(TXN, 2, KEYS, "EUR")
    assert (sale.ts, sale.net_cents, sale.items) == ("2026-11-20T09:00:00.000Z", 1250, 2)
    assert set(sale.keys) == {(k, KEYS.pseudonym("loyalty", LOYALTY, k)[0]) for k in ("k1", "k2")}
    for amount in ("3.5", "-3.5", "+3.50"):
        ret = parse_transaction(TXN | {"type": "return", "net_amount": amount}, 2, KEYS, "EUR")
        assert ret.net_cents == -350
    online = parse_transaction(TXN | {"store": "online", "loyalty_number": ""}, 2, KEYS, "EUR")
    assert online.store == "online" and online.keys == ()
    assert parse_transaction(TXN | {"net_amount": 7}, 2, KEYS, "EUR").net_cents == 700


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"ts": "2026-11-20T10:00:00"}, "ts: '2026-11-20T10:00:00' has no UTC offset"),
        ({"ts": "2026-11-20"}, "ts: '2026-11-20' has no UTC offset"),
        (
            {"ts": "2026-11-31T10:00:00Z"},
            "ts: '2026-11-31T10:00:00Z' is not a time with UTC offset",
        ),
        ({"net_amount": "12,50"}, "net_amount: '12,50' is not an amount"),
        ({"net_amount": "1.234"}, "net_amount: '1.234' is not an amount"),
        ({"net_amount": ""}, "net_amount: missing"),
        ({"net_amount": "-1.00"}, "net_amount: a sale cannot be negative"),
        ({"type": "refund"}, "type: 'refund' is not sale or return"),
        ({"currency": "USD"}, "currency: 'USD' is not the chain currency EUR"),
        ({"items": "two"}, "items: 'two' is not a whole number"),
        ({"store": "bad store"}, "store: 'bad store' is not a store id"),
    ],
)
def test_transaction_rejects(change, reason):
    with pytest.raises(Bad) as exc:
        parse_transaction(TXN | change, 2, KEYS, "EUR")
    assert str(exc.value).startswith(reason)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.01", 1),
        ("10", 1000),
        ("10.5", 1050),
        ("-0.50", -50),
        ("999999999999.99", 99999999999999),
    ],
)
def test_cents(text, expected):
    assert cents({"a": text}, "a") == expected


def test_moment_keeps_milliseconds_and_converts_to_utc():
    assert moment({"t": "2026-03-29T03:00:00.1234+02:00"}, "t", date_ok=False) == (
        "2026-03-29T01:00:00.123Z"
    )
