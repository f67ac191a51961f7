"""The two things import SQL does differently on SQLite and PostgreSQL: bulk rows and id lists.

Everything else in hq/imports/writer.py is one statement text for both backends.
SQLite takes a batch as `executemany` (its C loop is fast). PostgreSQL takes it as
one statement over a JSON array: psycopg's `executemany` is a round trip a row even
pipelined, while msgspec encodes the batch in C and the server unpacks it in C
(the same choice as hq_events in hq/pg_store.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol

import msgspec

_encode = msgspec.json.Encoder().encode


class Bulk(Protocol):
    """One dialect's way of writing many rows and of matching a list of values."""

    p: str  # the driver's placeholder

    def insert(
        self, cur: Any, table: str, columns: Sequence[str], rows: list[tuple], tail: str = ""
    ) -> None:
        """INSERT every row (tuples in `columns` order) into `table`, then `tail` (ON CONFLICT …)."""
        ...

    def in_list(self, column: str) -> str:
        """A condition: `column` is one of the values bound by `list_param`."""
        ...

    def list_param(self, values: list) -> Any:
        """The parameter for `in_list`."""
        ...


class SqliteBulk:
    """Bulk writes for sqlite3."""

    p = "?"

    def insert(
        self, cur: Any, table: str, columns: Sequence[str], rows: list[tuple], tail: str = ""
    ) -> None:
        """INSERT every row (tuples in `columns` order) into `table`, then `tail` (ON CONFLICT …)."""
        if rows:
            marks = ", ".join("?" * len(columns))
            cur.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) {tail}", rows
            )

    def in_list(self, column: str) -> str:
        """A condition: `column` is one of the values bound by `list_param`."""
        # One JSON parameter instead of one per value: a batch may exceed SQLite's
        # limit on bound variables.
        return f"{column} IN (SELECT value FROM json_each(?))"

    def list_param(self, values: list) -> Any:
        """The parameter for `in_list`."""
        return json.dumps(values)


class PgBulk:
    """Bulk writes for psycopg 3."""

    p = "%s"

    def insert(
        self, cur: Any, table: str, columns: Sequence[str], rows: list[tuple], tail: str = ""
    ) -> None:
        """INSERT every row (tuples in `columns` order) into `table`, then `tail` (ON CONFLICT …)."""
        if rows:
            cols = ", ".join(columns)
            # The table's own row type gives each column its type.
            cur.execute(
                f"INSERT INTO {table} ({cols}) SELECT {cols}"
                f" FROM json_populate_recordset(NULL::{table}, %s::json) {tail}",
                (_encode([dict(zip(columns, row, strict=True)) for row in rows]).decode(),),
            )

    def in_list(self, column: str) -> str:
        """A condition: `column` is one of the values bound by `list_param`."""
        return f"{column} = ANY(%s)"

    def list_param(self, values: list) -> Any:
        """The parameter for `in_list`."""
        return values
