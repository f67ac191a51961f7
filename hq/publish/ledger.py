"""Head office's records for `hq publish`: the registered stores, and what each was sent."""

from __future__ import annotations

from dataclasses import dataclass

from hq.db import Db


@dataclass(frozen=True)
class Sent:
    """The newest snapshot version handed out to a store, and how many part topics may be retained."""

    version: int
    parts: int


def registered_stores(db: Db) -> dict[str, tuple[float, float] | None]:
    """Every store in the registry with its (lat, lon), or None when it has no location."""
    rows = db.q("SELECT store, lat, lon FROM hq_store_registry ORDER BY store")
    return {
        s: (float(lat), float(lon)) if lat is not None and lon is not None else None
        for s, lat, lon in rows
    }


def sent(db: Db, kind: str) -> dict[str, Sent]:
    """store -> what `hq publish` last sent it of this kind."""
    rows = db.q("SELECT store, version, parts FROM hq_downlink WHERE kind = ?", (kind,))
    return {s: Sent(int(v), int(p)) for s, v, p in rows}


def record(db: Db, kind: str, marks: dict[str, Sent], now: str) -> None:
    """Store what was (or is about to be) sent, in one transaction."""
    with db.tx() as tx:
        tx.executemany(
            "INSERT INTO hq_downlink (store, kind, version, parts, updated_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (store, kind) DO UPDATE SET version = excluded.version,"
            " parts = excluded.parts, updated_at = excluded.updated_at",
            [(s, kind, m.version, m.parts, now) for s, m in marks.items()],
        )
