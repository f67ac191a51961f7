"""A real disk-full run: the agent on an 8 MiB tmpfs that is filled up, then freed.

Needs root to mount the tmpfs (CI runs as root); it fails, not skips, without it, so
a run that silently left this out cannot pass for one that tried.

What it shows, with the real `touchpoint edge run`, an emulated Terabee counter and
scanner on ptys:
- the agent does not crash and the database passes `PRAGMA integrity_check`;
- door counts made while the disk was full are all recorded after it is freed,
  taken from the sensor's cumulative totals (none held in memory, none lost);
- other events (scans) wait in memory up to `database.max_pending_events`; those
  past it are dropped and counted with the reason `disk_full`, in a `device.status`
  head office receives;
- recording resumes by itself once space is freed.
"""

from __future__ import annotations

import contextlib
import errno
import json
import random
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.emulators.scanner import ScannerEmulator, random_gtin13
from devices.emulators.terabee import TerabeeEmulator
from tests.edge.agent_support import (
    door_totals,
    terabee_and_scanner,
    wait_for,
    write_store_config,
)
from tests.support import touchpoint_process

MAX_PENDING = 200  # the memory bound under test (database.max_pending_events)


@contextlib.contextmanager
def tmpfs(path: Path, size: str = "8m") -> Iterator[Path]:
    """A small tmpfs mounted at `path`, unmounted afterwards whatever happens."""
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.fail(f"the disk-full test must mount a tmpfs (run as root): {mounted.stderr}")
    try:
        yield path
    finally:
        if subprocess.run(["umount", str(path)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(path)], check=True)  # still busy: detach


