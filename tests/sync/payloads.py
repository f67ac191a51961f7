"""Hand-made wire payloads for tests that play a store (or a rogue) on the broker."""

from __future__ import annotations

DOOR = {"door": "m", "direction": "in", "count": 1, "sensor": "s"}


def raw_batch(store: str, first_seq: int, datas: list[dict] | None = None) -> dict:
    """An `up/events` payload as a dict, one door.count event per entry of `datas`."""
    datas = datas or [DOOR]
    events = [
        {
            "seq": first_seq + i,
            "id": f"0195a4c0-0000-7000-8000-{i + 1:012d}",
            "type": "door.count",
            "ts": "2026-06-01T10:00:00.000Z",
            "device": "d",
            "data": data,
            "clock_ok": True,
            "boot_id": "b",
        }
        for i, data in enumerate(datas)
    ]
    last = first_seq + len(events) - 1
    return {"v": 1, "store": store, "boot_id": "b", "first_seq": first_seq, "last_seq": last} | {
        "events": events
    }
