"""`POST /api/v1/orders`: the web shop's orders through the web app's one writer, on
SQLite and PostgreSQL: versions and answers, who may send, nothing personal echoed or
logged, and the PostgreSQL role docs/api.md describes."""

from __future__ import annotations

import logging

import psycopg
import pytest
from litestar.testing import TestClient
from psycopg.conninfo import make_conninfo

from hq.db import Db
from hq.imports.stores import parse_store
from hq.web.accounts import add_token
from tests.hq.web.support import PASSWORD, make_web_hq
from tests.hq.web.test_login import login
from tests.hq_db import pg_target

URL = "/api/v1/orders"
CARD = "2000000000012"
ORDER = {
    "order_id": "W-1",
    "store": "s2",
    "lines": [{"product_id": "DRILL-1", "quantity": 1}, {"product_id": "JACKET-1", "quantity": 2}],
    "promised_at": "2026-12-04T15:00:00+01:00",
    "first_name": "Corinne",
    "loyalty_number": CARD,
    "code": "TPO-A1",
}


def register(hq) -> None:
    hq.writer.import_stores(
        [parse_store({"store": s, "name": s, "timezone": "Europe/Amsterdam",
                      "hours": "mon-sun 09:00-18:00"}, 1) for s in ("s1", "s2")],
        "2026-12-01T00:00:00.000Z",
    )  # fmt: skip


def order_token(hq, name: str = "shop", stores=None) -> dict[str, str]:
    return hq.bearer(add_token(hq.tmp / "tokens.json", name, stores, ["orders"]))


def test_create_repost_change_cancel_and_refusals(web_hq):
    hq = web_hq
    register(hq)
    with TestClient(hq.orders_app()) as client:
        shop = order_token(hq)
        r = client.post(URL, json=ORDER, headers=shop)
        assert r.status_code == 201, r.text
        assert r.json() == {"order_id": "W-1", "result": "created", "version": 1,
                            "status_url": "/api/v1/orders/W-1/status"}  # fmt: skip
        assert r.headers["location"] == "/api/v1/orders/W-1/status"
        for secret in (CARD, "Corinne", "TPO-A1"):
            assert secret not in r.text
        # The status the web shop's track & trace reads (once `hq run` has kept it).
        status = client.get(r.headers["location"] + "?lang=en", headers=shop)
        assert status.status_code == 200 and status.json()["version"] == 1
        # The same order again: unchanged, same version, nothing queued anew.
        again = client.post(URL, json=ORDER, headers=shop)
        assert (again.status_code, again.json()["result"], again.json()["version"]) == (
            200,
            "unchanged",
            1,
        )
        later = ORDER | {"promised_at": "2026-12-04T17:00:00+01:00"}
        changed = client.post(URL, json=later, headers=shop)
        assert (changed.status_code, changed.json()["result"], changed.json()["version"]) == (
            200,
            "changed",
            2,
        )
        cancel = client.post(URL, json={"order_id": "W-1", "status": "cancelled"}, headers=shop)
        assert (cancel.status_code, cancel.json()["version"]) == (200, 3)
        # A change to an order that has ended: the writer refuses it (conflict).
        ended = client.post(URL, json=later | {"first_name": "Cor"}, headers=shop)
        assert ended.status_code == 409 and ended.json()["field"] == "order_id"
        assert "has ended" in ended.json()["detail"]
        # Bad orders: 422 with the field and the reason, nothing stored.
        for body, field, words in (
            (ORDER | {"order_id": "W-2", "lines": []}, "lines", "at least one line"),
            (ORDER | {"order_id": "W-3", "colour": "red"}, None, "unknown field 'colour'"),
            (ORDER | {"order_id": "W-4", "store": "nowhere"}, "store", "not in the store registry"),
            (ORDER | {"order_id": "W-5", "loyalty_number": "12"}, "loyalty_number", "not a"),
            ({"order_id": "W-6", "status": "cancelled"}, "order_id", "nothing to cancel"),
            ([ORDER | {"order_id": "W-7"}], None, "one order as a JSON object"),
        ):
            bad = client.post(URL, json=body, headers=shop)
            assert bad.status_code == 422, (body, bad.text)
            assert bad.json()["field"] == field and words in bad.json()["detail"], bad.text
            assert "12" not in bad.json()["detail"] or field != "loyalty_number"
        junk = client.post(URL, content=b"{not json", headers=shop)
        assert junk.status_code == 422 and junk.json()["detail"] == "the body is not JSON"
        # Another open order may not take a pick-up code in use: a conflict.
        taken = client.post(URL, json=ORDER | {"order_id": "W-8", "code": "TPO-B2"}, headers=shop)
        assert taken.status_code == 201
        clash = ORDER | {"order_id": "W-9", "code": "TPO-B2"}
        assert client.post(URL, json=clash, headers=shop).status_code == 409
    db = Db(hq.writer)
    assert db.q("SELECT order_id, version, status FROM hq_orders ORDER BY order_id") == [
        ("W-1", 3, "cancelled"),
        ("W-8", 1, "placed"),
    ]
    assert db.q("SELECT order_id, version FROM hq_order_outbox ORDER BY order_id") == [
        ("W-1", 3),
        ("W-8", 1),
    ]
    # The card became pseudonyms; the raw number is nowhere in the order tables.
    keys = db.q("SELECT key_id, pseudonym FROM hq_order_keys WHERE order_id = 'W-8'")
    assert keys and all(CARD not in p for _, p in keys)


