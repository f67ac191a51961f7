"""One way to run SQL on either HQ backend: '?' placeholders, translated for psycopg.

The rollup, feeds and privacy modules write their SQL once with '?' and run it
through `Db`, so both backends execute the same statements by construction (what
differs between the dialects stays in `hq/sqlite_store.py` and `hq/pg_store.py`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any


class Tx:
    """A cursor inside a write transaction, taking '?' placeholders."""

    def __init__(self, cur: Any, db: Db) -> None:
        self._cur = cur
        self._db = db
        self.dialect = db.dialect

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Run one statement; its rows, if it returns any."""
        self._cur.execute(self._db.sql(sql), tuple(params))
        return self._cur.fetchall() if self._cur.description else []

    q = execute  # reads inside the transaction look like `Db.q`

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for each parameter row."""
        if rows:
            self._cur.executemany(self._db.sql(sql), [tuple(r) for r in rows])


class Db:
    """An HQ store (SqliteHqStore or PgHqStore) seen through '?' SQL."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.dialect: str = store.dialect
        self.false = "0" if self.dialect == "sqlite" else "false"
        self.true = "1" if self.dialect == "sqlite" else "true"

    def sql(self, sql: str) -> str:
        """The statement in the backend's placeholder style."""
        return sql if self.dialect == "sqlite" else sql.replace("?", "%s")

    def q(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Rows of one read statement."""
        return self.store.query(self.sql(sql), tuple(params))

    @contextmanager
    def tx(self) -> Iterator[Tx]:
        """A write transaction."""
        with self.store.transaction() as cur:
            yield Tx(cur, self)
