"""Fixtures of the web tests: a filled head office on each backend, or on SQLite alone.

Reading tests share one head office per module and backend (`shared_hq`); a test that
changes the data (a new revision, a write attempt) gets its own (`web_hq`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from edge.configtree import SecretResolver
from hq.config import HqDatabaseSection
from tests.hq.web.support import WebHq, make_web_hq
from tests.hq_db import HqTarget, pg_target


def _sqlite_target(directory: Path) -> HqTarget:
    return HqTarget(
        "sqlite", HqDatabaseSection(path=str(directory / "hq.db")), SecretResolver(directory)
    )


def _serve(hq: WebHq) -> Iterator[WebHq]:
    yield hq
    if hq.reader is not None:
        hq.reader.close()
    if hq.intake is not None:
        hq.intake.close()


@pytest.fixture
def web_hq(hq_target: HqTarget, tmp_path: Path) -> Iterator[WebHq]:
    """A filled head office of this test's own, on SQLite and on PostgreSQL."""
    yield from _serve(make_web_hq(hq_target, tmp_path))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_hq(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[WebHq]:
    """A filled head office shared by a module's reading tests, on each backend."""
    directory = tmp_path_factory.mktemp(f"web-{request.param}")
    if request.param == "sqlite":
        target = _sqlite_target(directory)
        yield from _serve(make_web_hq(target, directory))
        target.close_all()
        return
    for target in pg_target(request.getfixturevalue("pg_server"), directory):
        yield from _serve(make_web_hq(target, directory))


@pytest.fixture(scope="module")
def client(shared_hq: WebHq) -> Iterator[TestClient]:
    """The real app in-process over the shared head office."""
    with TestClient(shared_hq.app()) as c:
        yield c


@pytest.fixture
def sqlite_hq(tmp_path: Path) -> Iterator[WebHq]:
    """A filled head office on SQLite only (for what does not depend on the backend)."""
    target = _sqlite_target(tmp_path)
    yield from _serve(make_web_hq(target, tmp_path))
    target.close_all()


@pytest.fixture
def sqlite_client(sqlite_hq: WebHq) -> Iterator[TestClient]:
    """The real app in-process on a SQLite head office of this test's own."""
    with TestClient(sqlite_hq.app()) as c:
        yield c