def test_who_may_send_orders(web_hq):
    hq = web_hq
    register(hq)
    with TestClient(hq.orders_app()) as client:
        assert client.post(URL, json=ORDER).status_code == 401
        # A reading token (every store) has no right to send.
        assert client.post(URL, json=ORDER, headers=hq.bearer(hq.token_all)).status_code == 403
        # A browser session never may, whoever is logged in (no CSRF surface on the API).
        assert login(client, "anna", PASSWORD).status_code == 303
        assert client.post(URL, json=ORDER).status_code == 403
        client.cookies.clear()
        s1_only = order_token(hq, "shop-s1", ["s1"])
        refused = client.post(URL, json=ORDER, headers=s1_only)
        assert refused.status_code == 403 and "outside your scope" in refused.text
        mine = ORDER | {"order_id": "W-S1", "store": "s1", "code": "TPO-S1"}
        assert client.post(URL, json=mine, headers=s1_only).status_code == 201
        # Nor may it cancel (or move) an order of a store outside its scope.
        assert client.post(URL, json=ORDER, headers=order_token(hq)).status_code == 201
        cancel = {"order_id": "W-1", "status": "cancelled"}
        assert client.post(URL, json=cancel, headers=s1_only).status_code == 403
        moved = mine | {"order_id": "W-1"}
        assert client.post(URL, json=moved, headers=s1_only).status_code == 403
    assert Db(hq.writer).q("SELECT order_id, status FROM hq_orders ORDER BY order_id") == [
        ("W-1", "placed"),
        ("W-S1", "placed"),
    ]


def test_no_intake_too_large_and_nothing_personal_logged(sqlite_hq, caplog, capfd):
    hq = sqlite_hq
    register(hq)
    shop = order_token(hq)
    with TestClient(hq.app()) as client:  # web.orders off: no writer at all
        off = client.post(URL, json=ORDER, headers=shop)
        assert off.status_code == 503 and "takes no orders" in off.text
    caplog.set_level(logging.DEBUG)
    with TestClient(hq.orders_app()) as client:
        big = ORDER | {"first_name": "x" * (65 * 1024)}
        assert client.post(URL, json=big, headers=shop).status_code == 413
        assert client.post(URL, json=ORDER, headers=shop).status_code == 201
        assert (
            client.post(URL, json=ORDER | {"lines": "DRILL-1:0"}, headers=shop).status_code == 422
        )
        schema = client.get("/schema/openapi.json", headers=shop).json()
    # Whatever reaches a log: records that propagate, and the handlers writing stderr.
    logged = "\n".join(r.getMessage() for r in caplog.records) + capfd.readouterr().err
    assert "W-1" in logged  # the handler does log what it did
    for secret in (CARD, "Corinne", "TPO-A1"):
        assert secret not in logged
    post = schema["paths"]["/api/v1/orders"]["post"]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["order_id"] and "loyalty_number" in body["properties"]
    assert {"201", "409", "413", "422"} <= set(post["responses"])


def test_postgresql_orders_role_may_write_the_order_tables_only(pg_server, tmp_path):
    """The deployment docs/api.md describes: web.orders_dsn_file, a role writing orders."""
    for target in pg_target(pg_server, tmp_path):
        hq = make_web_hq(target, tmp_path)
        register(hq)
        dsn = target.secrets.read("pg.dsn").decode()
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute("CREATE ROLE hq_orders_test LOGIN")
            admin.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO hq_orders_test")
            admin.execute(
                "GRANT INSERT, UPDATE, DELETE ON hq_orders, hq_order_lines, hq_order_keys,"
                " hq_order_outbox, hq_order_dirty TO hq_orders_test"
            )
        (tmp_path / "orders.dsn").write_text(make_conninfo(dsn, user="hq_orders_test") + "\n")
        try:
            with TestClient(hq.orders_app(orders_dsn_file="orders.dsn")) as client:
                r = client.post(URL, json=ORDER, headers=order_token(hq))
                assert r.status_code == 201, r.text
            assert hq.intake.store.query("SELECT current_user") == [("hq_orders_test",)]
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                hq.intake.store.query("DELETE FROM hq_events")
        finally:
            hq.intake.close()
            hq.intake = None
            with psycopg.connect(dsn, autocommit=True) as admin:
                admin.execute("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM hq_orders_test")
                admin.execute("DROP ROLE hq_orders_test")
