"""A small chain's day for the dashboard tests: what two stores sent today and a week ago.

`ChainDay.build(now)` lays out the events (door counts, identified visits, NPS answers,
kiosk sessions, pick-ups, a device report) at times before `now`, relative to each
store's local midnight, and the registry and till receipts as import files. The tests
deliver them through the real ingest path: `deliver` (wire decoding, triage, storage)
plus the rollup, or MQTT into a running `touchpoint hq run`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from edge.visits import format_ts
from hq.db import Db
from hq.imports.runner import FIELDS, kind_for, run_import
from hq.rollup import Rollup
from sync import wire
from tests.hq.storelog import StoreLog, deliver

TZ = ZoneInfo("Europe/Amsterdam")
REGISTRY = [
    {"store": "s1", "name": "Amsterdam Centrum", "timezone": "Europe/Amsterdam",
     "hours": "mon-sun 00:00-24:00", "doors": ["main"], "staff_count": 0},
    {"store": "s2", "name": "Utrecht Hoog Catharijne", "timezone": "Europe/Amsterdam",
     "hours": "mon-sun 00:00-24:00", "doors": ["main"], "staff_count": 0},
]  # fmt: skip


@dataclass
class ChainDay:
    """Two stores' event logs and the import files of one test day."""

    now: datetime
    logs: dict[str, StoreLog] = field(default_factory=dict)
    receipts: list[dict] = field(default_factory=list)

    @classmethod
    def build(cls, now: datetime) -> ChainDay:
        """The day as of `now` (aware): s1 busy and online, s2 quiet."""
        chain = cls(now)
        midnight = datetime.combine(now.astimezone(TZ).date(), datetime.min.time(), TZ)
        span = max(now - midnight, timedelta(seconds=60))

        def at(fraction: float, days_ago: int = 0) -> str:
            return format_ts(midnight - timedelta(days=days_ago) + span * fraction)

        s1 = chain.logs.setdefault("s1", StoreLog("s1"))
        for i in range(12):
            s1.door(at(0.05 + i * 0.07), count=1)
        for i in range(10):
            s1.door(at(0.08 + i * 0.07), "out", count=1)
        for i in range(8):
            s1.door(at(0.1 + i * 0.1, days_ago=7), count=1)
        s1.visit(at(0.3), "a" * 64)
        s1.visit(at(0.6), "b" * 64)
        s1.nps(at(0.5), 10)
        s1.nps(at(0.55, days_ago=3), 5)
        s1.nps(at(0.56, days_ago=3), 9)
        for i in range(3):
            s1.add("kiosk.session", at(0.2 + i * 0.1), {"session": f"k{i}", "action": "start"})
        s1.add("device.status", at(0.4), {"state": "degraded", "detail": "lens dirty"})
        s2 = chain.logs.setdefault("s2", StoreLog("s2"))
        for i in range(5):
            s2.door(at(0.1 + i * 0.15), count=1)
        for i in range(3):
            chain.receipts.append(
                {
                    "id": f"r{i}",
                    "store": "s1",
                    "ts": at(0.4 + i * 0.1),
                    "type": "sale",
                    "net_amount": "25.00",
                    "currency": "EUR",
                    "items": 2,
                }
            )
        return chain

    def write_imports(self, folder: Path) -> tuple[Path, Path]:
        """The registry and receipts as JSONL files for `hq import`."""
        stores, receipts = folder / "stores.jsonl", folder / "transactions.jsonl"
        stores.write_text("".join(json.dumps(r) + "\n" for r in REGISTRY))
        receipts.write_text("".join(json.dumps(r) + "\n" for r in self.receipts))
        return stores, receipts


def fill(hq_store, tmp_path, now: datetime) -> Db:
    """Imports, events and states as `hq run` would store them, then one rollup pass."""
    day = ChainDay.build(now)
    stores, receipts = day.write_imports(tmp_path)
    for kind, path in (("stores", stores), ("transactions", receipts)):
        summary = run_import(
            path, kind_for(kind, hq_store, None, "EUR"), FIELDS[kind],
            now=lambda: format_ts(now), on_reject=lambda line, reason: None,
        )  # fmt: skip
        assert summary.rejected == 0
    for store, log in day.logs.items():
        deliver(hq_store, store, log.payloads(), format_ts(now - timedelta(seconds=5)))
    hq_store.record_state(
        "s1", wire.StoreState(v=1, online=True, boot_id="boot-1", outbox=4), format_ts(now)
    )
    db = Db(hq_store)
    Rollup(db, now=lambda: now.timestamp()).run_once()
    return db
