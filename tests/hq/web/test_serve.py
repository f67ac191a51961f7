"""`touchpoint hq serve` as a real process under uvicorn: health, the API as `hq feed` prints
it, a schemathesis run against the served OpenAPI document (no 5xx), clean SIGTERM, and
the commands that manage users and tokens."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import schemathesis
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from hq.config import HqDatabaseSection
from sync.mosquitto import free_port
from tests.hq.web.support import DAY, fill
from tests.support import touchpoint_process
from tests.sync.hq_config import write_hq_configs
from touchpoint.cli import main


def touchpoint(*args: str, input: str | None = None):
    """Run a `touchpoint` command in-process (the real command; a process costs a second)."""
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


WEB = """
[web]
port = {port}
users_file = "users.json"
tokens_file = "tokens.json"
state_file = "web-state.db"
cookie_secure = false
orders = true
"""


def hq_config(tmp_path: Path, port: int = 8080) -> Path:
    """An HQ config on a SQLite file in tmp_path, with a [web] section."""
    (config,) = write_hq_configs(tmp_path, HqDatabaseSection(path=str(tmp_path / "hq.db")), 1883)
    config.write_text(config.read_text() + WEB.format(port=port))
    return config


@dataclass
class Served:
    """A running `hq serve` and what talks to it."""

    url: str
    config: Path
    token: str
    process: subprocess.Popen

    def get(self, path: str, **kw) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"} | kw.pop("headers", {})
        return httpx.get(self.url + path, headers=headers, timeout=10, **kw)


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    """Poll /health until it answers 200 (fail with the server's stderr if it died)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"hq serve exited {process.returncode}: {process.stderr.read()}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail("hq serve did not answer /health in time")


def filled_head_office(tmp: Path, port: int) -> Path:
    """A SQLite head office in tmp filled by ingest, and its config (serving on `port`)."""
    from hq.sqlite_store import SqliteHqStore

    config = hq_config(tmp, port)
    writer = SqliteHqStore(tmp / "hq.db")
    fill(writer)
    writer.close()
    return config


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Served]:
    """`touchpoint hq serve` on a free port over a SQLite head office filled by ingest."""
    tmp = tmp_path_factory.mktemp("serve")
    port = free_port()
    config = filled_head_office(tmp, port)
    # The token may send orders too: schemathesis's POSTs reach the real writer.
    token = touchpoint("hq", "token", "add", "bi", "--orders", "-c", str(config)).stdout.strip()
    process = touchpoint_process(
        "hq", "serve", "-c", str(config), "--host", "127.0.0.1", stderr=subprocess.PIPE, text=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
        yield Served(url, config, token, process)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(15)


def test_served_api_prints_what_hq_feed_prints(served):
    for args, path in (
        (["--store", "s1", "--period", "hour"], f"/api/v1/stores/s1/feed?from={DAY}&period=hour"),
        (["--chain"], f"/api/v1/chain/feed?from={DAY}"),
    ):
        cli = touchpoint("hq", "feed", "-c", str(served.config), "--from", DAY, *args)
        assert cli.exit_code == 0, cli.stderr
        api = served.get(path)
        assert api.status_code == 200 and api.json() == json.loads(cli.stdout)
    cli_csv = touchpoint(
        "hq", "feed", "-c", str(served.config), "--store", "s1", "--from", DAY, "--format", "csv"
    )
    assert served.get(f"/api/v1/stores/s1/feed?from={DAY}&format=csv").text == cli_csv.stdout
    assert served.get("/api/v1/stores", headers={"Authorization": ""}).status_code == 401


def test_curl_compressed_reads_the_feed_gzip_encoded(served):
    """`curl --compressed` (docs/api.md) over the real server: gzip on the wire, the same
    rows once inflated."""
    path = f"/api/v1/stores/s1/feed?from={DAY}&period=hour"
    auth = f"Authorization: Bearer {served.token}"
    out = subprocess.run(
        ["curl", "-sS", "--compressed", "-D", "-", "-H", auth, served.url + path],
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout
    head, _, body = out.partition(b"\r\n\r\n")
    assert b"content-encoding: gzip" in head.lower()
    plain = served.get(path, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and body == plain.content


def test_schemathesis_finds_no_server_error(served):
    """Every operation of the served OpenAPI document, valid and invalid inputs, bounded."""
    schema = schemathesis.openapi.from_url(
        f"{served.url}/schema/openapi.json", headers={"Authorization": f"Bearer {served.token}"}
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {
        "/api/v1/stores",
        "/api/v1/stores/{store}/feed",
        "/api/v1/chain/feed",
        "/api/v1/orders",
        "/health",
    }
    seen: list[int] = []
    for op in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=op.as_strategy(generation_mode=mode))
            @settings(
                max_examples=15,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def call(case) -> None:
                response = case.call(
                    base_url=served.url,
                    headers={"Authorization": f"Bearer {served.token}"},
                    timeout=10,
                )
                seen.append(response.status_code)
                assert response.status_code < 500, (case.path, case.query, response.text)

            call()
    assert 200 in seen and 400 in seen  # valid and invalid requests were both made


def test_sigterm_stops_the_server(tmp_path):
    port = free_port()
    config = hq_config(tmp_path, port)
    from hq.sqlite_store import SqliteHqStore

    SqliteHqStore(tmp_path / "hq.db").close()
    process = touchpoint_process(
        "hq", "serve", "-c", str(config), stderr=subprocess.PIPE, text=True
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process)
    finally:
        process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught (systemd
        # counts death by SIGTERM as a clean stop).
        assert process.wait(15) in (0, -signal.SIGTERM)
    assert "Finished server process" in process.stderr.read()


def test_serve_refuses_a_missing_database_or_a_broken_users_file(tmp_path):
    config = hq_config(tmp_path)
    missing = touchpoint("hq", "serve", "-c", str(config))
    assert missing.exit_code == 2 and "no HQ database" in missing.stderr
    from hq.sqlite_store import SqliteHqStore

    SqliteHqStore(tmp_path / "hq.db").close()
    (tmp_path / "users.json").write_text("{not json")
    broken = touchpoint("hq", "serve", "-c", str(config))
    assert broken.exit_code == 2 and "users.json" in broken.stderr
    (tmp_path / "users.json").unlink()
    with sqlite3.connect(tmp_path / "hq.db") as conn:  # as a head office before an upgrade
        conn.execute(
            "DELETE FROM schema_version WHERE version = (SELECT max(version) FROM schema_version)"
        )
    old = touchpoint("hq", "serve", "-c", str(config))
    assert old.exit_code == 2 and "start `touchpoint hq run` once to upgrade" in old.stderr


def test_user_and_token_commands(tmp_path):
    config = hq_config(tmp_path)
    pw = tmp_path / "pw"
    pw.write_text("a long password\n")
    added = touchpoint("hq", "user", "add", "rita", "--stores", "s2,s1", "--password-file", str(pw),
                       "-c", str(config))  # fmt: skip
    assert added.exit_code == 0, added.stderr
    assert json.loads(added.stdout)["stores"] == ["s1", "s2"]
    piped = touchpoint("hq", "user", "add", "anna", "-c", str(config), input="another password\n")
    assert piped.exit_code == 0, piped.stderr
    users = tmp_path / "users.json"
    assert stat.S_IMODE(os.stat(users).st_mode) == 0o600
    text = users.read_text()
    assert "a long password" not in text and "another password" not in text
    listed = touchpoint("hq", "user", "list", "-c", str(config)).stdout.splitlines()
    assert [json.loads(line)["user"] for line in listed] == ["rita", "anna"]
    token = touchpoint("hq", "token", "add", "bi", "--stores", "s1", "-c", str(config))
    raw = token.stdout.strip()
    assert token.exit_code == 0 and raw.startswith("tpk_") and len(raw) > 40
    tokens = (tmp_path / "tokens.json").read_text()
    assert raw not in tokens and stat.S_IMODE(os.stat(tmp_path / "tokens.json").st_mode) == 0o600
    assert raw not in touchpoint("hq", "token", "list", "-c", str(config)).stdout
    shop = touchpoint("hq", "token", "add", "shop", "--stores", "s1", "--orders", "-c", str(config))
    assert shop.exit_code == 0, shop.stderr
    listed = touchpoint("hq", "token", "list", "-c", str(config)).stdout.splitlines()
    assert [(t["token"], t["rights"]) for t in map(json.loads, listed)] == [
        ("bi", []),
        ("shop", ["orders"]),
    ]
    # A tokens file from before rights existed still loads: its tokens read only.
    old = json.loads(tokens)
    assert "rights" in old["tokens"][0]
    del old["tokens"][0]["rights"]
    (tmp_path / "tokens.json").write_text(json.dumps(old))
    listed = touchpoint("hq", "token", "list", "-c", str(config)).stdout.splitlines()
    assert json.loads(listed[0]) | {"created": ""} == {"token": "bi", "stores": ["s1"],
                                                       "rights": [], "created": ""}  # fmt: skip
    for bad, reason in (
        (["user", "add", "x y", "--password-file", str(pw)], "must match"),
        (["user", "add", "bob", "--stores", "s 1", "--password-file", str(pw)], "bad store"),
        (["user", "remove", "nobody"], "no user"),
        (["token", "remove", "nobody"], "no token"),
    ):
        result = touchpoint("hq", *bad, "-c", str(config), input="short\n")
        assert result.exit_code == 2 and reason in result.stderr, (bad, result.stderr)
    short = touchpoint("hq", "user", "add", "bob", "-c", str(config), input="short\n")
    assert short.exit_code == 2 and "at least 8" in short.stderr
    assert touchpoint("hq", "user", "remove", "rita", "-c", str(config)).exit_code == 0
    assert touchpoint("hq", "token", "remove", "bi", "-c", str(config)).exit_code == 0
