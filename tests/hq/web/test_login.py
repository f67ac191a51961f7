"""Dashboard login: CSRF-safe form, session cookie for pages and API, logout, rate limit,
open-redirect guard, users removed while logged in; sessions and limiter on a fake clock."""

from __future__ import annotations

import re

from litestar.testing import TestClient

from hq.web.accounts import remove_user
from hq.web.auth import SESSION_COOKIE, LoginLimiter, Sessions
from hq.web.webstate import WebState
from tests.hq.web.support import DAY, PASSWORD


def login(
    client: TestClient, user: str, password: str = PASSWORD, next_: str = "/", lang: str = "en"
):
    """GET the form, POST it back (to its action) with its CSRF token; not followed."""
    page = client.get(f"/login?lang={lang}")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
    action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
    form = {"username": user, "password": password, "next": next_, "_csrf_token": token}
    return client.post(action, data=form, follow_redirects=False)


def test_a_page_without_a_session_redirects_to_login(sqlite_client):
    r = sqlite_client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    r = sqlite_client.get("/stores/s1?day=2026-06-01", follow_redirects=False)
    assert r.status_code in (303, 404)  # a page the dashboard may not have yet
    page = sqlite_client.get("/login")
    assert page.status_code == 200 and 'type="password"' in page.text
    assert sqlite_client.get("/login?lang=nl").text.count("Wachtwoord") == 1
    hostile = sqlite_client.get('/login?next=/"><script>alert(1)</script>').text
    assert "<script>" not in hostile and "&lt;script&gt;" in hostile


def test_login_session_for_pages_and_api_then_logout(sqlite_client):
    r = login(sqlite_client, "anna", next_="/?from=x")
    assert r.status_code == 303 and r.headers["location"] == "/?from=x"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # web.cookie_secure = false in these tests
    value = sqlite_client.cookies[SESSION_COOKIE]
    home = sqlite_client.get("/")
    assert home.status_code == 200 and "anna" in home.text
    # The session works for the API too (the pages' live refresh).
    assert sqlite_client.get(f"/api/v1/stores/s2/feed?from={DAY}").status_code == 200
    token = re.search(r'name="_csrf_token" value="([^"]+)"', home.text).group(1)
    out = sqlite_client.post("/logout", data={"_csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login?out=1"
    assert sqlite_client.get("/login?out=1").text.count("logged out") == 1
    # The old cookie value is worthless after logout, even if a browser kept it.
    sqlite_client.cookies.set(SESSION_COOKIE, value)
    assert sqlite_client.get("/api/v1/stores").status_code == 401
    assert sqlite_client.get("/", follow_redirects=False).status_code == 303


def test_login_and_logout_need_the_csrf_token(sqlite_client):
    form = {"username": "anna", "password": PASSWORD}
    assert sqlite_client.post("/login", data=form, follow_redirects=False).status_code == 403
    assert login(sqlite_client, "anna").status_code == 303
    assert sqlite_client.post("/logout", follow_redirects=False).status_code == 403
    assert sqlite_client.get("/").status_code == 200  # still logged in


def test_wrong_password_unknown_user_and_foreign_next(sqlite_client, caplog):
    r = login(sqlite_client, "anna", "wrong password")
    assert "failed login of 'anna'" in caplog.text and "wrong password" not in caplog.text
    assert r.status_code == 401 and "Wrong user name or password" in r.text
    assert SESSION_COOKIE not in r.headers.get("set-cookie", "")
    assert login(sqlite_client, "nobody").status_code == 401
    dutch = login(sqlite_client, "anna", "fout", lang="nl")
    assert dutch.status_code == 401 and "Onjuiste gebruikersnaam" in dutch.text
    for foreign in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        assert login(sqlite_client, "anna", next_=foreign).headers["location"] == "/"


def test_logins_are_rate_limited_per_user_and_address(sqlite_client):
    for _ in range(5):  # web.login_attempts
        assert login(sqlite_client, "anna", "wrong password").status_code == 401
    limited = login(sqlite_client, "anna")  # even the right password, for now
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    assert "Too many failed attempts" in limited.text
    assert login(sqlite_client, "rita").status_code == 303  # another user is not held up


def test_a_scoped_user_and_a_user_removed_while_logged_in(sqlite_client, sqlite_hq):
    assert login(sqlite_client, "rita").status_code == 303
    assert sqlite_client.get(f"/api/v1/stores/s1/feed?from={DAY}").status_code == 200
    assert sqlite_client.get(f"/api/v1/stores/s2/feed?from={DAY}").status_code == 403
    assert sqlite_client.get(f"/api/v1/chain/feed?from={DAY}").status_code == 403
    remove_user(sqlite_hq.tmp / "users.json", "rita")
    assert sqlite_client.get(f"/api/v1/stores/s1/feed?from={DAY}").status_code == 401


def test_secure_cookie_when_configured(sqlite_hq):
    app = sqlite_hq.app(cookie_secure=True, session_minutes=5)
    with TestClient(app, base_url="https://testserver.local") as c:
        cookie = login(c, "anna").headers["set-cookie"]
    assert "Secure" in cookie and "Max-Age=300" in cookie


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_sessions_end_after_their_lifetime(tmp_path):
    clock = Clock()
    sessions = Sessions(WebState(tmp_path / "state.db"), 60, clock)
    a = sessions.create("anna")
    clock.t += 59
    assert sessions.user(a) == "anna" and sessions.user("forged") is None
    clock.t += 2
    assert sessions.user(a) is None


def test_limiter_window_and_per_address_cap(tmp_path):
    clock = Clock()
    limiter = LoginLimiter(WebState(tmp_path / "state.db"), 3, 60, clock)
    for _ in range(3):
        limiter.failed("anna", "10.0.0.1")
    assert 0 < limiter.retry_after("anna", "10.0.0.1") <= 61
    assert limiter.retry_after("anna", "10.0.0.2") == 0
    clock.t += 61
    assert limiter.retry_after("anna", "10.0.0.1") == 0
    for i in range(12):  # 4x the limit from one address over many names
        limiter.failed(f"user{i}", "10.0.0.3")
    assert limiter.retry_after("someone-else", "10.0.0.3") > 0
    limiter.succeeded("anna", "10.0.0.1")
