"""The first start of a store: several processes open a new database at once.

The agent creates and migrates the database; `edge status` only reads it. Before
migrations took the write lock first, one start in about 40 lost the race
(`table events already exists`) and a status could die on `database is locked`.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import time
import traceback
from pathlib import Path

from edge.db import StoreDbMissing, open_store_db, open_store_db_readonly
from edge.migrations import store_migrations
from tests.edge.agent_support import write_store_config
from tests.support import touchpoint, touchpoint_process

ROUNDS = 60
WRITERS = 4  # agents, kiosks, … opening (creating, migrating) the database
READERS = 2  # `edge status` opening it read-only


def _open(path: str, readonly: bool, barrier, results) -> None:
    try:
        barrier.wait(10)
        if readonly:
            # Like an installer re-running `edge status`: "not yet" is a plain answer,
            # then it reads once the schema is there.
            waited = 0
            while True:
                try:
                    db = open_store_db_readonly(path)
                    break
                except StoreDbMissing:
                    waited += 1
                    time.sleep(0.01)
            db.execute("SELECT count(*) FROM events").fetchone()
            db.close()
            results.put("read after 'not yet'" if waited else "read")
            return
        else:
            db = open_store_db(path)
            db.execute(
                "INSERT INTO state (key, value, updated) VALUES (?, '1', '')", [str(os.getpid())]
            )
        db.close()
        results.put("ok")
    except BaseException:
        results.put(traceback.format_exc())


def test_many_processes_starting_on_a_new_database_at_once_all_succeed(tmp_path):
    ctx = multiprocessing.get_context("fork")  # cheap: 360 real processes in a few seconds
    outcomes: dict[str, int] = {}
    failures: list[str] = []
    for n in range(ROUNDS):
        path = tmp_path / f"store-{n}.db"
        barrier = ctx.Barrier(WRITERS + READERS)
        results = ctx.Queue()
        procs = [
            ctx.Process(target=_open, args=(str(path), i >= WRITERS, barrier, results))
            for i in range(WRITERS + READERS)
        ]
        for p in procs:
            p.start()
        for p in procs:
            p.join(30)
            assert p.exitcode == 0
        for _ in procs:
            result = results.get(timeout=5)
            key = "failed" if "Traceback" in result else result
            outcomes[key] = outcomes.get(key, 0) + 1
            if key == "failed":
                failures.append(result)
        db = open_store_db(path)
        applied = [m.name for m in store_migrations.applied(db)]
        writes = db.execute("SELECT count(*) FROM state").fetchone()[0]
        db.close()
        assert applied == [m.name for m in store_migrations._migrations]  # each once, in order
        assert failures or writes == WRITERS
    print(f"\nfirst starts: {ROUNDS} rounds of {WRITERS} writers + {READERS} readers: {outcomes}")
    assert not failures, f"{len(failures)} process(es) failed; first:\n{failures[0]}"


def test_edge_status_never_creates_a_database_and_says_so_plainly(tmp_path):
    config = write_store_config(tmp_path, "")
    result = touchpoint("edge", "status", "-c", str(config))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "no store database at" in result.stderr and "touchpoint edge run" in result.stderr
    assert not (tmp_path / "store.db").exists()
    as_json = touchpoint("edge", "status", "-c", str(config), "--json")
    assert as_json.returncode == 1 and "no store database" in as_json.stderr
    assert not (tmp_path / "store.db").exists()


def test_edge_status_reads_a_database_it_may_not_write(tmp_path):
    config = write_store_config(tmp_path, "")
    open_store_db(tmp_path / "store.db").close()
    before = {
        p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir() if p.name.startswith("store.db")
    }
    result = touchpoint("edge", "status", "-c", str(config), "--json")
    assert result.returncode == 0, result.stderr
    after = {
        p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir() if p.name.startswith("store.db")
    }
    assert after.get("store.db") == before["store.db"]  # not written


def test_agent_and_status_started_together_on_a_new_database(tmp_path):
    # The real commands, as an installer runs them during a first start.
    config = write_store_config(tmp_path, "")
    sock_path = str(tmp_path / "notify.sock")
    ready = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ready.bind(sock_path)
    ready.settimeout(60)
    for n in range(5):
        db = tmp_path / "store.db"
        for stale in tmp_path.glob("store.db*"):
            stale.unlink()
        agent = touchpoint_process(
            "edge", "run", "-c", str(config), env={"NOTIFY_SOCKET": sock_path}
        )
        statuses = [
            touchpoint_process("edge", "status", "-c", str(config), stdout=-1, stderr=-1)
            for _ in range(2)
        ]
        try:
            for status in statuses:
                _out, err = status.communicate(timeout=60)
                assert b"Traceback" not in err, err.decode()
                assert status.returncode == 0 or b"store s1:" in err, err.decode()
            # READY=1 comes once the agent runs (its signal handlers are installed).
            while not ready.recv(4096).startswith(b"READY=1"):  # skip the last round's STOPPING
                pass
            assert agent.poll() is None, f"round {n}: the agent died"
        finally:
            agent.send_signal(signal.SIGTERM)
            assert agent.wait(20) == 0, f"round {n}: agent exit code {agent.returncode}"
        assert Path(db).exists()


def test_edge_status_on_a_file_that_is_no_database_says_so(tmp_path):
    config = write_store_config(tmp_path, "")
    (tmp_path / "store.db").write_text("not a database " * 100)
    result = touchpoint("edge", "status", "-c", str(config))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"cannot read {tmp_path / 'store.db'}: file is not a database" in result.stderr