def fill(disk: Path) -> int:
    """Write a file until the file system is full; its size in bytes."""
    written = 0
    chunk = b"\0" * 65536
    with open(disk / "filler", "wb", buffering=0) as f:
        while True:
            try:
                written += f.write(chunk)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
                chunk = chunk[: len(chunk) // 2]
                if not chunk:
                    return written


def count(db: Path, sql: str) -> int:
    conn = sqlite3.connect(db, timeout=10)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


def test_disk_full_loses_no_door_count_corrupts_nothing_and_recovers(tmp_path, mosquitto):
    log_path = tmp_path / "agent.log"
    rng = random.Random(5)
    with tmpfs(tmp_path / "disk") as disk:
        db = disk / "store.db"
        # With the uplink running too: it saves its progress in the same database.
        mqtt = f'host = "127.0.0.1"\nport = {mosquitto.port}\ntls = false'
        config = write_store_config(tmp_path, terabee_and_scanner(tmp_path), mqtt=mqtt)
        text = config.read_text().replace(
            f'path = "{tmp_path / "store.db"}"',
            f'path = "{db}"\nmin_free_mb = 1\nmax_pending_events = {MAX_PENDING}',
        )
        config.write_text(text)
        counter = TerabeeEmulator(tmp_path / "by-id-terabee", sensor="1")
        scanner = ScannerEmulator(tmp_path / "by-id-scanner", duplicate_window=0)
        counter.plug()
        scanner.plug()
        sent = 0

        def scan() -> None:
            nonlocal sent
            code = random_gtin13(rng)
            while code.startswith("2"):  # in-store numbers: loyalty cards, not products
                code = random_gtin13(rng)
            assert scanner.scan(code, "]E0")
            sent += 1

        with open(log_path, "wb") as log:
            agent = touchpoint_process(
                "edge", "run", "-c", str(config), stdout=log, stderr=subprocess.STDOUT
            )
            try:
                assert counter.wait_connected(20) and scanner.wait_connected(20)
                # 1. Space: everything is recorded.
                counter.report(clean=True)
                counter.cross("in", 30)
                counter.cross("out", 10)
                for _ in range(20):
                    scan()
                scanner.drain()
                wait_for(lambda: door_totals(db) == (30, 10), what="door counts before")

                # 2. Fill the disk, then keep scanning until a commit fails for want of space
                #    (SQLite first reuses the room left in its WAL).
                filler = fill(disk)
                started = time.monotonic()
                while "database or disk is full" not in log_path.read_text():
                    assert time.monotonic() - started < 60, (
                        f"commits never failed after {sent} scans;"
                        f" {sorted((p.name, p.stat().st_size) for p in disk.iterdir())}\n"
                        + log_path.read_text()[-2000:]
                    )
                    assert agent.poll() is None, "the agent died"
                    scan()
                    time.sleep(0.002)
                blocked_at = time.monotonic()
                stored_before_full = count(db, "SELECT count(*) FROM events WHERE type = 'scan'")

                # 3. Full: people keep coming, scans keep coming (more than the memory bound).
                counter.cross("in", 50)
                counter.cross("out", 20)
                for _ in range(MAX_PENDING * 3):
                    scan()
                counter.drain()
                scanner.drain()
                # Stay full a while: the writer retries (backoff up to 2 s) and must not die.
                time.sleep(5.0)
                assert agent.poll() is None, "the agent died while the disk was full"
                assert door_totals(db) == (30, 10)  # nothing could be written meanwhile

                # 4. Free the space: recording resumes by itself, counts come back.
                full_s = time.monotonic() - blocked_at
                (disk / "filler").unlink()
                freed_at = time.monotonic()
                wait_for(lambda: "recording again" in log_path.read_text(), 30, "recording resumed")
                resumed_s = time.monotonic() - freed_at
                wait_for(lambda: door_totals(db) == counter.truth, 30, "door counts recovered")

                # 5. And it goes on recording.
                counter.cross("in", 5)
                for _ in range(10):
                    scan()
                scanner.drain()
                wait_for(lambda: door_totals(db) == counter.truth, 30, "door counts after")
            finally:
                agent.send_signal(signal.SIGTERM)
                code = agent.wait(20)
                counter.close()
                scanner.close()
        assert code == 0, log_path.read_text()[-3000:]

        conn = sqlite3.connect(db)
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        scans = conn.execute("SELECT count(*) FROM events WHERE type = 'scan'").fetchone()[0]
        reports = [
            json.loads(r[0])
            for r in conn.execute(
                "SELECT data FROM events WHERE type = 'device.status' AND device = 'eventlog'"
            )
        ]
        seqs = [r[0] for r in conn.execute("SELECT seq FROM events ORDER BY seq")]
        conn.close()
        recorded_doors = door_totals(db)

    dropped = sum(r["rejected"].get("disk_full", 0) for r in reports)
    log_text = log_path.read_text()
    assert "Traceback" not in log_text
    # The uplink could not save its progress while full, and said so, but did not die
    # (the supervisor would log "uplink: … (retry in …)").
    assert "uplink: cannot save" in log_text and "(retry in" not in log_text
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # no hole in seq
    assert recorded_doors == counter.truth == (85, 30)
    assert dropped > 0 and [set(r["rejected"]) for r in reports] == [{"disk_full"}]
    # Every scan is either stored or counted as dropped (a status event or two of
    # the agent's own may be among the dropped, hence the small allowance).
    assert scans <= sent <= scans + dropped <= sent + 2
    held = scans - stored_before_full - 10  # scans of the full period that were kept
    assert 0 < held <= MAX_PENDING
    print(
        f"\ndisk full run (8 MiB tmpfs, filler {filler // 1024} KiB): "
        f"full for {full_s:.1f}s, recording resumed {resumed_s:.1f}s after space was freed,"
        f" agent alive and exited 0, integrity_check ok, no seq gap;\n"
        f"door counts in/out: sensor {counter.truth}, recorded {recorded_doors}"
        f" (50 in + 20 out made while full, recovered from the sensor totals);\n"
        f"scans: sent {sent}, recorded {scans}, dropped {dropped} (reason disk_full), "
        f"held in memory while full {held} (bound {MAX_PENDING})"
    )
