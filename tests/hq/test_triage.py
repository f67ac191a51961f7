"""Triage of received messages into the writes head office owes them (pure, no I/O)."""

from __future__ import annotations

import json

from hq.triage import triage
from sync import wire
from tests.hq.storelog import Msg
from tests.sync.payloads import DOOR, raw_batch


def batch(store: str, first: int, datas: list[dict]) -> bytes:
    return json.dumps(raw_batch(store, first, datas)).encode()


def test_each_message_becomes_exactly_one_kind_of_write():
    state = json.dumps({"v": 1, "online": True, "boot_id": "boot-1"}).encode()
    work = triage(
        [
            Msg(wire.topic("s1", "up", "events"), batch("s1", 1, [DOOR, {"door": "m"}])),
            Msg(wire.topic("s1", "up", "state"), state),
            Msg(wire.topic("s1", "up", "state"), b""),  # a retained state being cleared
            Msg(wire.topic("s3", "up", "state"), state, retain=True),  # the broker's copy
            Msg(wire.topic("s2", "up", "events"), batch("s1", 1, [DOOR])),  # claims s1
            Msg(wire.topic("s2", "up", "lookup"), b"{}"),
            Msg("elsewhere/x", b"junk"),
        ]
    )
    assert [(r.store, r.seq, r.error is None) for r in work.rows] == [
        ("s1", 1, True),
        ("s1", 2, False),
    ]
    assert work.batches == 1 and work.invalid_events == 1
    assert [(name, s.boot_id, r) for name, s, r in work.states] == [
        ("s1", "boot-1", False),
        ("s3", "boot-1", True),
    ]
    reasons = {d.topic: d.reason for d in work.dead_letters}
    assert "'s1' in the payload" in reasons[wire.topic("s2", "up", "events")]
    assert "does not take 'up/lookup'" in reasons[wire.topic("s2", "up", "lookup")]
    assert reasons["elsewhere/x"] == "not a touchpoint/v1 topic"
    assert not work.done


def test_nothing_to_write_is_done():
    assert triage([]).done
