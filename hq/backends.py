"""Picks the HQ storage backend named in the config.

Kept apart from `hq/storage.py`, which both backends import: a factory there would
import them back and close an import circle.
"""

from __future__ import annotations

from pathlib import Path

from edge.configtree import SecretResolver
from hq.config import HqDatabaseSection
from hq.storage import HqStore


def open_hq_store(
    db: HqDatabaseSection, secrets: SecretResolver, *, dsn_file: str = "", migrate: bool = True
) -> HqStore:
    """The backend named in the config: a SQLite file, or PostgreSQL via the DSN secret
    (`dsn_file` when given: another role's). `migrate` off: the schema is `hq run`'s."""
    # Imported here so a SQLite deployment never loads psycopg.
    if db.backend == "postgresql":
        from hq.pg_store import PgHqStore

        return PgHqStore(secrets.read(dsn_file or db.dsn_file).decode().strip(), migrate=migrate)
    from hq.sqlite_store import SqliteHqStore

    return SqliteHqStore(Path(db.path), migrate=migrate)


def open_hq_reader(
    db: HqDatabaseSection, secrets: SecretResolver, *, dsn_file: str = "", size: int = 4
):
    """A read-only view of the configured database (`hq/readonly.py`) for the web app.

    PostgreSQL connects with `dsn_file` (a read-only role's DSN) when given, else with
    the database's own DSN file; either way every session is read-only.
    """
    from hq.readonly import pg_reader, sqlite_reader

    if db.backend == "postgresql":
        dsn = secrets.read(dsn_file or db.dsn_file).decode().strip()
        return pg_reader(dsn, size)
    return sqlite_reader(Path(db.path), size)
