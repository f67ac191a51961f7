"""Triage of received messages into the writes head office owes them (pure, no I/O)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sync import wire
from sync.hq.triage import triage


@dataclass
class Msg:
    topic: str
    payload: bytes


def event(seq: int, data: dict) -> dict:
    return {
        "seq": seq,
        "id": f"0195a4c0-0000-7000-8000-{seq:012d}",
        "type": "door.count",
        "ts": "2026-06-01T10:00:00.000Z",
        "device": "d",
        "data": data,
        "clock_ok": True,
        "boot_id": "b",
    }


GOOD = {"door": "m", "direction": "in", "count": 2, "sensor": "s"}


def batch(store: str, first: int, datas: list[dict]) -> bytes:
    events = [event(first + i, d) for i, d in enumerate(datas)]
    body = {"v": 1, "store": store, "boot_id": "b", "first_seq": first}
    return json.dumps(body | {"last_seq": first + len(datas) - 1, "events": events}).encode()


def test_each_message_becomes_exactly_one_kind_of_write():
    state = json.dumps({"v": 1, "online": True, "boot_id": "boot-1"}).encode()
    work = triage(
        [
            Msg(wire.topic("s1", "up", "events"), batch("s1", 1, [GOOD, {"door": "m"}])),
            Msg(wire.topic("s1", "up", "state"), state),
            Msg(wire.topic("s1", "up", "state"), b""),  # a retained state being cleared
            Msg(wire.topic("s2", "up", "events"), batch("s1", 1, [GOOD])),  # claims s1
            Msg(wire.topic("s2", "up", "lookup"), b"{}"),
            Msg("elsewhere/x", b"junk"),
        ]
    )
    assert [(r.store, r.seq, r.error is None) for r in work.rows] == [
        ("s1", 1, True),
        ("s1", 2, False),
    ]
    assert work.batches == 1 and work.invalid_events == 1
    assert [(name, s.boot_id) for name, s in work.states] == [("s1", "boot-1")]
    reasons = {d.topic: d.reason for d in work.dead_letters}
    assert "'s1' in the payload" in reasons[wire.topic("s2", "up", "events")]
    assert "does not take 'up/lookup'" in reasons[wire.topic("s2", "up", "lookup")]
    assert reasons["elsewhere/x"] == "not a touchpoint/v1 topic"
    assert not work.done


def test_nothing_to_write_is_done():
    assert triage([]).done
