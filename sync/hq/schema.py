"""HQ database schema for SQLite and PostgreSQL, versioned.

One DDL text per version, written once with placeholders for the few types that
differ between the dialects. `schema_version` holds the version a database is at;
a backend applies every migration above it, in order, inside one transaction.
"""

from __future__ import annotations

from typing import Literal

Dialect = Literal["sqlite", "postgresql"]

_TYPES: dict[Dialect, dict[str, str]] = {
    "sqlite": {
        "bigint": "INTEGER",
        "bool": "INTEGER",
        "serial_pk": "INTEGER PRIMARY KEY",
        # The primary key is the access path for ingest and watermark scans.
        "without_rowid": " WITHOUT ROWID",
    },
    "postgresql": {
        "bigint": "BIGINT",
        "bool": "BOOLEAN",
        "serial_pk": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
        "without_rowid": "",
    },
}

# Migration n (1-based) takes a database from version n-1 to n.
_MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE IF NOT EXISTS hq_events (
            store TEXT NOT NULL,
            seq {bigint} NOT NULL,
            id TEXT NOT NULL,
            type TEXT NOT NULL,
            ts TEXT NOT NULL,
            device TEXT NOT NULL,
            data TEXT NOT NULL,
            clock_ok {bool} NOT NULL,
            boot_id TEXT NOT NULL,
            error TEXT,
            received_at TEXT NOT NULL,
            PRIMARY KEY (store, seq)
        ){without_rowid}""",
        "CREATE INDEX IF NOT EXISTS hq_events_type_store_ts ON hq_events (type, store, ts)",
        """CREATE TABLE IF NOT EXISTS hq_stores (
            store TEXT PRIMARY KEY,
            acked_through {bigint} NOT NULL DEFAULT 0,
            max_seq {bigint} NOT NULL DEFAULT 0,
            duplicates {bigint} NOT NULL DEFAULT 0,
            events {bigint} NOT NULL DEFAULT 0,
            online {bool},
            boot_id TEXT,
            state TEXT,
            state_at TEXT,
            last_batch_at TEXT
        )""",
        """CREATE TABLE IF NOT EXISTS hq_dead_letters (
            id {serial_pk},
            received_at TEXT NOT NULL,
            topic TEXT NOT NULL,
            store TEXT,
            reason TEXT NOT NULL,
            payload TEXT NOT NULL
        )""",
    ],
]

SCHEMA_VERSION = len(_MIGRATIONS)

VERSION_TABLE = "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"


class SchemaError(RuntimeError):
    """The database's schema is newer than this code understands."""


def migrations(dialect: Dialect, current: int) -> list[tuple[int, list[str]]]:
    """(version, statements) for every migration above `current`; raises SchemaError."""
    if current > SCHEMA_VERSION:
        raise SchemaError(
            f"database schema is version {current}, this code knows up to {SCHEMA_VERSION}"
        )
    types = _TYPES[dialect]
    return [
        (version, [stmt.format(**types) for stmt in _MIGRATIONS[version - 1]])
        for version in range(current + 1, SCHEMA_VERSION + 1)
    ]
