"""The feed API over a head office filled by real ingest and rollup, on SQLite and PostgreSQL:
authentication, store scopes, JSON and CSV, ETags, bad parameters, privacy."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from litestar.testing import TestClient

from hq.db import Db
from hq.feeds import chain_feed, store_feed
from tests.hq.storelog import deliver
from tests.hq.web.support import DAY, LOYALTY, PSEUDONYM, roll

FEED = f"/api/v1/stores/s1/feed?from={DAY}"
CHAIN = f"/api/v1/chain/feed?from={DAY}"
D = date.fromisoformat(DAY)


@pytest.mark.parametrize(
    "path", ["/api/v1/stores", FEED, CHAIN, "/schema/openapi.json"], ids=lambda p: p[:22]
)
def test_nothing_without_a_valid_token_is_401_json(client, shared_hq, path):
    for headers in ({}, {"Authorization": "Bearer tpk_forged"}, {"Authorization": "Basic eDp5"}):
        r = client.get(path, headers=headers)
        assert r.status_code == 401, (headers, r.text)
        assert r.headers["content-type"].startswith("application/json")
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert r.json()["detail"]
    assert client.get(path, headers=shared_hq.bearer(shared_hq.token_all)).status_code == 200


def test_health_needs_no_token_and_checks_the_database(client):
    r = client.get("/health")
    assert r.status_code == 200 and r.json() == {"status": "ok", "database": "ok"}


def test_a_scoped_token_sees_its_stores_only_and_no_chain(client, shared_hq):
    scoped = shared_hq.bearer(shared_hq.token_s1)
    stores = client.get("/api/v1/stores", headers=scoped).json()
    assert [s["store"] for s in stores] == ["s1"]
    assert client.get(FEED, headers=scoped).status_code == 200
    other = client.get(f"/api/v1/stores/s2/feed?from={DAY}", headers=scoped)
    assert other.status_code == 403 and "outside your scope" in other.json()["detail"]
    # Even a store that does not exist is 403, not 404: the scope says nothing about others.
    assert client.get("/api/v1/stores/s9/feed", headers=scoped).status_code == 403
    assert client.get(CHAIN, headers=scoped).status_code == 403
    everything = shared_hq.bearer(shared_hq.token_all)
    assert [s["store"] for s in client.get("/api/v1/stores", headers=everything).json()] == [
        "s1",
        "s2",
    ]
    assert client.get(CHAIN, headers=everything).status_code == 200


def test_store_status_fields(client, shared_hq):
    (s1, s2) = client.get("/api/v1/stores", headers=shared_hq.bearer(shared_hq.token_all)).json()
    assert (s1["backlog"], s1["reported_online"], s1["version"]) == (3, True, "0.1.0")
    assert s1["acked_through"] == len(shared_hq.logs["s1"].events) and s1["gaps"] == 0
    assert s2["backlog"] is None and s2["online"] is False  # never sent a state


def test_feeds_are_the_rows_of_hq_feed(client, shared_hq):
    auth = shared_hq.bearer(shared_hq.token_all)
    db = Db(shared_hq.writer)
    for period in ("hour", "day"):
        got = client.get(f"{FEED}&period={period}", headers=auth)
        assert got.status_code == 200 and got.headers["content-type"] == "application/json"
        assert got.json() == json.loads(json.dumps(store_feed(db, "s1", period, D, D)))
        chain = client.get(f"{CHAIN}&period={period}", headers=auth).json()
        assert chain == json.loads(json.dumps(chain_feed(db, period, D, D)))
    (day,) = client.get(FEED, headers=auth).json()
    assert (day["entries"], day["exits"], day["revision"], day["provisional"]) == (5, 1, 1, False)
    (chain_day,) = client.get(CHAIN, headers=auth).json()
    assert (chain_day["entries"], chain_day["stores"]) == (12, 2)


def _same(json_value, csv_value: str) -> bool:
    if json_value is None:
        return csv_value == ""
    if isinstance(json_value, bool):
        return csv_value == str(json_value).lower()
    if isinstance(json_value, dict):
        return json.loads(csv_value) == json_value
    if isinstance(json_value, int | float):
        return float(csv_value) == json_value
    return csv_value == json_value


@pytest.mark.parametrize("ask", ["format", "accept"])
def test_csv_round_trips_to_the_same_numbers_as_json(client, shared_hq, ask):
    auth = shared_hq.bearer(shared_hq.token_all)
    for url in (f"{FEED}&period=hour", f"{CHAIN}&period=hour", FEED):
        rows = client.get(url, headers=auth).json()
        if ask == "format":
            r = client.get(f"{url}&format=csv", headers=auth)
        else:
            r = client.get(url, headers=auth | {"Accept": "text/csv"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        table = list(csv.DictReader(io.StringIO(r.text)))
        assert len(table) == len(rows) and rows
        for row, line in zip(rows, table, strict=True):
            assert list(line) == list(row)
            bad = {k: (v, line[k]) for k, v in row.items() if not _same(v, line[k])}
            assert not bad
    # ?format wins over Accept.
    r = client.get(f"{FEED}&format=json", headers=auth | {"Accept": "text/csv"})
    assert r.headers["content-type"] == "application/json"


def test_etag_304_while_unchanged_and_200_after_a_new_revision(web_hq):
    auth = web_hq.bearer(web_hq.token_all)
    with TestClient(web_hq.app()) as client:
        _etag_checks(client, web_hq, auth)


def _etag_checks(client, web_hq, auth) -> None:
    url = f"{FEED}&period=hour"
    first = client.get(url, headers=auth)
    tag = first.headers["etag"]
    assert tag.startswith('"') and first.headers["cache-control"] == "private, no-cache"
    again = client.get(url, headers=auth | {"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
    assert client.get(url, headers=auth | {"If-None-Match": f'"x", W/{tag}'}).status_code == 304
    as_csv = client.get(f"{url}&format=csv", headers=auth)
    assert as_csv.headers["etag"] != tag  # another representation, another tag
    # A late event: the rollup makes new revisions, so the old tag no longer matches.
    log = web_hq.logs["s1"]
    log.door(f"{DAY}T08:40:00.000Z", count=2)
    deliver(web_hq.writer, "s1", log.payloads(log.events[-1:]))
    roll(web_hq.writer)
    fresh = client.get(url, headers=auth | {"If-None-Match": tag})
    assert fresh.status_code == 200 and fresh.headers["etag"] != tag
    assert fresh.json()[8]["entries"] == 5 and fresh.json()[8]["revision"] == 2
    chain_tag = client.get(CHAIN, headers=auth).headers["etag"]
    assert client.get(CHAIN, headers=auth | {"If-None-Match": chain_tag}).status_code == 304


BAD = [
    ("period=week", "period"),
    ("from=June", "from"),
    (f"from={DAY}&to=2026-05-01", "before"),
    ("from=0001-01-01", "between"),
    ("from=2026-01-01&to=2026-12-31&period=hour", "at most 92 days"),
    ("format=xml", "format"),
]


def test_bad_parameters_are_400_with_the_reason(client, shared_hq):
    for query, reason in BAD:
        r = client.get(
            f"/api/v1/stores/s1/feed?{query}", headers=shared_hq.bearer(shared_hq.token_all)
        )
        assert r.status_code == 400 and reason in r.text, (query, r.text)


def test_unknown_or_malformed_store(client, shared_hq):
    auth = shared_hq.bearer(shared_hq.token_all)
    r = client.get(f"/api/v1/stores/s9/feed?from={DAY}", headers=auth)
    assert r.status_code == 404 and "s9" in r.json()["detail"]
    assert client.get("/api/v1/stores/" + "x" * 33 + "/feed", headers=auth).status_code == 400
    assert client.get("/api/v1/stores/a%20b/feed", headers=auth).status_code == 400


def test_no_pseudonym_or_customer_data_in_any_response(client, shared_hq):
    auth = shared_hq.bearer(shared_hq.token_all)
    bodies = [
        client.get(url, headers=auth).text
        for url in (
            "/api/v1/stores",
            f"{FEED}&period=hour",
            f"{FEED}&format=csv",
            f"{CHAIN}&period=hour",
        )
    ]
    # The OpenAPI document names a loyalty number in one place only: the web shop's
    # order it sends (POST /api/v1/orders), an input that no response carries back.
    schema = client.get("/schema/openapi.json", headers=auth).json()
    order_in = schema["paths"]["/api/v1/orders"]["post"].pop("requestBody")
    assert "loyalty_number" in order_in["content"]["application/json"]["schema"]["properties"]
    bodies.append(json.dumps(schema))
    assert all(PSEUDONYM not in b and LOYALTY not in b for b in bodies)
    assert all("pseudonym" not in b.lower() for b in bodies)
    assert all("customer" not in b.lower() and "loyalty" not in b.lower() for b in bodies)
    (day,) = client.get(FEED, headers=auth).json()
    assert day["identified_visits"] == 1  # the visit is counted, its identity is not served


def test_security_headers_on_every_response(client, shared_hq):
    for r in (
        client.get("/health"),
        client.get("/api/v1/stores"),  # 401
        client.get(FEED, headers=shared_hq.bearer(shared_hq.token_all)),
        client.get("/nowhere"),  # 404
    ):
        h = r.headers
        assert h["content-security-policy"].startswith("default-src 'self'")
        assert (h["x-frame-options"], h["x-content-type-options"]) == ("DENY", "nosniff")
        assert h["referrer-policy"] == "same-origin"


def test_openapi_describes_every_field_of_the_served_rows(client, shared_hq):
    auth = shared_hq.bearer(shared_hq.token_all)
    doc = client.get("/schema/openapi.json", headers=auth).json()
    bucket = doc["components"]["schemas"]["FeedBucket"]
    served: set[str] = set()
    for url in (FEED, f"{FEED}&period=hour", CHAIN, f"{CHAIN}&period=hour"):
        for row in client.get(url, headers=auth).json():
            assert set(bucket["required"]) <= set(row), url
            served |= set(row)
    assert served == set(bucket["properties"])
    feed = doc["paths"]["/api/v1/stores/{store}/feed"]["get"]
    assert {"200", "304", "400", "401", "403", "404"} <= set(feed["responses"])


def test_open_alerts_in_scope(web_hq):
    from datetime import UTC, datetime

    from hq.alerts import evaluate

    # Long after its last state, s1 is offline: head office raises an alert for it.
    evaluate(Db(web_hq.writer), datetime(2026, 6, 2, tzinfo=UTC), expected=["s1", "s2"])
    with TestClient(web_hq.app()) as client:
        everything = client.get("/api/v1/alerts", headers=web_hq.bearer(web_hq.token_all)).json()
        scoped = client.get("/api/v1/alerts", headers=web_hq.bearer(web_hq.token_s1)).json()
        assert client.get("/api/v1/alerts").status_code == 401
    assert {(a["store"], a["kind"]) for a in everything} >= {("s1", "offline")}
    assert scoped and {a["store"] for a in scoped} == {"s1"}
    assert all(a["cleared_at"] is None for a in everything)
