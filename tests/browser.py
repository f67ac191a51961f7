"""Debian's headless Chromium through its chromedriver (Selenium), for the browser tests.

No browser is downloaded: `make test` installs `chromium` and `chromium-driver`, and a
missing one fails the test (never a skip).
"""

from __future__ import annotations

import shutil
import socket


def free_port() -> int:
    """A TCP port nothing listens on right now, on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chromium(width: int = 1280, height: int = 900, console: bool = False):
    """A new headless Chromium session; `console` keeps the page's console for `get_log`."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert binary and driver, "chromium and chromium-driver are missing (make test installs them)"
    opts = webdriver.ChromeOptions()
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        f"--window-size={width},{height}",
    ):
        opts.add_argument(arg)
    if console:
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    opts.binary_location = binary
    return webdriver.Chrome(service=Service(driver), options=opts)
