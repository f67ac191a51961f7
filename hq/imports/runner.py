"""One import run: rows in, checked records written in batches, rejected rows set aside.

A bad row never stops the others. Each is reported (line and reason) through
`on_reject` and copied, as it was, to the rejected-rows file next to the input
(hq/imports/source.py names it). Good rows go to the store in batches, each batch one
transaction. A batch is cut early when a row repeats an id (or a pseudonym) already
in it, so a file that names a customer twice is applied in file order, and no
statement ever touches one row twice (PostgreSQL refuses that in an upsert).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge.identity import Pseudonymiser
from hq.imports import stores
from hq.imports.fields import Bad
from hq.imports.profiles import parse_profile
from hq.imports.source import ENCODING, Reader, Row, file_format, rejected_path
from hq.imports.stores import parse_store
from hq.imports.transactions import parse_transaction
from hq.orders import records as orders
from hq.storage import HqStore, ImportCounts

# Input fields per kind: the CSV columns and the JSONL keys (docs/imports.md).
FIELDS: dict[str, tuple[str, ...]] = {
    "stores": stores.COLUMNS,
    "profiles": (
        "customer_id",
        "first_name",
        "loyalty_number",
        "app_id",
        "instore_recognition",
        "instore_recognition_at",
        "marketing",
        "marketing_at",
        "last_online_at",
        "wishlist",
        "recently_viewed",
    ),
    "transactions": (
        "id",
        "store",
        "ts",
        "type",
        "net_amount",
        "currency",
        "items",
        "loyalty_number",
    ),
    "orders": orders.FIELDS,
}
BATCH_ROWS = 20_000


@dataclass
class Kind:
    """How one kind of row is parsed, batched and written."""

    parse: Callable[[dict, int], Any]  # (fields, line) -> record; raises Bad
    batch_keys: Callable[[Any], Iterable[str]]  # ids a batch may hold only once
    write: Callable[[list, str], ImportCounts]  # (records, now) -> counts, one transaction


def kind_for(
    name: str, store: HqStore, pseudonymiser: Pseudonymiser, currency: str, orders: Any = None
) -> Kind:
    """The parse/batch/write triple of one import kind on `store` (`orders`: OrderRules)."""
    if name == "orders":
        from hq.orders.intake import OrderRules, order_kind

        return order_kind(store, orders or OrderRules(pseudonymiser))
    if name == "stores":
        return Kind(parse_store, lambda r: (r.store,), store.import_stores)
    if name == "profiles":
        return Kind(
            lambda row, line: parse_profile(row, line, pseudonymiser),
            lambda r: (r.customer_id, *(p for _, p, _ in r.keys)),
            store.import_profiles,
        )
    if name == "transactions":
        return Kind(
            lambda row, line: parse_transaction(row, line, pseudonymiser, currency),
            lambda r: (r.id,),
            store.import_transactions,
        )
    raise ValueError(f"unknown import kind {name!r}")


@dataclass
class Summary:
    """What a whole import did."""

    imported: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejected_file: Path | None = None

    def line(self) -> str:
        """The final summary line."""
        text = f"imported {self.imported}, rejected {self.rejected}, unchanged {self.unchanged}"
        return text + (f" (rejected rows in {self.rejected_file})" if self.rejected_file else "")


class _Run:
    """The mutable state of one run: the open batch and the rejects waiting to be written."""

    def __init__(self, kind: Kind, reader: Reader, out, on_reject, now, summary) -> None:
        self.kind, self.reader, self.out = kind, reader, out
        self.on_reject, self.now, self.summary = on_reject, now, summary
        self.batch: list = []
        self.keys: set[str] = set()
        self.texts: dict[int, str] = {}  # line -> original text, for the open batch
        self.pending: list[tuple[int, str, str]] = []  # (line, text, reason)

    def add(self, row: Row) -> None:
        if row.fields is None:
            self.pending.append((row.line, row.text, row.error or "unreadable"))
            return
        try:
            record = self.kind.parse(row.fields, row.line)
        except Bad as exc:
            self.pending.append((row.line, row.text, str(exc)))
            return
        keys = tuple(self.kind.batch_keys(record))
        if self.keys.intersection(keys) or len(self.batch) >= BATCH_ROWS:
            self.flush()
        self.batch.append(record)
        self.keys.update(keys)
        self.texts[row.line] = row.text

    def flush(self) -> None:
        if self.batch:
            counts = self.kind.write(self.batch, self.now())
            self.summary.imported += counts.imported
            self.summary.unchanged += counts.unchanged
            self.pending += [(line, self.texts[line], reason) for line, reason in counts.rejected]
        self.batch, self.keys, self.texts = [], set(), {}
        if self.pending and not self.summary.rejected and self.reader.header:
            self.out.write(self.reader.header)  # the CSV header, so the file imports again
        for line, text, reason in sorted(self.pending):
            self.summary.rejected += 1
            self.on_reject(line, reason)
            self.out.write(text if text.endswith("\n") else text + "\n")
        self.pending = []


def run_import(
    path: Path,
    kind: Kind,
    fields: tuple[str, ...],
    *,
    now: Callable[[], str],
    on_reject: Callable[[int, str], None],
    progress: Callable[[int], None] = lambda n: None,
) -> Summary:
    """Import `path` (CSV or JSONL) with `kind`; raises SourceError or OSError for a bad file."""
    fmt = file_format(path)
    target = rejected_path(path)
    partial = target.with_name(target.name + ".partial")
    summary = Summary()
    try:
        with open(path, **ENCODING) as stream, open(partial, "w", **ENCODING) as out:
            # The rejected rows are as sensitive as the input (raw loyalty numbers).
            os.chmod(partial, os.stat(path).st_mode & 0o666)
            reader = Reader(stream, fmt, fields)
            run = _Run(kind, reader, out, on_reject, now, summary)
            seen = 0
            for row in reader.rows():
                run.add(row)
                if reader.consumed - seen > 256 * 1024:
                    progress(reader.consumed - seen)
                    seen = reader.consumed
            run.flush()
            progress(reader.consumed - seen)
    except BaseException:
        # Batches already committed stay (a re-run is idempotent); half a rejects file would mislead.
        partial.unlink(missing_ok=True)
        raise
    if summary.rejected:
        partial.replace(target)
        summary.rejected_file = target
    else:
        partial.unlink()
        # A rejected file from an earlier run would now be misleading.
        target.unlink(missing_ok=True)
    return summary
