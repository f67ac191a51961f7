"""The [kiosk] section: its scanner must be a kiosk serial scanner, and the agent leaves it alone."""

from __future__ import annotations

import pytest

from edge.agent import Agent
from edge.config import load_store_config
from edge.configtree import ConfigError, SecretResolver
from tests.edge.agent_support import write_store_config

SCANNERS = """
[[devices]]
type = "serial_scanner"
name = "scan-door"
port = "/dev/serial/by-id/usb-door-if00"
role = "door"

[[devices]]
type = "serial_scanner"
name = "scan-kiosk"
port = "/dev/serial/by-id/usb-kiosk-if00"
role = "kiosk"
"""


def load(tmp_path, kiosk: str):
    path = write_store_config(tmp_path, SCANNERS, extra=f"[kiosk]\n{kiosk}")
    return load_store_config(path, SecretResolver(tmp_path)), path


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('scanner = "nope"', "expected the name of a serial_scanner device, got 'nope'"),
        ('scanner = "scan-door"', "device 'scan-door' must have role = \"kiosk\""),
        ("idle_s = 5", "expected"),
        ('language = "de"', "invalid enum value 'de'"),
    ],
)
def test_bad_kiosk_settings_are_named(tmp_path, value, message):
    with pytest.raises(ConfigError) as err:
        load(tmp_path, value)
    text = str(err.value)
    assert "kiosk." in text and message in text


def test_the_agent_leaves_the_kiosk_scanner_to_the_kiosk(tmp_path):
    cfg, _path = load(tmp_path, 'scanner = "scan-kiosk"')
    agent = Agent(cfg, SecretResolver(tmp_path), boot_id="b")
    assert set(agent.supervisor.items) == {"scan-door"}
    assert cfg.kiosk.scanner == "scan-kiosk" and cfg.kiosk.idle_s == 60


def test_agent_housekeeping_deletes_contact_details_once_acknowledged(tmp_path):
    from edge.db import connect
    from edge.eventlog import EventLog
    from edge.events import OrderContact

    cfg, _path = load(tmp_path, "")
    log = EventLog(cfg.database.path)
    log.append(OrderContact(order="o-1", name="Anna", email="anna@example.nl"), "kiosk")
    log.flush()
    agent = Agent(cfg, SecretResolver(tmp_path), boot_id="b")
    agent.prune()
    conn = connect(cfg.database.path)
    assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 1  # not acknowledged yet
    conn.execute("INSERT INTO state (key, value, updated) VALUES ('hq_acked_seq', '1', '')")
    agent.prune()
    assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 0
    conn.close()
