"""The lookup responder's decision: pure, then on both backends from imported profiles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edge.identity import Pseudonymiser
from hq.db import Db
from hq.imports.runner import FIELDS, kind_for, run_import
from hq.lookup import answer, decide
from sync import wire
from tests.hq_db import HqTarget

KEYS = Pseudonymiser({"k1": b"chain key one", "k2": b"chain key two"}, "k1")
NOW = "2026-12-03T12:00:00.000Z"
CARDS = {"anna": "2000000000012", "bram": "2000000000029", "cas": "2000000000036"}
CARDS |= {"dirk": "2000000000043", "eva": "2000000000050"}


def pseudonym(card: str, key: str = "k1") -> str:
    return next(p for p, kid in KEYS.every_key("loyalty", card) if kid == key)


def request(card: str, key: str = "k1", req: str = "req-0001") -> wire.LookupRequest:
    return wire.LookupRequest(v=1, req=req, key_id=key, pseudonym=pseudonym(card, key), sent_at=NOW)


ROW_GRANTED = ("Anna", "granted", "2026-11-01T00:00:00.000Z", '["SKU-1","SKU-2"]', '["SKU-9"]')


@pytest.mark.parametrize(
    ("status", "since", "known"),
    [
        ("granted", "2026-11-01T00:00:00.000Z", True),
        ("granted", NOW, True),  # in effect from that moment
        ("granted", "2026-12-04T00:00:00.000Z", False),  # not yet in effect
        ("denied", "2026-11-01T00:00:00.000Z", False),
        ("withdrawn", "2026-11-01T00:00:00.000Z", False),
        (None, None, False),  # never asked
    ],
    ids=["granted", "granted-now", "granted-later", "denied", "withdrawn", "never-asked"],
)
def test_decide_answers_only_with_consent_in_effect(status, since, known):
    reply = decide(request(CARDS["anna"]), [("Anna", status, since, '["SKU-1"]', "[]")], NOW)
    assert reply.known is known and reply.req == "req-0001"
    if known:
        assert (reply.first_name, reply.wishlist, reply.open_orders) == ("Anna", ["SKU-1"], [])
    else:
        # Nothing about why, and no detail at all.
        assert wire.encode(reply) == b'{"v":1,"req":"req-0001","known":false,"first_name":"",' + (
            b'"wishlist":[],"recently_viewed":[],"open_orders":[]}'
        )


def test_decide_unknown_pseudonym_is_not_known():
    assert decide(request(CARDS["anna"]), [], NOW).known is False


def test_decide_keeps_only_wire_fit_product_ids():
    row = ("Anna", "granted", "2026-11-01T00:00:00.000Z", json.dumps(["ok", "", "x" * 65, 7]), "{")
    reply = decide(request(CARDS["anna"]), [row], NOW)
    assert reply.wishlist == ["ok"] and reply.recently_viewed == []
    # What decide returns always passes the kiosk's own strict decoding.
    assert wire.decode_lookup_reply(wire.encode(reply)) == reply


def import_profiles(hq_target: HqTarget, tmp_path: Path) -> Db:
    profiles = [
        {"customer_id": "c-anna", "loyalty_number": CARDS["anna"], "first_name": "Anna",
         "instore_recognition": "granted", "instore_recognition_at": "2026-11-01",
         "wishlist": ["DRILL-2", "JACKET-1"], "recently_viewed": ["DRILL-3"]},
        {"customer_id": "c-bram", "loyalty_number": CARDS["bram"], "first_name": "Bram",
         "instore_recognition": "denied", "instore_recognition_at": "2026-11-01"},
        {"customer_id": "c-cas", "loyalty_number": CARDS["cas"], "first_name": "Cas",
         "instore_recognition": "withdrawn", "instore_recognition_at": "2026-11-20"},
        {"customer_id": "c-dirk", "loyalty_number": CARDS["dirk"], "first_name": "Dirk"},
    ]  # fmt: skip
    path = tmp_path / "profiles.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in profiles))
    store = hq_target.open()
    summary = run_import(
        path,
        kind_for("profiles", store, KEYS, "EUR"),
        FIELDS["profiles"],
        now=lambda: NOW,
        on_reject=lambda line, reason: pytest.fail(f"line {line}: {reason}"),
    )
    assert summary.imported == len(profiles)
    return Db(hq_target.open())


def test_answer_from_imported_profiles_on_each_backend(hq_target: HqTarget, tmp_path: Path):
    db = import_profiles(hq_target, tmp_path)
    replies = {name: answer(db, wire.encode(request(card)), NOW) for name, card in CARDS.items()}
    anna = replies.pop("anna")
    assert (anna.known, anna.first_name) == (True, "Anna")
    assert (anna.wishlist, anna.recently_viewed, anna.open_orders) == (
        ["DRILL-2", "JACKET-1"],
        ["DRILL-3"],
        [],
    )
    # denied, withdrawn, never asked, and a card head office does not know.
    assert {name: r.known for name, r in replies.items()} == dict.fromkeys(
        ("bram", "cas", "dirk", "eva"), False
    )
    # The same card under the other chain key (rotation) is recognised too.
    assert answer(db, wire.encode(request(CARDS["anna"], "k2")), NOW).first_name == "Anna"
    # Never a loyalty number, customer id or contact detail on the wire.
    sent = wire.encode(anna)
    assert CARDS["anna"].encode() not in sent and b"c-anna" not in sent and b"@" not in sent


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b'{"v":1,"req":"r","key_id":"k1","pseudonym":"00","sent_at":""}',
        b'{"v":2,"req":"req-0001","key_id":"k1","pseudonym":"' + b"a" * 64 + b'","sent_at":""}',
        b'{"v":1,"req":"req/0001/#","key_id":"k1","pseudonym":"' + b"a" * 64 + b'","sent_at":""}',
        b'{"v":1,"req":"req-0001","key_id":"k1","pseudonym":"' + b"a" * 64 + b'","sent_at":"",'
        b'"store":"other"}',
        b"{" + b" " * 2000 + b"}",
    ],
    ids=["json", "short-ids", "version", "req-topic-chars", "unknown-field", "too-big"],
)
def test_bad_requests_are_refused_with_a_reason_that_never_quotes_them(payload):
    with pytest.raises(wire.WireError) as err:
        wire.decode_lookup(payload)
    assert "a" * 64 not in str(err.value) and str(err.value)
