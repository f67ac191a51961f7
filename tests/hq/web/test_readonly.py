"""The web app's database view never writes: SQLite `mode=ro` + `query_only`, PostgreSQL
read-only sessions, and the read-only role the docs advise (docs/api.md)."""

from __future__ import annotations

import psycopg
import pytest
from litestar.testing import TestClient
from psycopg.conninfo import make_conninfo

from hq.backends import open_hq_reader
from hq.readonly import sqlite_reader
from hq.storage import StoreUnavailable
from hq.web.app import create_app
from tests.hq.web.support import DAY, make_web_hq
from tests.hq_db import pg_target

WRITES = [
    "INSERT INTO hq_stores (store) VALUES ('intruder')",
    "UPDATE hq_feed SET revision = revision + 1",
    "DELETE FROM hq_events",
    "CREATE TABLE hq_extra (x integer)",
]


def test_no_write_passes_the_read_only_view(web_hq):
    reader = open_hq_reader(web_hq.target.db, web_hq.target.secrets)
    try:
        ph = reader.placeholder
        before = reader.query(f"SELECT count(*) FROM hq_events WHERE store = {ph}", ("s1",))
        for sql in WRITES:
            with pytest.raises((StoreUnavailable, psycopg.Error)):
                reader.query(sql)
        if web_hq.target.backend == "postgresql":
            assert reader.query("SHOW transaction_read_only") == [("on",)]
        else:
            # query_only is one lock; the read-only open (mode=ro) holds without it.
            reader.query("PRAGMA query_only = OFF")
            with pytest.raises(StoreUnavailable, match="readonly"):
                reader.query(WRITES[0])
        assert reader.query("SELECT count(*) FROM hq_stores WHERE store = 'intruder'") == [(0,)]
        assert reader.query(f"SELECT count(*) FROM hq_events WHERE store = {ph}", ("s1",)) == before
    finally:
        reader.close()


def test_the_event_loops_connection_is_read_only_and_bounded(web_hq):
    """`sibling`: the pool the web app's event loop reads the feed pages over. Its own
    connections, the same locks on writing, and on PostgreSQL a statement cut short
    after its timeout (a page read must not hold a worker's every request)."""
    reader = open_hq_reader(web_hq.target.db, web_hq.target.secrets)
    loop = reader.sibling(1, statement_timeout_ms=200)
    try:
        assert loop.query("SELECT count(*) FROM hq_stores") == reader.query(
            "SELECT count(*) FROM hq_stores"
        )
        for sql in WRITES:
            with pytest.raises((StoreUnavailable, psycopg.Error)):
                loop.query(sql)
        if web_hq.target.backend == "postgresql":
            assert loop.query("SHOW statement_timeout") == [("200ms",)]
            assert reader.query("SHOW statement_timeout") == [("30s",)]
            with pytest.raises(StoreUnavailable, match="statement timeout"):
                loop.query("SELECT pg_sleep(2)")
            assert loop.query("SELECT 1") == [(1,)]  # a fresh connection after it
        assert not set(map(id, loop._all)) & set(map(id, reader._all))
    finally:
        loop.close()
        reader.close()


def test_sqlite_reader_never_creates_a_database(tmp_path):
    reader = sqlite_reader(tmp_path / "missing.db")
    with pytest.raises(StoreUnavailable, match="unable to open"):
        reader.query("SELECT 1")
    assert not (tmp_path / "missing.db").exists()


def test_postgresql_read_only_role_serves_the_api(pg_server, tmp_path):
    """The deployment docs/api.md describes: a role with SELECT only, in web.dsn_file."""
    for target in pg_target(pg_server, tmp_path):
        hq = make_web_hq(target, tmp_path)
        dsn = target.secrets.read("pg.dsn").decode()
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute("CREATE ROLE hq_web_test LOGIN")
            admin.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO hq_web_test")
        (tmp_path / "web.dsn").write_text(make_conninfo(dsn, user="hq_web_test") + "\n")
        reader = open_hq_reader(target.db, target.secrets, dsn_file="web.dsn")
        try:
            assert reader.query("SELECT current_user") == [("hq_web_test",)]
            with TestClient(create_app(hq.cfg, reader, base_dir=tmp_path)) as client:
                auth = hq.bearer(hq.token_all)
                assert client.get("/api/v1/stores", headers=auth).status_code == 200
                r = client.get(f"/api/v1/stores/s1/feed?from={DAY}", headers=auth)
                assert r.status_code == 200 and r.json()[0]["entries"] == 5
            # Even a session switched back to writing has no right to write.
            reader.query("SET default_transaction_read_only = off")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                reader.query(WRITES[0])
        finally:
            reader.close()
            with psycopg.connect(dsn, autocommit=True) as admin:
                admin.execute("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM hq_web_test")
                admin.execute("DROP ROLE hq_web_test")
