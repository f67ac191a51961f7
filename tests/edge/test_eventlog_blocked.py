"""When commits fail: a bounded wait in memory, drops counted with a reason, door counts kept.

Commits are made to fail for real: another connection holds SQLite's write lock and
the event log's busy timeout is short. (The disk-full run with a real full file system
is tests/edge/test_disk_full.py.)
"""

from __future__ import annotations

import json
import sqlite3

from devices.readings import Scan, Totals
from edge.classify import ScanClassifier
from edge.eventlog import DEVICE, EventLog
from edge.events import DoorCount
from edge.identity import Pseudonymiser
from edge.router import DeviceRoute, ReadingRouter
from edge.visits import VisitWindows
from tests.edge.agent_support import door_totals, wait_for

BOUND = 100


def hold_write_lock(path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    return conn


def new_log(path) -> EventLog:
    return EventLog(path, busy_timeout_ms=100, max_pending=BOUND, commit_interval=0.001).start()


def block(log: EventLog) -> sqlite3.Connection:
    holder = hold_write_lock(log.path)
    log.append(DoorCount(door="d", direction="in", count=1, sensor="s"), "probe")
    wait_for(lambda: log.blocked, 10, "commits failing")
    return holder


def test_past_the_bound_events_are_refused_counted_and_reported_after(store_db_path):
    log = new_log(store_db_path)
    holder = block(log)
    accepted = sum(
        log.append(DoorCount(door="d", direction="in", count=1, sensor=str(i)), "t")
        for i in range(BOUND * 3)
    )
    # The probe plus what was accepted fill the bound; everything else is counted.
    assert accepted == BOUND - 1
    assert log.dropped == {"commit_failing": BOUND * 3 - accepted}
    holder.execute("ROLLBACK")
    holder.close()
    wait_for(lambda: not log.blocked, 10, "commits working again")
    assert log.flush(10)
    log.stop()
    conn = sqlite3.connect(store_db_path)
    stored = conn.execute("SELECT count(*) FROM events WHERE device = 't'").fetchone()[0]
    (report,) = [
        json.loads(r[0]) for r in conn.execute("SELECT data FROM events WHERE device = ?", [DEVICE])
    ]
    assert stored == accepted
    assert report["rejected"] == {"commit_failing": BOUND * 3 - accepted}
    assert report["state"] == "degraded" and "not recorded" in report["detail"]


def test_door_totals_wait_in_the_sensor_while_blocked_and_none_are_lost(store_db_path):
    log = new_log(store_db_path)
    router = ReadingRouter(
        log, ScanClassifier(Pseudonymiser({"k": b"k"}, "k"), None), VisitWindows()
    )
    router.add(DeviceRoute(name="door", door="main"))
    router.handle("door", Totals(sensor="1", total_in=0, total_out=0))  # the sensor's baseline
    assert log.flush(10)
    holder = block(log)
    # A scan flood fills the memory bound while blocked...
    for i in range(BOUND * 2):
        router.handle("door", Scan(symbology="qr", data=f"hello-{i}"))
    # ...and people keep crossing: the counter's totals climb to 40 in, 7 out.
    for n in range(1, 41):
        router.handle("door", Totals(sensor="1", total_in=n, total_out=min(n, 7)))
    assert router.routes["door"].deferred is not None
    holder.execute("ROLLBACK")
    holder.close()
    wait_for(lambda: not log.blocked, 10, "commits working again")
    router.retry_deferred()  # the agent calls this every tick
    assert log.flush(10)
    log.stop()
    assert door_totals(store_db_path) == (40 + 1, 7)  # the probe's 1 in, then every crossing
    assert log.dropped["commit_failing"] > 0
