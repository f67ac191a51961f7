"""The web shop's order end to end through real processes: `POST /api/v1/orders` on
`hq serve` → `hq run` routes it over `down/orders` on a private mosquitto → the store
agent (`edge run`) puts it in the staff queue → staff pick it with one line short and
hand it over without the missing item → `GET /api/v1/orders/{id}/status` reads the
shopper's text, and the store's feed counts a collected order (a short hand-over)."""

from __future__ import annotations

import signal
import subprocess
from datetime import UTC, datetime

import httpx

from edge.clock import Clock
from edge.pickup import day_text
from sync.mosquitto import free_port
from tests.edge.agent_support import wait_for, write_store_config
from tests.hq.orders_support import hq_config, store_rows, web_order
from tests.hq.test_click_collect_path import day_figures
from tests.hq.web.test_serve import wait_healthy
from tests.pickup_support import desk, events
from tests.support import touchpoint, touchpoint_process

STAFF = "00112233aabbccdd"
WEB = """
[web]
port = {port}
users_file = "users.json"
tokens_file = "tokens.json"
cookie_secure = false
orders = true
"""


def test_posted_order_reaches_the_store_and_its_status_reads_collected(mosquitto, tmp_path):
    config = hq_config(tmp_path, mosquitto.port)
    port = free_port()
    config.write_text(config.read_text() + WEB.format(port=port))
    added = touchpoint(
        "hq", "token", "add", "shop", "--stores", "s1", "--orders", "-c", str(config)
    )
    assert added.returncode == 0, added.stderr
    shop = {"Authorization": f"Bearer {added.stdout.strip()}"}
    url = f"http://127.0.0.1:{port}"
    write_store_config(
        tmp_path, "", mqtt=f'host = "127.0.0.1"\nport = {mosquitto.port}\ntls = false'
    )
    store_db = tmp_path / "store.db"
    agent_log = open(tmp_path / "agent.log", "wb")  # noqa: SIM115 - closed in finally
    hq = touchpoint_process("hq", "run", "-c", str(config))
    serve = touchpoint_process(
        "hq", "serve", "-c", str(config), "--host", "127.0.0.1", stderr=subprocess.PIPE, text=True
    )
    agent = touchpoint_process(
        "edge", "run", "-c", str(tmp_path / "store.toml"), stdout=agent_log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    staff = None
    try:
        wait_healthy(url, serve)
        posted = httpx.post(f"{url}/api/v1/orders", json=web_order("W-1"), headers=shop, timeout=10)
        assert posted.status_code == 201, posted.text
        status_url = url + posted.headers["location"]
        wait_for(
            lambda: store_rows(store_db, "SELECT order_id FROM pickup_orders") == [("W-1",)],
            30,
            "the posted order in the store's queue",
        )
        staff = desk(store_db, Clock())
        (order,) = staff.queue()
        assert (order.first_name, len(order.lines)) == ("Anna", 3)
        staff.set_line("W-1", 1, "to_pick", "picked", STAFF)
        staff.set_line("W-1", 2, "to_pick", "picked", STAFF)
        staff.set_line("W-1", 3, "to_pick", "short", STAFF)
        shown = {ln.line: ln.state for ln in staff.mark_ready("W-1", {}, STAFF).lines}
        staff.handover("W-1", order.code, [1, 2], STAFF, without_missing=True, expect=shown)
        assert events(store_db, "pickup.handover")[0][1]["missing"] == [3]

        def text(lang: str) -> str:
            r = httpx.get(f"{status_url}?lang={lang}", headers=shop, timeout=10)
            return r.json().get("text", "") if r.status_code == 200 else f"{r.status_code}"

        today = datetime.now(UTC)
        wait_for(
            lambda: text("en") == f"Collected on {day_text(today, 'en', 'UTC')}: 2 of 3 items",
            30,
            "the shopper's text at head office",
        )
        assert text("nl") == f"Opgehaald op {day_text(today, 'nl', 'UTC')}: 2 van 3 artikelen"
        wait_for(lambda: day_figures(config).get("pickups_collected") == 1, 30, "the feed")
        figures = day_figures(config)
        assert (figures["short_handovers"], figures.get("partial_handovers", 0)) == (1, 0)
        assert figures.get("no_shows", 0) == 0
    finally:
        if staff is not None:
            staff.conn.close()
        for proc in (agent, serve, hq):
            proc.send_signal(signal.SIGTERM)
        for proc in (agent, serve, hq):
            proc.wait(20)
        agent_log.close()
