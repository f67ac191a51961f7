"""The whole click & collect path through real parts (issue #13, "Must show").

An online order imported at head office (`hq import orders`) → `hq run` sends it over a
private mosquitto → the real store agent (`edge run`) applies it into the staff queue →
staff pick it with one line short and mark it ready → the shopper checks in by scanning
the pick-up QR on the kiosk's pty scanner → staff hand over the ready lines after
checking the code → the short line turns up, the shopper comes back, the rest is handed
over → head office's `hq order-status` reads "Collected on …", and the store's feed
counts one collected order (and one partial hand-over) with the waits at the counter.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from datetime import UTC, datetime

from devices.emulators.scanner import ScannerEmulator
from edge.clock import Clock
from edge.pickup import day_text
from kiosk.core.recognition import OfflineRecognition
from kiosk.screens.pickup import PickupScreen
from tests.edge.agent_support import wait_for
from tests.hq.orders_support import hq_config, hq_rows, import_orders, order_status, web_order
from tests.kiosk.app_support import SIZE, make_kiosk, run, screen_text, settle
from tests.pickup_support import desk, events
from tests.support import touchpoint, touchpoint_process

STAFF = "00112233aabbccdd"
SCANNER = """
[[devices]]
type = "serial_scanner"
name = "scan-kiosk"
port = "{port}"
role = "kiosk"
"""


def day_figures(config) -> dict:
    rows = hq_rows(config, "SELECT figures FROM hq_feed WHERE store = 's1' AND period = 'day'")
    out: dict = {}
    for (figures,) in rows:
        for k, v in json.loads(figures).items():
            if isinstance(v, int | float):
                out[k] = out.get(k, 0) + v
    return out


def test_online_order_to_collected_through_real_parts(mosquitto, tmp_path):
    config = hq_config(tmp_path, mosquitto.port)
    scanner = ScannerEmulator(tmp_path / "usb-Kiosk_Scanner-if00")
    scanner.plug()
    kiosk = make_kiosk(
        tmp_path,
        kiosk='scanner = "scan-kiosk"',
        devices=SCANNER.format(port=scanner.path),
        recognition=OfflineRecognition(),
        mqtt=f'host = "127.0.0.1"\nport = {mosquitto.port}\ntls = false',
    )
    store_db = tmp_path / "store.db"
    agent_log = open(tmp_path / "agent.log", "wb")  # noqa: SIM115 - closed in finally
    hq = touchpoint_process("hq", "run", "-c", str(config))
    agent = touchpoint_process(
        "edge", "run", "-c", str(tmp_path / "store.toml"), stdout=agent_log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    staff = desk(store_db, Clock())
    try:
        # 1-2. Imported at head office; it appears in the store's staff queue.
        import_orders(config, web_order("W-1"))
        wait_for(lambda: [o.order_id for o in staff.queue()] == ["W-1"], 30, "order in the queue")
        (order,) = staff.queue()
        assert (order.first_name, len(order.lines)) == ("Anna", 3)
        # 3. Picked, one line short, marked ready.
        staff.set_line("W-1", 1, "to_pick", "picked", STAFF)
        staff.set_line("W-1", 2, "to_pick", "picked", STAFF)
        staff.set_line("W-1", 3, "to_pick", "short", STAFF)
        staff.mark_ready("W-1", {1: "picked", 2: "picked", 3: "short"}, STAFF)

        # 4. The shopper scans the pick-up QR at the kiosk: checked in, told in Dutch.
        async def check_in():
            app = kiosk.app
            async with app.run_test(size=SIZE) as pilot:
                await settle(pilot, app)
                assert scanner.wait_connected(5)
                scanner.scan(order.code)
                deadline = time.monotonic() + 5
                while not isinstance(app.screen, PickupScreen) and time.monotonic() < deadline:
                    await pilot.pause(0.01)
                await settle(pilot, app)
                assert "Een deel van je bestelling ligt klaar: 2 van 3 artikelen" in screen_text(
                    app
                )

        run(check_in())
        assert [d.get("via") for t, d in events(store_db) if t == "pickup.checkin"] == ["scan"]
        # 5. Staff check the code and hand over the two ready lines.
        staff.handover("W-1", order.code, [1, 2], STAFF)
        wait_for(lambda: order_status(config, "W-1").startswith("You have collected part"), 30,
                 "the partial hand-over at head office")  # fmt: skip
        # The short line turns up; the shopper comes back (typed code) and takes it.
        staff.set_line("W-1", 3, "short", "picked", STAFF)
        staff.mark_ready("W-1", {3: "picked"}, STAFF)
        assert kiosk.service.checkin(order.code, "code") is not None
        staff.handover("W-1", order.code, [3], STAFF)
        # 6. Head office reads "Collected", and the store's feed counts it with its waits.
        today = day_text(datetime.now(UTC), "en", "UTC")
        wait_for(lambda: order_status(config, "W-1") == f"Collected on {today}", 30, "Collected")
        assert order_status(config, "W-1", "nl").startswith("Opgehaald op ")
        wait_for(lambda: day_figures(config).get("pickups_collected") == 1, 30, "the feed")
        feed = touchpoint("hq", "feed", "-c", str(config), "--store", "s1",
                          "--from", datetime.now(UTC).date().isoformat())  # fmt: skip
        (day,) = json.loads(feed.stdout)
        assert (day["pickups_collected"], day["partial_handovers"], day["no_shows"]) == (1, 1, 0)
        assert (day["pickups_ready"], day["ready_on_time"], day["ready_late"]) == (2, 1, 0)
        assert day["wait_median_s"] > 0 and day["wait_p90_s"] >= day["wait_median_s"]
        assert day["no_show_rate"] == 0.0 and day["ready_on_time_rate"] == 1.0
        # Nothing personal reached head office's answer or its order record.
        assert "Anna" not in json.dumps(hq_rows(config, "SELECT * FROM hq_orders"))
    finally:
        staff.conn.close()
        kiosk.close()
        scanner.close()
        for proc in (agent, hq):
            proc.send_signal(signal.SIGTERM)
        for proc in (agent, hq):
            proc.wait(20)
        agent_log.close()
