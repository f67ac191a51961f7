"""`touchpoint kiosk staff add|list|remove` as a user runs it: PINs hashed, mistakes exit 2."""

from __future__ import annotations

import sqlite3

from tests.edge.agent_support import write_store_config
from tests.support import touchpoint


def test_staff_add_list_remove(tmp_path):
    cfg = str(write_store_config(tmp_path, ""))
    added = touchpoint(
        "kiosk", "staff", "add", "Noor", "-c", cfg, "--pin-file", "-", input="4821\n"
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "Noor: PIN set"
    bad = touchpoint("kiosk", "staff", "add", "Sem", "-c", cfg, "--pin-file", "-", input="12\n")
    assert bad.returncode == 2 and "a PIN is 4 to 8 digits" in bad.stderr
    taken = touchpoint("kiosk", "staff", "add", "Sem", "-c", cfg, "--pin-file", "-", input="4821\n")
    assert taken.returncode == 2 and "another staff member has this PIN" in taken.stderr
    assert touchpoint("kiosk", "staff", "list", "-c", cfg).stdout.split() == ["Noor"]
    stored = sqlite3.connect(tmp_path / "store.db").execute("SELECT pin_hash FROM staff").fetchone()
    assert stored[0].startswith("scrypt$") and "4821" not in stored[0]
    assert touchpoint("kiosk", "staff", "remove", "Noor", "-c", cfg).returncode == 0
    gone = touchpoint("kiosk", "staff", "remove", "Noor", "-c", cfg)
    assert gone.returncode == 1 and "no staff member 'Noor'" in gone.stderr


def test_kiosk_without_config_is_a_usage_error():
    result = touchpoint("kiosk")
    assert result.returncode == 2 and "Missing option '-c'" in result.stderr


def test_served_staff_terminal_runs_with_staff(tmp_path):
    from kiosk.serve import kiosk_command

    assert kiosk_command(tmp_path / "store.toml", staff_only=True).endswith(" --staff")
    assert "--staff" not in kiosk_command(tmp_path / "store.toml")
