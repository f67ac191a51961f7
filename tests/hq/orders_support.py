"""Click & collect end-to-end helpers: head office on a private broker, orders as files."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from hq.config import HqDatabaseSection
from hq.imports.runner import FIELDS
from tests.support import touchpoint
from tests.sync.hq_config import write_hq_configs

# Quick passes so a test waits tenths of a second, not seconds.
FAST = """
[orders]
interval_s = 0.05
[feeds]
interval_s = 0.2
today_every_s = 0
settle_max_s = 0
"""


def hq_config(tmp_path: Path, port: int, stores: tuple[str, ...] = ("s1",)) -> Path:
    """An HQ config on a SQLite file and the broker, with `stores` in the registry (UTC)."""
    hq_dir = tmp_path / "hq"
    hq_dir.mkdir(exist_ok=True)
    (config,) = write_hq_configs(hq_dir, HqDatabaseSection(path=str(hq_dir / "hq.db")), port)
    config.write_text(config.read_text() + FAST)
    registry = hq_dir / "stores.csv"
    registry.write_text(
        "store,name,timezone,hours\n"
        + "".join(f"{s},{s},UTC,mon-sun 00:00-24:00\n" for s in stores)
    )
    done = touchpoint("hq", "import", "stores", str(registry), "-c", str(config))
    assert done.returncode == 0, done.stderr
    return config


def import_orders(config: Path, *rows: dict) -> str:
    """`hq import orders` of a JSONL file with `rows`; its stdout (exit 0 required)."""
    path = config.parent / "orders.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    done = touchpoint("hq", "import", "orders", str(path), "-c", str(config))
    assert done.returncode == 0, done.stderr
    return done.stdout


def web_order(order_id: str, lines: str = "SKU-1:1|SKU-2:1|SKU-3:1", **kw) -> dict:
    """An order as the web shop exports it."""
    assert set(kw) <= set(FIELDS["orders"])
    return {
        "order_id": order_id,
        "store": "s1",
        "lines": lines,
        "promised_at": "2030-01-01T12:00:00+01:00",
        "first_name": "Anna",
        "code": f"TPO-{order_id}",
    } | kw


def hq_rows(config: Path, sql: str) -> list[tuple]:
    """Rows of a query on head office's SQLite file (read directly, not through the code)."""
    conn = sqlite3.connect(config.parent / "hq.db", timeout=10)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def store_rows(db: Path, sql: str) -> list[tuple]:
    """Rows of a query on a store database."""
    conn = sqlite3.connect(db, timeout=10)
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:  # not created yet
        return []
    finally:
        conn.close()


def order_status(config: Path, order_id: str, lang: str = "en") -> str:
    """`hq order-status ID --lang LANG` as a shopper's text."""
    done = touchpoint("hq", "order-status", order_id, "--lang", lang, "-c", str(config))
    return done.stdout.strip() if done.returncode == 0 else f"exit {done.returncode}"
