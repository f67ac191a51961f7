"""The served kiosk in Debian's headless Chromium: it loads, a shopper taps and types, we read the screen.

xterm.js draws the terminal on a canvas, so the test reads what the shopper sees from
the terminal buffer (our page template hands it over as `window.kioskTerminal`) and
keeps a screenshot. Taps are clicks on the canvas, at the cell where a label is shown.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edge.db import connect, open_store_db
from edge.events import decode_data
from kiosk.serve import LOOPBACK, kiosk_command
from tests.browser import chromium, free_port
from tests.edge.agent_support import write_store_config
from tests.kiosk.conftest import fill
from tests.support import ROOT

READ_SCREEN = """
const t = window.kioskTerminal;
if (!t) return null;
const b = t.buffer.active, out = [];
for (let i = 0; i < t.rows; i++) { const l = b.getLine(i); out.push(l ? l.translateToString(true) : ""); }
return out;
"""


@pytest.fixture
def served(tmp_path):
    cfg = write_store_config(tmp_path, "", extra="[kiosk]\nsearch_delay_ms = 50\n")
    open_store_db(tmp_path / "store.db").close()
    fill(tmp_path / "store.db")
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "touchpoint"),
            "kiosk",
            "-c",
            str(cfg),
            "--serve",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    yield port, tmp_path
    proc.terminate()
    proc.wait(15)
    log.close()


@pytest.fixture
def browser():
    d = chromium()
    yield d
    d.quit()


def wait_screen(d, text: str, timeout: float = 30.0) -> list[str]:
    """The screen's lines once `text` is on it."""
    deadline = time.monotonic() + timeout
    lines: list[str] = []
    while time.monotonic() < deadline:
        lines = d.execute_script(READ_SCREEN) or []
        if any(text in line for line in lines):
            return lines
        time.sleep(0.2)
    raise AssertionError(f"{text!r} not on screen:\n" + "\n".join(lines))


def tap(d, text: str) -> None:
    """Click the middle of where `text` is shown, as a finger on the touch screen would."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    lines = wait_screen(d, text)
    row = next(i for i, line in enumerate(lines) if text in line)
    col = lines[row].index(text) + len(text) // 2
    term = d.find_element(By.ID, "terminal")
    cols, rows = d.execute_script("return [window.kioskTerminal.cols, window.kioskTerminal.rows]")
    screen = d.find_element(By.CSS_SELECTOR, ".xterm-screen")
    cell_w, cell_h = screen.size["width"] / cols, screen.size["height"] / rows
    x = screen.location["x"] - term.location["x"] + (col + 0.5) * cell_w
    y = screen.location["y"] - term.location["y"] + (row + 0.5) * cell_h
    ActionChains(d).move_to_element_with_offset(
        term, int(x - term.size["width"] / 2), int(y - term.size["height"] / 2)
    ).click().perform()


def test_served_kiosk_in_headless_chromium(served, browser, tmp_path):
    from selenium.webdriver.common.by import By

    port, home = served
    browser.get(f"http://127.0.0.1:{port}/?fontsize=16")
    wait_screen(browser, "Scan je pas of zoek")
    # Nothing from the internet: the font comes from the server itself.
    assert "googleapis" not in browser.page_source
    tap(browser, "Zoek producten")
    wait_screen(browser, "Typ een product, merk of barcode")
    browser.find_element(By.CSS_SELECTOR, ".xterm-helper-textarea").send_keys("makita")
    lines = wait_screen(browser, "Makita accu boormachine")
    browser.save_screenshot(str(tmp_path / "served-search.png"))
    assert (tmp_path / "served-search.png").stat().st_size > 10_000
    screen = "\n".join(lines)
    assert "€ 64,99" in screen and "Hier op voorraad" in screen
    tap(browser, "Makita accu boormachine")
    wait_screen(browser, "Nog 2 op voorraad in deze winkel")
    # What the shopper did reached the store database as events.
    deadline = time.monotonic() + 10
    found: dict[str, list] = {}
    while time.monotonic() < deadline and "kiosk.product_view" not in found:
        conn = connect(home / "store.db")
        found = {}
        for t, data in conn.execute("SELECT type, data FROM events ORDER BY seq"):
            found.setdefault(t, []).append(decode_data(t, data))
        conn.close()
        time.sleep(0.2)
    assert [s.query for s in found.get("kiosk.search", [])] == ["makita"]
    assert [v.sku for v in found["kiosk.product_view"]] == ["DRILL-2"]


def test_page_template_reconnects_and_uses_local_fonts():
    page = (ROOT / "kiosk/serve/app_index.html").read_text()
    assert "fonts.googleapis" not in page and "fonts/RobotoMono" in page
    assert "reconnect()" in page and "Session ended" not in page
    assert LOOPBACK == "127.0.0.1"  # only the kiosk window on this Pi connects


def test_kiosk_command_runs_this_config(tmp_path: Path):
    cmd = kiosk_command(tmp_path / "store.toml")
    assert "-m touchpoint kiosk -c" in cmd and str(tmp_path / "store.toml") in cmd
