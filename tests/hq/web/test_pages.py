"""The dashboard pages in-process (Litestar's TestClient on the real app, real SQLite):
login required, scopes, the language switch, the JSON view, plotly.js served locally."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import msgspec
import pytest
from litestar.testing import TestClient

from edge.configtree import SecretResolver
from hq.backends import open_hq_reader
from hq.config import HqConfig
from hq.sqlite_store import SqliteHqStore
from hq.web.accounts import add_user
from hq.web.app import create_app
from hq.web.views import FIGURES
from tests.hq.web.chain_day import fill


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    home = tmp_path_factory.mktemp("pages")
    store = SqliteHqStore(home / "hq.db")
    fill(store, home, datetime.now(UTC))
    store.close()
    cfg = msgspec.convert(
        {
            "identity": {"keys": [{"id": "k1", "file": "key"}], "active_key": "k1"},
            "hq": {"timezone": "Europe/Amsterdam"},
            "database": {"path": str(home / "hq.db")},
            "web": {"users_file": "users.json", "tokens_file": "tokens.json",
                    "state_file": "web-state.db", "cookie_secure": False},
        },
        HqConfig,
    )  # fmt: skip
    add_user(home / "users.json", "anna", "anna-password-1", None)
    add_user(home / "users.json", "bob", "bob-password-1", ["s2"])
    reader = open_hq_reader(cfg.database, SecretResolver(home))
    yield create_app(cfg, reader, base_dir=home)
    reader.close()


def client(app, user: str | None = None, **headers: str) -> TestClient:
    """A browser of `user` (logged in through the form), or a logged-out one."""
    c = TestClient(app)
    c.headers.update(headers)
    if user:
        token = re.search(r'name="_csrf_token" value="([^"]+)"', c.get("/login").text)[1]
        form = {"username": user, "password": f"{user}-password-1", "_csrf_token": token}
        assert c.post("/login", data=form, follow_redirects=False).status_code == 303
    return c


def test_pages_and_their_json_need_a_login(app):
    with client(app) as c:
        for path in (
            "/",
            "/stores/s1",
            "/chain",
            "/stores/s1?format=json",
            "/vendor/plotly.min.js",
        ):
            r = c.get(path, follow_redirects=False)
            assert r.status_code == 303 and r.headers["location"].startswith("/login"), path


def test_pages_in_the_browser_language_and_by_the_switch(app):
    with client(app, "anna", **{"Accept-Language": "en-US,en;q=0.9"}) as c:
        page = c.get("/")
        assert page.status_code == 200 and '<html lang="en">' in page.text
        assert "Stores today" in page.text and "Amsterdam Centrum" in page.text
        assert (
            "Content-Security-Policy" in page.headers or "content-security-policy" in page.headers
        )
        back = c.get("/lang/nl", params={"next": "/chain"}, follow_redirects=False)
        assert back.status_code == 303 and back.headers["location"] == "/chain"
        assert "httponly" in back.headers["set-cookie"].lower()
        assert "Keten vandaag" in c.get("/chain").text
        assert "Hoofdkantoor: inloggen" in c.get("/login").text  # the login page follows
        # Only local paths: the switch is no open redirect.
        away = c.get("/lang/en", params={"next": "//evil.example/"}, follow_redirects=False)
        assert away.headers["location"] == "/"
        assert c.get("/lang/xx").status_code == 404


def test_the_json_view_is_the_pages_fields_and_charts(app):
    with client(app, "anna", **{"Accept-Language": "nl"}) as c:
        html = c.get("/stores/s1").text
        view = c.get("/stores/s1", params={"format": "json"}).json()
    assert view["lang"] == "nl" and view["layout"] in html
    keys = set(re.findall(r'data-field="([^"]+)"', html))
    assert keys <= set(view["fields"])  # every field on the page is refreshed
    assert view["fields"]["s1.visitors"][:2] == ["12", 12]
    assert view["fields"]["today.kiosk_sessions"][:2] == ["3", 3]
    assert {f"today.{name}" for name in FIGURES} <= set(view["fields"])
    hourly = view["charts"]["hourly"]["data"]
    assert sum(hourly[1]["y"]) == 12 and hourly[1]["name"] == "Vandaag"


def test_no_pseudonym_or_customer_data_on_any_page(app):
    with client(app, "anna") as c:
        for path in ("/", "/stores/s1", "/stores/s2", "/chain"):
            for text in (c.get(path).text, c.get(path, params={"format": "json"}).text):
                assert "a" * 64 not in text and "b" * 64 not in text
                assert "pseudonym" not in text and "customer" not in text


def test_a_user_limited_to_one_store_sees_only_that_store(app):
    with client(app, "bob") as c:
        overview = c.get("/", params={"format": "json"}).json()["fields"]
        assert {k.split(".")[0] for k in overview if k.endswith(".visitors")} == {"s2"}
        assert c.get("/stores/s1").status_code == 403
        assert c.get("/stores/s1", params={"format": "json"}).status_code == 403
        assert c.get("/stores/s2").status_code == 200
        chain = c.get("/chain", params={"format": "json"}).json()["fields"]
        assert chain["chain.visitors"][1] == 5  # s2's own roll-up, nothing of s1
        assert "s1" not in c.get("/chain").text.replace("s1.", "")
    with client(app, "anna") as c:
        assert c.get("/stores/nope").status_code == 404


def test_the_overview_search_finds_a_store_and_its_refresh_keeps_the_search(app):
    with client(app, "anna") as c:
        page = c.get("/", params={"q": "S2"})
        assert 'id="store-s2"' in page.text and 'id="store-s1"' not in page.text
        assert 'name="q"' in page.text and 'value="S2"' in page.text
        refresh = re.search(r'data-refresh-url="([^"]+)"', page.text)[1].replace("&amp;", "&")
        fields = c.get(refresh).json()["fields"]
        assert {k.split(".")[0] for k in fields if k.endswith(".visitors")} == {"s2"}
        assert fields["stores.count"][1] == 1 and fields["stores.page"][1] == 1
        everything = c.get("/", params={"format": "json", "page": "x9"}).json()["fields"]
        assert everything["stores.count"][1] == 2


def test_plotly_comes_from_the_installed_package(app):
    with client(app, "anna") as c:
        js = c.get("/vendor/plotly.min.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert "plotly.js v" in js.text[:200] and len(js.content) > 1_000_000
    assert "max-age" in js.headers["cache-control"]
