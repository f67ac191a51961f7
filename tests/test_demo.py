"""`touchpoint demo`: the chain runs end to end and every count agrees exactly (`--headless`);
without `--headless` it ends by serving the dashboard on its head office until Ctrl-C."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request

from tests.browser import free_port
from tests.support import touchpoint, touchpoint_process


def test_demo_headless_prints_an_exact_summary(tmp_path):
    result = touchpoint(
        "demo",
        "--stores",
        "2",
        "--minutes",
        "20",
        "--speed",
        "600",
        "--headless",
        "--workdir",
        str(tmp_path),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["exact"] is True
    assert set(summary["stores"]) == {"demo-001", "demo-002"}
    for store in summary["stores"].values():
        assert store["entries"] == store["sensor_in"] == store["hq_in"] > 0
        assert store["exits"] == store["sensor_out"] == store["hq_out"]
        assert store["hq_acked"] == store["last_seq"]
        # Head office's feed for the day matches what the simulation knows happened, and
        # the store's own visitor count.
        feed, truth = store["feed"], store["truth"]
        assert {k: feed[k] for k in truth} == truth
        assert feed["visitors"] == store["visitors"] == store["sensor_in"]
        assert feed["identified_visits"] > 0 and feed["matched_visits"] > 0
        # Click & collect: eight web-shop orders worked at the store's pick-up desk. Head
        # office says what the store says, and the feed counts what the demo did (worked
        # out by hand from touchpoint/demo_pickup.py's plan: five marked ready today, one
        # of them after its promise; two handed over, one without a missing item; one
        # ready nine days ago expires now).
        cc = store["click_collect"]
        assert cc["exact"] is True
        assert cc["truth"] == {"pickups_ready": 5, "ready_on_time": 4, "ready_late": 1,
                               "pickups_collected": 2, "short_handovers": 1,
                               "partial_handovers": 0, "no_shows": 1}  # fmt: skip
        assert {k: v for k, v in cc["feed"].items() if k != "no_show_rate"} == cc["truth"]
        assert cc["feed"]["no_show_rate"] == 1 / 3
        states = sorted(o["hq_state"] for o in cc["orders"].values())
        assert states == ["collected"] * 2 + ["expired"] + ["preparing"] * 2 + ["ready"] * 3
        for o in cc["orders"].values():
            assert o["text"] == o["store_text"] and o["state"] == o["hq_state"] == o["planned"]
        texts = [o["text"] for o in cc["orders"].values()]
        assert sum(bool(re.fullmatch(r"Opgehaald op \w+ \d+ \w+: 2 van 3 artikelen", t))
                   for t in texts) == 1  # fmt: skip
        assert "Deze bestelling is verlopen: de artikelen liggen weer in de winkel" in texts
    assert summary["imports"]["profiles"]["rejected"] == 0
    assert summary["imports"]["transactions"]["imported"] > 0
    assert summary["imports"]["orders"] == {"imported": 16, "rejected": 0}


def test_demo_ends_by_serving_the_dashboard_until_ctrl_c(tmp_path):
    port = free_port()
    demo = touchpoint_process(
        "demo", "--stores", "1", "--minutes", "5", "--speed", "600", "--port", str(port),
        "--workdir", str(tmp_path), stdout=subprocess.PIPE, text=True,
        env={"PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        lines: list[str] = []
        threading.Thread(target=lambda: lines.extend(demo.stdout), daemon=True).start()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and "password" not in "".join(lines):
            time.sleep(0.1)
        text = "".join(lines)
        assert f"http://127.0.0.1:{port}/" in text, text
        reported = int(re.search(r"demo-001 today \(feed revision \d+\): visitors (\d+)", text)[1])
        assert re.search(r"demo-001 click & collect: 8 orders; .*: exact", text), text
        assert re.search(r"W-001-6: Opgehaald op \w+ \d+ \w+: 2 van 3 artikelen", text), text
        password = re.search(r"password '([^']+)'", text)[1]
        # Log in as a browser would (CSRF token from the form) and read the overview's data.
        base = f"http://127.0.0.1:{port}"
        while time.monotonic() < deadline:  # the URL is printed just before uvicorn listens
            try:
                socket.create_connection(("127.0.0.1", port), 0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        web = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        form = web.open(f"{base}/login", timeout=10).read().decode()
        token = re.search(r'name="_csrf_token" value="([^"]+)"', form)[1]
        fields = {"username": "demo", "password": password, "_csrf_token": token}
        web.open(f"{base}/login", urllib.parse.urlencode(fields).encode(), timeout=10)
        view = json.loads(web.open(f"{base}/?format=json", timeout=10).read())
        assert view["fields"]["demo-001.visitors"][1] >= reported > 0
        assert view["fields"]["demo-001.online"][0] in ("online", "offline")
    finally:
        demo.send_signal(signal.SIGINT)  # Ctrl-C
        assert demo.wait(60) == 0
