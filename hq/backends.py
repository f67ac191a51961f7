"""Picks the HQ storage backend named in the config.

Kept apart from `hq/storage.py`, which both backends import: a factory there would
import them back and close an import circle.
"""

from __future__ import annotations

from pathlib import Path

from edge.configtree import SecretResolver
from hq.config import HqDatabaseSection
from hq.storage import HqStore


def open_hq_store(db: HqDatabaseSection, secrets: SecretResolver) -> HqStore:
    """The backend named in the config: a SQLite file, or PostgreSQL via the DSN secret."""
    # Imported here so a SQLite deployment never loads psycopg.
    if db.backend == "postgresql":
        from hq.pg_store import PgHqStore

        return PgHqStore(secrets.read(db.dsn_file).decode().strip())
    from hq.sqlite_store import SqliteHqStore

    return SqliteHqStore(Path(db.path))
