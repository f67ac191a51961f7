"""Single use of app tokens across the store's processes.

The agent (door scanners), the kiosk and any staff terminal each verify app tokens
with their own `TokenVerifier`, whose memory of used nonces is its own. A token shown
at the door could otherwise be shown again at the kiosk within its validity (about 90 s).
`NonceLedger.claim` makes the store database the arbiter: the first process to insert
a nonce's `state` row wins, and every other process finds it taken. The agent's
housekeeping deletes the rows once their tokens can no longer verify.

If the database cannot be written (disk full, locked past the busy timeout), the claim
is granted and counted (`unavailable`): the process's own memory still refuses a replay
there, and a shopper's valid code is not refused because of the disk.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path

from edge.db import connect

log = logging.getLogger(__name__)

NONCE_PREFIX = "nonce:"


class NonceLedger:
    """Claims token nonces in the store database's `state` table (own connection)."""

    def __init__(self, path: Path | str, *, busy_timeout_ms: int = 2000) -> None:
        self._conn = connect(path, busy_timeout_ms=busy_timeout_ms)
        self._lock = threading.Lock()
        self.unavailable = 0

    def claim(self, nonce: str, step: int) -> bool:
        """True if no process of this store used `nonce` before (it is now taken)."""
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        try:
            with self._lock:
                cur = self._conn.execute(
                    "INSERT OR IGNORE INTO state (key, value, updated) VALUES (?, ?, ?)",
                    (NONCE_PREFIX + nonce, str(step), stamp),
                )
                return cur.rowcount == 1
        except sqlite3.Error as exc:
            self.unavailable += 1
            log.warning(
                "token ledger unavailable (%s): single use checked in this process only", exc
            )
            return True

    def close(self) -> None:
        """Release the connection."""
        with self._lock:
            self._conn.close()
