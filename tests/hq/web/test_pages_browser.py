"""The dashboard in Debian's headless Chromium, over a head office filled by real ingest.

Two stores' events go over a private mosquitto into a real `touchpoint hq run` (feeds
computed by its feed worker), the registry and receipts through `touchpoint hq
import`, users through `touchpoint hq user add`; `touchpoint hq serve` (uvicorn) serves
the pages. The browser logs in, and every figure it shows is checked against
`touchpoint hq feed` on the same database; the charts must hold the feed's points
(plotly's `gd.data[i].y`). Screenshots (English and Dutch) are kept in
`tests/artifacts/web/` (ignored by git) for a person to look at.
"""

from __future__ import annotations

import contextlib
import json
import signal
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from hq.web.i18n import DASH, Texts
from sync import wire
from tests.browser import chromium, free_port
from tests.hq.web.chain_day import TZ, ChainDay
from tests.support import ROOT, touchpoint, touchpoint_process
from tests.sync.hq_config import write_hq_configs

ARTIFACTS = ROOT / "tests" / "artifacts" / "web"
EXTRA = """
[feeds]
interval_s = 0.2
today_every_s = 0
settle_max_s = 0.2
[web]
users_file = "users.json"
tokens_file = "tokens.json"
state_file = "web-state.db"
cookie_secure = false
dashboard_refresh_s = 2
"""
FIELD = "return [...document.querySelectorAll('[data-field]')].map(e => [e.dataset.field, e.textContent, JSON.parse(e.dataset.value)])"
CHART_Y = "const g = document.getElementById(arguments[0]); return g && g.data ? g.data.map(d => Array.from(d.y)) : null"


def publish(broker, store: str, payloads: list[bytes], state: wire.StoreState | None = None):
    """Send a store's batches (and a retained state) as its uplink would, QoS 1."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=store, protocol=mqtt.MQTTv5)
    client.connect(broker.host, broker.port)
    client.loop_start()
    sends = [(wire.topic(store, "up", "events"), p, False) for p in payloads]
    if state is not None:
        sends.append((wire.topic(store, "up", "state"), wire.encode(state), True))
    for topic, payload, retain in sends:
        client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)
    client.disconnect()
    client.loop_stop()


def feed(config: Path, *args: str) -> list[dict]:
    """`touchpoint hq feed` output, parsed."""
    result = touchpoint("hq", "feed", "-c", str(config), *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def until(check, timeout: float = 30.0, what: str = "condition", fail: bool = True):
    """Poll `check()` until it returns something true; that value (or a failure)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if got := check():
                return got
        time.sleep(0.2)
    if fail:
        raise AssertionError(f"timed out waiting for {what}")
    return None


