"""Head office's database goes away and comes back: the ingester rides it out.

A real PostgreSQL cluster of the test's own is killed (immediate shutdown, like a
crash) under a running ingester, and is down when another ingester starts. Stores
keep sending meanwhile. The ingesters must stay up, hold the batches unacknowledged,
report the outage, and store everything once the server is back: nothing lost,
nothing stored twice. (Before, the first database error killed the worker, and
systemd gave up on the crash-looping unit after ten restarts.)
"""

from __future__ import annotations

import json
import signal
import socket
import time

import pytest

from edge.eventlog import EventLog
from edge.events import DoorCount
from hq.config import HqDatabaseSection
from hq.ingest import Ingester, IngestSettings
from hq.pg_store import PgHqStore
from sync import wire
from tests.edge.agent_support import wait_for
from tests.pg_cluster import PgCluster
from tests.support import touchpoint_process
from tests.sync.hq_config import write_hq_configs
from tests.sync.payloads import raw_batch
from tests.sync.test_sync_e2e import make_uplink, publish_raw, store_acked


def append(db, n: int) -> None:
    with EventLog(db, boot_id="boot-1") as log:
        for _ in range(n):
            log.append(DoorCount(door="main", direction="in", count=1, sensor="s"), "door")
        assert log.flush(30)


@pytest.fixture
def pg():
    with PgCluster() as cluster:
        yield cluster


def ingester(broker, dsn: str, client_id: str) -> Ingester:
    settings = IngestSettings(client_id=client_id, host=broker.host, port=broker.port)
    return Ingester(settings, lambda: PgHqStore(dsn, connect_timeout_s=2))


def test_ingesters_ride_out_a_database_outage(mosquitto, pg, tmp_path):
    dsn = pg.dsn()
    first = ingester(mosquitto, dsn, "hq-1")
    first.start()
    assert first.subscribed.wait(10)
    db = tmp_path / "store.db"
    append(db, 300)
    uplink = make_uplink(mosquitto, db)
    uplink.start()
    second = None
    try:
        wait_for(lambda: store_acked(db) == 300, what="the first 300 events acked")

        # The server crashes while the store keeps recording and sending.
        pg.kill_server()
        append(db, 300)
        wait_for(lambda: not first.stats.database_ok, what="the outage noticed")
        # A second ingester starting now cannot even open the database.
        second = ingester(mosquitto, dsn, "hq-2")
        second.start()
        time.sleep(3)  # several retries
        assert first.alive and second.alive
        assert store_acked(db) == 300  # nothing acknowledged that is not stored
        assert "database unavailable" in first.stats.last_error

        pg.start_server()
        append(db, 300)
        wait_for(lambda: store_acked(db) == 900, timeout=60, what="everything acked")
        assert first.stats.database_ok and second.stats.database_ok
        assert first.stats.database_outages == 1
    finally:
        uplink.stop()
        first.stop()
        if second is not None:
            second.stop()

    reader = PgHqStore(dsn)
    try:
        mark = reader.marks()["s1"]
        stored = reader.events("s1")
        assert mark.acked_through == mark.max_seq == 900
        assert [seq for seq, *_ in stored] == list(range(1, 901))  # each once, none missing
        assert sum(n_in for *_, n_in, _ in reader.door_counts("s1")) == 900
    finally:
        reader.close()


def test_systemd_status_shows_the_outage_and_the_recovery(mosquitto, pg, tmp_path):
    """`touchpoint hq run` under systemd: STATUS= says what `systemctl status` should."""
    (tmp_path / "pg.dsn").write_text(pg.dsn() + "\n")
    db = HqDatabaseSection(backend="postgresql", dsn_file=str(tmp_path / "pg.dsn"))
    [config] = write_hq_configs(tmp_path, db, mosquitto.port, name="hq-notify")
    sock_path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(sock_path)
    sock.settimeout(30)
    proc = touchpoint_process(
        "hq", "run", "-c", str(config), env={"NOTIFY_SOCKET": sock_path, "WATCHDOG_USEC": "1000000"}
    )

    def status_until(wanted: str) -> str:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            message = sock.recv(4096).decode()
            for line in message.splitlines():
                if line.startswith("STATUS=") and wanted in line:
                    return line
        raise AssertionError(f"no STATUS with {wanted!r}")

    try:
        assert sock.recv(4096).decode().startswith("READY=1")
        status_until("ingesting; events stored 0")
        publish_raw(
            mosquitto, wire.topic("s1", "up", "events"), json.dumps(raw_batch("s1", 1)).encode()
        )
        status_until("events stored 1,")
        pg.kill_server()
        # The next batch meets the dead database: the status says so, the process lives on.
        publish_raw(
            mosquitto, wire.topic("s1", "up", "events"), json.dumps(raw_batch("s1", 2)).encode()
        )
        line = status_until("database unavailable")
        assert "events stored 1," in line
        assert proc.poll() is None
        pg.start_server()
        status_until("ingesting; events stored 2,")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        sock.close()
