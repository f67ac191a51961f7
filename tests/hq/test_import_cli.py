"""`touchpoint hq import …` as a person or a timer runs it: exit codes, messages, files."""

from __future__ import annotations

import json
import os
import select
import sqlite3
from pathlib import Path

import pytest

from hq.imports.runner import FIELDS
from tests.support import touchpoint, touchpoint_process

LOYALTY = "2000000000012"
APP_ID = "app-secret-4711"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """An HQ config on a SQLite file with two chain keys."""
    (tmp_path / "k1").write_text("chain key one\n")
    (tmp_path / "k2").write_text("chain key two\n")
    path = tmp_path / "hq.toml"
    path.write_text(
        f'[database]\npath = "{tmp_path / "hq.db"}"\n'
        '[identity]\nactive_key = "k2"\n'
        '[[identity.keys]]\nid = "k1"\nfile = "k1"\n'
        '[[identity.keys]]\nid = "k2"\nfile = "k2"\n'
    )
    return path


def csv_file(path: Path, kind: str, *lines: str) -> Path:
    path.write_text(",".join(FIELDS[kind]) + "\n" + "".join(line + "\n" for line in lines))
    return path


def test_every_kind_exit_codes_and_summary(config: Path, tmp_path: Path):
    stores = csv_file(
        tmp_path / "stores.csv",
        "stores",
        "ams-01,Amsterdam,Europe/Amsterdam,mon-sun 09:00-18:00,,main,52.37,4.89,6",
    )
    done = touchpoint("hq", "import", "stores", str(stores), "-c", str(config))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "stores: imported 1, rejected 0, unchanged 0"
    again = touchpoint("hq", "import", "stores", str(stores), "-c", str(config))
    assert (again.returncode, again.stdout.strip()) == (
        0,
        "stores: imported 0, rejected 0, unchanged 1",
    )

    profiles = tmp_path / "profiles.jsonl"
    profiles.write_text(
        f'{{"customer_id": "c1", "loyalty_number": "{LOYALTY}", "app_id": "{APP_ID}"}}\n'
        f'{{"customer_id": "c2", "loyalty_number": "{LOYALTY}-x!", "app_id": "{APP_ID}"}}\n'
    )
    done = touchpoint("hq", "import", "profiles", str(profiles), "-c", str(config))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        f"{profiles}:2: loyalty_number: not a loyalty number (4-64 letters or digits; spaces, dashes allowed)"
    )
    assert done.stdout.strip() == (
        f"profiles: imported 1, rejected 1, unchanged 0 (rejected rows in {tmp_path / 'profiles.rejected.jsonl'})"
    )
    for out in (done.stdout, done.stderr):
        assert LOYALTY not in out and APP_ID not in out

    txns = csv_file(
        tmp_path / "txns.csv",
        "transactions",
        f"r1,ams-01,2026-11-20T10:00:00+01:00,sale,12.50,EUR,2,{LOYALTY}",
        "r2,nowhere,2026-11-20T10:00:00+01:00,sale,12.50,EUR,2,",
        "r3,ams-01,2026-11-20 10:00,sale,12.50,EUR,2,",
    )
    done = touchpoint("hq", "import", "transactions", str(txns), "-c", str(config))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"{txns}:3: store: 'nowhere' is not in the store registry (hq import stores)",
        f"{txns}:4: ts: '2026-11-20 10:00' has no UTC offset (add Z or +01:00)",
    ]
    assert done.stdout.startswith("transactions: imported 1, rejected 2, unchanged 0")
    assert (tmp_path / "txns.rejected.csv").read_text().splitlines()[
        1:
    ] == txns.read_text().splitlines()[2:]
    with sqlite3.connect(tmp_path / "hq.db") as db:
        assert db.execute("SELECT count(*) FROM hq_transaction_keys").fetchone() == (2,)
        assert db.execute("SELECT count(*) FROM hq_profile_keys").fetchone() == (4,)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("stores.txt", "x\n", "expected a .csv or .jsonl file"),
        ("missing.csv", None, "No such file or directory"),
        ("stores.csv", "store,name,colour\n", "line 1: unknown column 'colour'"),
    ],
)
def test_bad_file_exits_2(
    config: Path, tmp_path: Path, name: str, content: str | None, message: str
):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    done = touchpoint("hq", "import", "stores", str(path), "-c", str(config))
    assert done.returncode == 2
    assert message in done.stderr


def test_bad_config_exits_2(tmp_path: Path):
    (tmp_path / "hq.toml").write_text('[hq]\ncurrency = "euro"\n')
    stores = csv_file(tmp_path / "stores.csv", "stores")
    done = touchpoint("hq", "import", "stores", str(stores), "-c", str(tmp_path / "hq.toml"))
    assert done.returncode == 2
    assert "hq.currency" in done.stderr


def test_orders_import_then_order_status(config: Path, tmp_path: Path):
    stores = csv_file(
        tmp_path / "stores.csv",
        "stores",
        "ams-01,Amsterdam,Europe/Amsterdam,mon-sun 09:00-18:00,,main,52.37,4.89,6",
    )
    assert touchpoint("hq", "import", "stores", str(stores), "-c", str(config)).returncode == 0
    orders = csv_file(
        tmp_path / "orders.csv",
        "orders",
        f"W-1,ams-01,DRILL-1:1|JACKET-1:2,2026-12-04T15:00:00+01:00,Anna,{LOYALTY},TPO-1,",
        f"W-2,ams-01,DRILL-1:0,2026-12-04T15:00:00+01:00,Bram,{LOYALTY}x,TPO-2,",
    )
    done = touchpoint("hq", "import", "orders", str(orders), "-c", str(config))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"{orders}:3: lines: quantity of 'DRILL-1': 0 is outside 1..1000",
    ]
    assert done.stdout.startswith("orders: imported 1, rejected 1, unchanged 0")
    assert LOYALTY not in done.stdout + done.stderr
    status = touchpoint("hq", "order-status", "W-1", "--lang", "en", "-c", str(config))
    assert (status.returncode, status.stdout) == (0, "We're getting your order ready\n")
    dutch = touchpoint("hq", "order-status", "W-1", "--json", "-c", str(config))
    assert json.loads(dutch.stdout)["text"] == "We maken je bestelling klaar"
    assert "Anna" not in dutch.stdout and "TPO-1" not in dutch.stdout
    unknown = touchpoint("hq", "order-status", "W-9", "-c", str(config))
    assert unknown.returncode == 2 and "no order 'W-9'" in unknown.stderr


def _drain(fd: int) -> bytes:
    out = b""
    while select.select([fd], [], [], 0.5)[0]:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    return out


def test_progress_bar_only_on_a_terminal(config: Path, tmp_path: Path, pty_pair):
    stores = csv_file(
        tmp_path / "stores.csv",
        "stores",
        *(f"s-{i},Store {i},Europe/Amsterdam,mon-sun 09:00-18:00,,main,,,1" for i in range(50)),
    )
    on_tty = touchpoint_process(
        "hq", "import", "stores", str(stores), "-c", str(config), stderr=pty_pair.slave_fd
    )
    assert on_tty.wait(timeout=60) == 0
    assert b"importing stores" in _drain(pty_pair.master_fd)
    piped = touchpoint("hq", "import", "stores", str(stores), "-c", str(config))
    assert piped.returncode == 0 and piped.stderr == ""