@pytest.fixture
def head_office(mosquitto, tmp_path):
    """`hq run` fed over MQTT, imports done, two users, `hq serve` on a free port."""
    from edge.configtree import SecretResolver
    from hq.backends import open_hq_reader
    from hq.config import HqDatabaseSection
    from hq.db import Db
    from hq.feeds import store_feed

    now = datetime.now(UTC)
    day = ChainDay.build(now)
    database = HqDatabaseSection(path=str(tmp_path / "hq.db"))
    (config,) = write_hq_configs(tmp_path, database, mosquitto.port)
    config.write_text(
        config.read_text().replace('timezone = "UTC"', 'timezone = "Europe/Amsterdam"') + EXTRA
    )
    stores, receipts = day.write_imports(tmp_path)
    assert touchpoint("hq", "import", "stores", str(stores), "-c", str(config)).returncode == 0
    hq = touchpoint_process("hq", "run", "-c", str(config))
    web = None
    try:
        state = wire.StoreState(v=1, online=True, boot_id="boot-1", outbox=4)
        today = now.astimezone(TZ).date().isoformat()

        reader = open_hq_reader(database, SecretResolver(tmp_path))
        day_of = now.astimezone(TZ).date()

        def s1_today(figure: str):
            rows = store_feed(Db(reader), "s1", "day", day_of, day_of)
            return rows[0][figure] if rows else None

        def ingested():
            for store, log in day.logs.items():
                publish(mosquitto, store, log.payloads(), state if store == "s1" else None)
            return until(lambda: s1_today("visitors") == 12, 2, "the feed", fail=False)

        until(ingested, 30, "the events in the feed")
        imported = touchpoint("hq", "import", "transactions", str(receipts), "-c", str(config))
        assert imported.returncode == 0, imported.stderr
        until(lambda: s1_today("transactions") == 3, 30, "the receipts in the feed")
        reader.close()
        for name, scope in (("anna", []), ("bob", ["--stores", "s2"])):
            (tmp_path / f"{name}.pw").write_text(f"{name}-password-1\n")
            added = touchpoint("hq", "user", "add", name, *scope, "--password-file",
                               str(tmp_path / f"{name}.pw"), "-c", str(config))  # fmt: skip
            assert added.returncode == 0, added.stderr
        port = free_port()
        log = (tmp_path / "serve.log").open("w")
        web = touchpoint_process("hq", "serve", "-c", str(config), "--port", str(port), stderr=log)
        base = f"http://127.0.0.1:{port}"
        until(
            lambda: urllib.request.urlopen(f"{base}/health", timeout=1).status == 200,
            30,
            "hq serve",
        )
        yield base, config, day, mosquitto, today
    finally:
        for proc in (web, hq):
            if proc is not None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(20)


FETCH = """
const done = arguments[arguments.length - 1];
fetch(arguments[0]).then(r => r.json().then(rows => done([r.headers.get("content-encoding"), rows])));
"""


def fields(d) -> dict[str, tuple[str, object]]:
    return {k: (text, value) for k, text, value in d.execute_script(FIELD)}


def log_in(d, base: str, user: str, path: str = "/") -> None:
    """The login form, from a page that sent us there."""
    from selenium.webdriver.common.by import By

    d.get(base + path)
    until(lambda: d.current_url.startswith(base + "/login"), 10, "the login page")
    d.find_element(By.ID, "username").send_keys(user)
    d.find_element(By.ID, "password").send_keys(f"{user}-password-1")
    d.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    until(lambda: d.current_url == base + path, 10, f"{path} after login")


