"""Personal data on the store lives only until head office has it.

Events of the types in `edge.events.PERSONAL_TYPES` (an order's contact details)
are deleted as soon as head office's acknowledged watermark covers them, instead of
after the normal retention period. `secure_delete` overwrites the freed pages, so
the details do not linger in the file either.
"""

from __future__ import annotations

import sqlite3

from edge.events import PERSONAL_TYPES


def purge_acknowledged(conn: sqlite3.Connection) -> int:
    """Delete acknowledged personal events; returns how many went."""
    row = conn.execute("SELECT value FROM state WHERE key = 'hq_acked_seq'").fetchone()
    acked = int(row[0]) if row else 0
    if not acked:
        return 0
    marks = ", ".join("?" * len(PERSONAL_TYPES))
    conn.execute("PRAGMA secure_delete = ON")
    try:
        cur = conn.execute(
            f"DELETE FROM events WHERE seq <= ? AND type IN ({marks})", (acked, *PERSONAL_TYPES)
        )
        return cur.rowcount
    finally:
        conn.execute("PRAGMA secure_delete = OFF")
