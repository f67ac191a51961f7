"""Building blocks for agent tests: a store config on temp paths, and waiting on the DB."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

CHAIN_KEY = b"test-chain-key-0123456789"
TOKEN_KEY = b"test-app-token-key"


def write_store_config(
    tmp: Path, devices: str, *, extra: str = "", mqtt: str = "enabled = false"
) -> Path:
    """A store.toml with secrets beside it, the database in `tmp`, and `devices` tables."""
    (tmp / "chain-key").write_bytes(CHAIN_KEY)
    (tmp / "token-key").write_bytes(TOKEN_KEY)
    path = tmp / "store.toml"
    path.write_text(
        f"""
[store]
id = "s1"
timezone = "UTC"
opening_time = "00:00"
[database]
path = "{tmp / "store.db"}"
commit_interval_ms = 5
[identity]
active_key = "k1"
token_key_file = "token-key"
[[identity.keys]]
id = "k1"
file = "chain-key"
[mqtt]
{mqtt}
{extra}
{devices}
"""
    )
    return path


def terabee_and_scanner(tmp: Path) -> str:
    """`[[devices]]` tables: a Terabee at `tmp/by-id-terabee`, a scanner at `tmp/by-id-scanner`."""
    return f"""
[[devices]]
type = "terabee"
name = "door-main"
port = "{tmp / "by-id-terabee"}"
[[devices]]
type = "serial_scanner"
name = "scan-door"
port = "{tmp / "by-id-scanner"}"
duplicate_window_ms = 0
"""


def wait_for(predicate: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    """Poll `predicate` until true; fail the test with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def door_totals(db_path: Path) -> tuple[int, int]:
    """Summed door.count events (in, out) in a store database."""
    if not db_path.exists():
        return (0, 0)
    conn = sqlite3.connect(db_path, timeout=5)
    try:
        rows = dict(
            conn.execute(
                "SELECT json_extract(data, '$.direction'), SUM(json_extract(data, '$.count'))"
                " FROM events WHERE type = 'door.count' GROUP BY 1"
            ).fetchall()
        )
    except sqlite3.OperationalError:
        return (0, 0)
    finally:
        conn.close()
    return (rows.get("in", 0) or 0, rows.get("out", 0) or 0)