def test_dashboard_in_chromium(head_office):
    from selenium.webdriver.common.by import By

    base, config, day, broker, today = head_office
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    d = chromium(1366, 1000, console=True)
    try:
        # Logged out: every page sends the browser to the login page.
        d.get(base + "/stores/s1")
        assert "/login?next=/stores/s1" in d.current_url
        log_in(d, base, "anna", "/")
        en = Texts("en")
        d.find_element(By.LINK_TEXT, "English").click()
        until(
            lambda: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en", 10, "English"
        )
        shown = fields(d)
        for store in ("s1", "s2"):
            (row,) = feed(config, "--store", store, "--from", today)
            assert shown[f"{store}.visitors"] == (en.number(row["visitors"]), row["visitors"])
            assert shown[f"{store}.conversion"] == (
                en.percent(row["conversion"]),
                row["conversion"],
            )
            assert shown[f"{store}.identification_rate"][1] == row["identification_rate"]
        assert shown["s1.conversion"][0] == "25.0%" and shown["s1.visitors_change"][0] == "+50.0%"
        assert shown["s1.online"][0] == "online"
        # s2 sent its batches but never a state: never seen, with no "last seen" time.
        assert shown["s2.online"][0] == "never seen" and shown["s2.seen"][0] == DASH
        assert shown["s1.backlog"] == ("4", 4)
        d.save_screenshot(str(ARTIFACTS / "overview-en.png"))

        # The store page: figures and charts hold the feed's numbers.
        d.find_element(By.LINK_TEXT, "Amsterdam Centrum").click()
        until(lambda: d.current_url == base + "/stores/s1", 10, "the store page")
        hourly = until(lambda: d.execute_script(CHART_Y, "chart-hourly"), 20, "the hourly chart")
        hours = feed(config, "--store", "s1", "--from", today, "--period", "hour")
        assert hourly[1] == [h["visitors"] for h in hours] and sum(hourly[1]) == 12
        # The feed API from the browser's session: Chromium takes it gzip-encoded, joined
        # from the pages' deflated pieces, and reads the same rows `hq feed` prints.
        encoding, api_rows = d.execute_async_script(
            FETCH, f"/api/v1/stores/s1/feed?period=hour&from={today}"
        )
        assert encoding == "gzip" and api_rows == hours
        assert sum(hourly[0]) == 8  # the same weekday last week
        trend = d.execute_script(CHART_Y, "chart-trend")
        assert len(trend[0]) == 30 and trend[0][-1] == 12 and trend[1][-1] == 0.25
        assert (
            d.execute_script(
                "return document.querySelectorAll('#chart-trend .point, #chart-trend .bars path').length"
            )
            > 0
        )
        (row,) = feed(config, "--store", "s1", "--from", today)
        shown = fields(d)
        for name in ("kiosk_sessions", "counting_accuracy", "untrusted_clock_events", "entries"):
            assert shown[f"today.{name}"][1] == row[name], name
        assert shown["today.kiosk_sessions"][0] == "3"
        assert shown["device.dev"][0] == "degraded"
        d.save_screenshot(str(ARTIFACTS / "store-en.png"))

        # Live: two more shoppers arrive; the page shows them without being reloaded.
        d.execute_script("window.notReloaded = true")
        log = day.logs["s1"]
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        log.door(now, count=2)
        publish(broker, "s1", log.payloads(log.events[-1:]))
        until(lambda: fields(d)["s1.visitors"][1] == 14, 30, "the live refresh")
        assert d.execute_script("return window.notReloaded") is True
        until(
            lambda: sum(d.execute_script(CHART_Y, "chart-hourly")[1]) == 14, 10, "the chart refresh"
        )

        # Dutch: the switch, texts and number formats.
        d.find_element(By.LINK_TEXT, "Nederlands").click()
        until(
            lambda: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "nl", 10, "Dutch"
        )
        shown = fields(d)
        assert shown["s1.conversion"][0] == Texts("nl").percent(3 / 14)
        assert "Bezoekers per uur" in d.page_source
        until(lambda: d.execute_script(CHART_Y, "chart-hourly"), 20, "the chart in Dutch")
        d.save_screenshot(str(ARTIFACTS / "store-nl.png"))
        d.get(base + "/")
        d.save_screenshot(str(ARTIFACTS / "overview-nl.png"))
        d.get(base + "/chain")
        (chain,) = feed(config, "--chain", "--from", today)
        shown = fields(d)
        assert shown["chain.visitors"][1] == chain["visitors"] == 19
        assert shown["conv.0.store"][1] == "s1"
        until(lambda: d.execute_script(CHART_Y, "chart-trend"), 20, "the chain chart")
        d.save_screenshot(str(ARTIFACTS / "chain-nl.png"))

        # Nothing was refused by the Content-Security-Policy, and no script failed.
        problems = [e["message"] for e in d.get_log("browser") if e["level"] == "SEVERE"]
        assert not problems, problems

        # Log out: back to the login page, and the pages stay closed.
        d.find_element(By.CSS_SELECTOR, "form.logout button").click()
        until(lambda: "/login" in d.current_url, 10, "the login page after logout")
        d.get(base + "/")
        assert "/login" in d.current_url

        # A user limited to s2 sees s2 only, and not s1's page.
        log_in(d, base, "bob", "/")
        assert [k for k in fields(d) if k.endswith(".visitors")] == ["s2.visitors"]
        d.get(base + "/stores/s1")
        assert "403" in d.find_element(By.TAG_NAME, "body").text
        d.get(base + "/stores/s1?format=json")
        assert "s1" not in d.find_element(By.TAG_NAME, "body").text.replace("'s1'", "")
    finally:
        d.quit()
