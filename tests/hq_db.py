"""HQ database fixtures (imported by tests/conftest.py): every store test runs on SQLite and on a real PostgreSQL.

PostgreSQL is a throwaway cluster started once per session (tests/pg_cluster.py),
or the server in $TOUCHPOINT_TEST_PG_DSN. A missing PostgreSQL is an error, never a
skip: the PostgreSQL backend is part of what the suite proves.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from edge.configtree import SecretResolver
from hq.backends import open_hq_store
from hq.config import HqDatabaseSection
from hq.storage import HqStore
from tests.pg_cluster import PgCluster, PgClusterError

DSN_ENV = "TOUCHPOINT_TEST_PG_DSN"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """DSN of an administrative connection to a PostgreSQL server for this session."""
    given = os.environ.get(DSN_ENV)
    if given:
        yield given
        return
    try:
        cluster = PgCluster().start()
    except PgClusterError as exc:
        pytest.fail(f"PostgreSQL is required for the HQ tests ({DSN_ENV} or initdb): {exc}")
    try:
        yield cluster.dsn()
    finally:
        cluster.stop()


@dataclass
class HqTarget:
    """One empty HQ database; `open()` gives another store instance on it (another ingester)."""

    backend: str
    db: HqDatabaseSection
    secrets: SecretResolver
    opened: list[HqStore] = field(default_factory=list)

    def open(self) -> HqStore:
        """A new HqStore (its own connection) on this database, via open_hq_store."""
        store = open_hq_store(self.db, self.secrets)
        self.opened.append(store)
        return store

    def close_all(self) -> None:
        """Close every store this target opened."""
        for store in self.opened:
            store.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def hq_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HqTarget]:
    """A fresh HQ database on each backend: a new SQLite file, or a new PostgreSQL database."""
    secrets = SecretResolver(tmp_path)
    if request.param == "sqlite":
        target = HqTarget("sqlite", HqDatabaseSection(path=str(tmp_path / "hq.db")), secrets)
        yield target
        target.close_all()
        return
    admin_dsn = request.getfixturevalue("pg_server")
    yield from pg_target(admin_dsn, tmp_path)


def pg_target(admin_dsn: str, directory: Path) -> Iterator[HqTarget]:
    """A new PostgreSQL database on the server, its DSN file in `directory`; dropped after."""
    name = f"hq_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_dsn, autocommit=True, connect_timeout=10) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    (directory / "pg.dsn").write_text(make_conninfo(admin_dsn, dbname=name) + "\n")
    db = HqDatabaseSection(backend="postgresql", dsn_file="pg.dsn")
    target = HqTarget("postgresql", db, SecretResolver(directory))
    yield target
    target.close_all()
    # A throwaway cluster is deleted whole at the end; a given server is cleaned per test
    # (DROP DATABASE checkpoints, about a second each).
    if os.environ.get(DSN_ENV):
        with psycopg.connect(admin_dsn, autocommit=True, connect_timeout=10) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def hq_store(hq_target: HqTarget) -> HqStore:
    """A fresh, empty HqStore on each backend."""
    return hq_target.open()
