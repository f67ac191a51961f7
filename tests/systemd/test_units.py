"""systemd units pass `systemd-analyze verify` with no warnings, and keep their hardening."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

UNITS = sorted((ROOT / "systemd").glob("*.service"))


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_unit_verifies_cleanly(unit: Path, tmp_path: Path):
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing (make test installs systemd)"
    # verify checks that ExecStart binaries exist: point them at this venv's python.
    text = unit.read_text().replace("/opt/touchpoint/.venv/bin/touchpoint", sys.executable)
    copy = tmp_path / unit.name
    copy.write_text(text)
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
