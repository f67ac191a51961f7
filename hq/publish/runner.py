"""One `hq publish` run: checked rows → snapshots → every registered store's retained topics.

The catalog is the same for every store: its parts are encoded once. Stock is built per
store (its own count, online, its nearest stores'). Every store gets the same new
version. A snapshot with fewer parts than the one before it leaves retained messages
on the part topics past its end; the store's downlink would ignore them (their
version is older), but a store would still download them on every subscribe, so they
are cleared with an empty retained message. `hq_downlink` remembers how many part
topics may hold something (raised before publishing, lowered after), so this works
after a crash mid-way too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from hq.db import Db
from hq.publish import ledger
from hq.publish.nearest import nearest_stores
from hq.publish.rows import ONLINE, ProductRecord, StockRecord
from hq.publish.sender import Sender
from hq.publish.snapshots import distances, next_version, quantities, store_stock
from hq.storage import ImportCounts
from sync import wire
from sync.downlink import encode_parts


class Collector:
    """Keeps the good rows of the input in memory (a `Kind.write` for the import runner).

    A product named twice, a store not in the registry: rejected with the line, like
    any bad row, so a snapshot never holds two versions of one product.
    """

    def __init__(self, kind: str, stores: set[str]) -> None:
        self.kind = kind
        self.stores = stores
        self.records: dict[tuple[str, str], ProductRecord | StockRecord] = {}

    def key(self, record) -> tuple[str, str]:
        """What may appear once: the product, or the (store, product) pair."""
        if isinstance(record, ProductRecord):
            return ("", record.item.sku)
        return (record.store, record.sku)

    def write(self, records: list, now: str) -> ImportCounts:
        """Keep a batch of records; duplicates and unknown stores rejected."""
        counts = ImportCounts()
        for r in records:
            key = self.key(r)
            if key in self.records:
                first = self.records[key].line
                counts.rejected.append((r.line, f"id: {key[1]!r} already on line {first}"))
            elif isinstance(r, StockRecord) and r.store != ONLINE and r.store not in self.stores:
                counts.rejected.append(
                    (r.line, f"store_code: {r.store!r} is not in the store registry")
                )
            else:
                self.records[key] = r
                counts.imported += 1
        return counts


def batch_key(record) -> tuple[str, ...]:
    """The runner cuts a batch before a repeated key, so the duplicate check sees file order."""
    if isinstance(record, ProductRecord):
        return (record.item.sku,)
    return (f"{record.store}\x00{record.sku}",)


@dataclass
class PublishSummary:
    """What one run sent; printed as JSON by the command."""

    kind: str
    version: int = 0
    stores: int = 0
    items: int = 0
    parts: int = 0  # part messages published, over all stores
    cleared: int = 0  # stale part topics emptied
    rejected: int = 0
    shortened: int = 0  # descriptions cut to what the wire carries
    unplaced: list[str] = field(default_factory=list)  # stores without lat/lon: no neighbours
    refused: dict[str, str] = field(default_factory=dict)  # store -> broker's reason
    seconds: float = 0.0


def publish(
    kind: str,
    collector: Collector,
    locations: dict[str, tuple[float, float] | None],
    db: Db,
    sender: Sender,
    *,
    nearest: int,
    now_iso: Callable[[], str],
    now_ms: Callable[[], int] = lambda: int(time.time() * 1000),
) -> PublishSummary:
    """Publish the collected snapshot to every registered store; raises PublishError."""
    t0 = time.monotonic()
    out = PublishSummary(kind, stores=len(locations))
    records = list(collector.records.values())
    before = ledger.sent(db, kind)
    out.version = version = next_version(now_ms(), {s: m.version for s, m in before.items()})
    if kind == "catalog":
        items = [r.item for r in records]  # type: ignore[union-attr]
        out.items = len(items)
        out.shortened = sum(r.shortened for r in records)  # type: ignore[union-attr]
        catalog = encode_parts("catalog", version, items)

        def payloads(store: str) -> list[bytes]:
            return catalog

        known = len(catalog)
    else:
        stock = quantities(records)  # type: ignore[arg-type]
        out.items = len(stock)
        near = nearest_stores(locations, nearest)
        out.unplaced = sorted(s for s, loc in locations.items() if loc is None)

        def payloads(store: str) -> list[bytes]:
            nearby = near[store]
            return encode_parts(
                "stock", version, store_stock(store, stock, nearby), km=distances(nearby)
            )

        known = 0  # each store's stock has its own size: known once it is encoded
    # Before the first message: the new version is handed out, and no part topic can
    # end up retained beyond the recorded count.
    old = {s: before[s].parts if s in before else 0 for s in locations}
    ledger.record(
        db, kind, {s: ledger.Sent(version, max(old[s], known)) for s in locations}, now_iso()
    )
    done: dict[str, ledger.Sent] = {}
    for store in locations:
        parts = payloads(store)
        if len(parts) > max(old[store], known):
            ledger.record(db, kind, {store: ledger.Sent(version, len(parts))}, now_iso())
        for n, payload in enumerate(parts):
            sender.send(wire.topic(store, "down", kind, str(n)), payload)
        for n in range(len(parts), old[store]):
            sender.send(wire.topic(store, "down", kind, str(n)), b"")
        out.parts += len(parts)
        out.cleared += max(0, old[store] - len(parts))
        done[store] = ledger.Sent(version, len(parts))
    sender.flush()
    for topic, reason in sender.refused.items():
        parsed = wire.parse_topic(topic)
        if parsed:
            out.refused.setdefault(parsed[0], reason)
    # Stores the broker refused keep the raised mark: their topics are not known to be clean.
    ledger.record(db, kind, {s: m for s, m in done.items() if s not in out.refused}, now_iso())
    out.seconds = round(time.monotonic() - t0, 3)
    return out
