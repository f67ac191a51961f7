"""Shared fixtures: real parts only (a private mosquitto, pty pairs, store databases)."""

from __future__ import annotations

import contextlib
import os
import tty
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sync.mosquitto import MosquittoProcess


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[MosquittoProcess]:
    """A private mosquitto on a free port with its own config and persistence dir."""
    broker = MosquittoProcess(tmp_path / "mosquitto")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@dataclass
class PtyPair:
    """Both ends of a pseudo-terminal: the device side (`master_fd`) and the port path."""

    master_fd: int
    slave_fd: int
    port: str

    def close(self) -> None:
        """Close both ends (ignoring ends already closed)."""
        for fd in (self.master_fd, self.slave_fd):
            with contextlib.suppress(OSError):
                os.close(fd)


@pytest.fixture
def pty_pair() -> Iterator[PtyPair]:
    """A raw pty pair: an emulator writes to `master_fd`, the code under test opens `port`."""
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    pair = PtyPair(master, slave, os.ttyname(slave))
    try:
        yield pair
    finally:
        pair.close()


@pytest.fixture
def store_db_path(tmp_path: Path) -> Path:
    """Path for a fresh temporary store database."""
    return tmp_path / "store.db"


# HQ database fixtures (SQLite and a real PostgreSQL) for tests/hq and tests/sync.
from tests.hq_db import hq_store, hq_target, pg_server  # noqa: E402, F401
