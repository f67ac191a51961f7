"""A store's event log written by hand for head-office tests, delivered through the real
wire decoding and triage (`hq/triage.py`) into an HQ store, like the ingester does."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from edge.identity import Pseudonymiser
from hq.storage import HqStore
from hq.triage import triage
from sync import wire


@dataclass
class Msg:
    """A received MQTT message as triage reads it."""

    topic: str
    payload: bytes
    retain: bool = False  # handed over from the broker's retained copy on subscribe


@dataclass
class StoreLog:
    """Events of one store, numbered from 1, with the boot and clock state given per event."""

    store: str
    boot: str = "boot-1"
    events: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self, type_: str, ts: str, data: dict, *, clock_ok: bool = True, boot: str | None = None
    ):
        """Append one event; returns it."""
        seq = len(self.events) + 1
        ev = {
            "seq": seq,
            "id": f"0195a4c0-0000-7000-8000-{seq:012d}",
            "type": type_,
            "ts": ts,
            "device": "dev",
            "data": data,
            "clock_ok": clock_ok,
            "boot_id": boot or self.boot,
        }
        self.events.append(ev)
        return ev

    def door(self, ts: str, direction: str = "in", count: int = 1, door: str = "main", **kw):
        """A door.count delta."""
        directional = kw.pop("directional", True)
        data = {"door": door, "direction": direction, "count": count, "sensor": "s1"}
        if not directional:
            data["directional"] = False
        return self.add("door.count", ts, data, **kw)

    def staff(self, ts: str, door: str = "main", **kw):
        """A staff badge scanned at a door."""
        data = {"symbology": "code128", "class": "staff_badge", "role": "door", "door": door}
        return self.add("scan", ts, data, **kw)

    def visit(self, ts: str, pseudonym: str, key_id: str = "k1", **kw):
        """An identified visit (and the loyalty scan that made it)."""
        scan = {
            "symbology": "ean13",
            "class": "loyalty",
            "role": "door",
            "pseudonym": pseudonym,
            "key_id": key_id,
            "door": "main",
        }
        self.add("scan", ts, scan, **kw)
        data = {"pseudonym": pseudonym, "key_id": key_id, "window_start": ts, "via": "loyalty"}
        return self.add("visit.identified", ts, data, **kw)

    def step(self, ts: str, offset_s: float, **kw):
        """The clock stepped by offset_s (NTP synchronised)."""
        return self.add("clock.step", ts, {"offset_s": offset_s, "synced": True}, **kw)

    def nps(self, ts: str, score: int, **kw):
        """An NPS answer at the kiosk."""
        return self.add("nps.response", ts, {"score": score, "touchpoint": "kiosk"}, **kw)

    def payloads(self, events: list[dict] | None = None, size: int = 200) -> list[bytes]:
        """`up/events` payloads of contiguous runs of `events` (default: all)."""
        events = sorted(events if events is not None else self.events, key=lambda e: e["seq"])
        out, run = [], []
        for ev in events:
            if run and (ev["seq"] != run[-1]["seq"] + 1 or len(run) >= size):
                out.append(self._batch(run))
                run = []
            run.append(ev)
        if run:
            out.append(self._batch(run))
        return out

    def _batch(self, run: list[dict]) -> bytes:
        return json.dumps(
            {
                "v": 1,
                "store": self.store,
                "boot_id": self.boot,
                "first_seq": run[0]["seq"],
                "last_seq": run[-1]["seq"],
                "events": run,
            }
        ).encode()


def deliver(
    hq: HqStore, store: str, payloads: list[bytes], received_at: str = "2026-06-01T00:00:00.000Z"
):
    """Triage and ingest payloads as the ingester would (dead letters fail the test)."""
    work = triage([Msg(wire.topic(store, "up", "events"), p) for p in payloads])
    assert not work.dead_letters, work.dead_letters
    return hq.ingest(work.rows, received_at)


def pseudonym(keys: dict[str, bytes], number: str, key_id: str = "k1") -> str:
    """The pseudonym a store makes for a loyalty number under one chain key."""
    return Pseudonymiser(keys, key_id).pseudonym("loyalty", number, key_id)[0]
