"""systemd units pass `systemd-analyze verify` with no warnings, and keep their hardening."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

UNITS = sorted([*(ROOT / "systemd").glob("*.service"), *(ROOT / "systemd").glob("*.timer")])


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_unit_verifies_cleanly(unit: Path, tmp_path: Path):
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing (make test installs systemd)"
    # verify checks that ExecStart binaries exist: point them at this venv's python; and
    # it resolves Requires= among the units beside the one verified: copy them all.
    for other in UNITS:
        text = other.read_text().replace("/opt/touchpoint/.venv/bin/touchpoint", sys.executable)
        # The kiosk browser's compositor and browser exist on the Pi, not necessarily here.
        for binary in ("/usr/bin/cage", "/usr/bin/chromium"):
            if not Path(binary).exists():
                text = text.replace(binary, shutil.which("true") or "/bin/true")
        (tmp_path / other.name).write_text(text)
    copy = tmp_path / unit.name
    result = subprocess.run(
        [analyze, "verify", str(copy)], capture_output=True, text=True, timeout=60
    )
    mine = [line for line in (result.stdout + result.stderr).splitlines() if unit.name in line]
    assert result.returncode == 0 and not mine, result.stdout + result.stderr


def test_edge_unit_hardening():
    text = (ROOT / "systemd/touchpoint-edge.service").read_text()
    for line in (
        "Type=notify",
        "Restart=on-failure",
        "User=touchpoint",
        "SupplementaryGroups=dialout video gpio",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/touchpoint",
        "ExecStartPre=/opt/touchpoint/.venv/bin/touchpoint config check /etc/touchpoint/store.toml",
    ):
        assert line in text.splitlines(), line
    assert any(line.startswith("WatchdogSec=") for line in text.splitlines())
    assert any(line.startswith("LoadCredential=chain-key-") for line in text.splitlines())


def test_install_script_is_valid_bash():
    subprocess.run(["bash", "-n", str(ROOT / "systemd/install-pi.sh")], check=True)


def test_hq_unit_hardening():
    lines = (ROOT / "systemd/touchpoint-hq.service").read_text().splitlines()
    for line in (
        "Type=notify",
        "Restart=on-failure",
        "User=touchpoint-hq",
        "ProtectSystem=strict",
        "ExecStartPre=/opt/touchpoint/.venv/bin/touchpoint config check /etc/touchpoint/hq.toml",
        "ExecStart=/opt/touchpoint/.venv/bin/touchpoint hq run -c /etc/touchpoint/hq.toml",
    ):
        assert line in lines, line
    assert any(line.startswith("WatchdogSec=") for line in lines)


def test_import_unit_and_timer():
    lines = (ROOT / "systemd/touchpoint-hq-import.service").read_text().splitlines()
    for line in (
        "Type=oneshot",
        "User=touchpoint-hq",
        "ProtectSystem=strict",
        "NoNewPrivileges=true",
        "ExecStartPre=/opt/touchpoint/.venv/bin/touchpoint config check /etc/touchpoint/hq.toml",
    ):
        assert line in lines, line
    assert any("touchpoint hq import" in line for line in lines if line.startswith("ExecStart="))
    timer = (ROOT / "systemd/touchpoint-hq-import.timer").read_text().splitlines()
    assert "Persistent=true" in timer and any(t.startswith("OnCalendar=") for t in timer)


def test_import_unit_runs_each_file_and_fails_on_rejects(tmp_path: Path):
    # The ExecStart shell line, run as systemd would (with $$ unescaped), against a stand-in
    # `touchpoint` that records its arguments and rejects rows of profiles.
    line = next(
        x
        for x in (ROOT / "systemd/touchpoint-hq-import.service").read_text().splitlines()
        if x.startswith("ExecStart=")
    )
    script = line.removeprefix("ExecStart=/bin/sh -c ").strip("'").replace("$$", "$")
    fake = tmp_path / "touchpoint"
    fake.write_text(
        f'#!/bin/sh\necho "$@" >> {tmp_path}/calls\n[ "$3" = profiles ] && exit 1\nexit 0\n'
    )
    fake.chmod(0o755)
    script = script.replace("/opt/touchpoint/.venv/bin/touchpoint", str(fake))
    imports = tmp_path / "import"
    imports.mkdir()
    for name in ("stores.csv", "profiles.jsonl", "transactions.csv"):
        (imports / name).write_text("x\n")
    done = subprocess.run(
        ["/bin/sh", "-c", script], env={"IMPORT_DIR": str(imports)}, capture_output=True, timeout=30
    )
    assert done.returncode == 1
    calls = (tmp_path / "calls").read_text().splitlines()
    assert [c.split()[1:3] for c in calls] == [
        ["import", "stores"],
        ["import", "profiles"],
        ["import", "transactions"],
    ]


@pytest.mark.parametrize(
    "name", ["touchpoint-kiosk.service", "touchpoint-kiosk-web.service"], ids=str
)
def test_kiosk_units(name):
    lines = (ROOT / "systemd" / name).read_text().splitlines()
    for line in ("Restart=always", "User=touchpoint", "ProtectSystem=strict"):
        assert line in lines, line
    assert any(line.startswith("LoadCredential=chain-key-") for line in lines)
    start = next(line for line in lines if line.startswith("ExecStart="))
    assert "touchpoint kiosk -c /etc/touchpoint/store.toml" in start
    if name == "touchpoint-kiosk.service":
        assert "TTYPath=/dev/tty1" in lines and "StandardInput=tty" in lines


def test_kiosk_browser_unit_shows_the_served_kiosk_on_loopback():
    lines = (ROOT / "systemd/touchpoint-kiosk-browser.service").read_text().splitlines()
    assert "User=kiosk" in lines and "Requires=touchpoint-kiosk-web.service" in lines
    start = next(line for line in lines if line.startswith("ExecStart="))
    assert "chromium --kiosk" in start and "http://127.0.0.1:8081/" in start
    web = (ROOT / "systemd/touchpoint-kiosk-web.service").read_text()
    assert "--serve 8081" in web


def test_hq_web_unit_hardening():
    lines = (ROOT / "systemd/touchpoint-hq-web.service").read_text().splitlines()
    for line in (
        "Type=notify",
        "Restart=on-failure",
        "User=touchpoint-hq",
        "ProtectSystem=strict",
        "ReadOnlyPaths=/var/lib/touchpoint",
        # Its only writable place: the web state shared by its worker processes.
        "StateDirectory=touchpoint touchpoint/hq-web",
        "NotifyAccess=all",
        "NoNewPrivileges=true",
        "CapabilityBoundingSet=",
        "ExecStartPre=/opt/touchpoint/.venv/bin/touchpoint config check /etc/touchpoint/hq.toml",
        "ExecStart=/opt/touchpoint/.venv/bin/touchpoint hq serve -c /etc/touchpoint/hq.toml",
    ):
        assert line in lines, line
    assert any(line.startswith("WatchdogSec=") for line in lines)
    assert not any(line.startswith("ReadWritePaths=") for line in lines)
