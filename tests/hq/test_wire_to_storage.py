"""Whatever the wire format accepts, both HQ backends can store.

The wire schema is head office's gate: a payload it refuses is dead-lettered, and one
it accepts goes to the database. If the database could still refuse an accepted
batch (a seq past 64 bits, a NUL in a text column, …), that batch would fail the
ingester on every redelivery and stall the whole chain. Hypothesis feeds the gate
edge values and hostile text; every accepted batch must store on SQLite and PostgreSQL,
and the queries over stored events must read it back.
"""

from __future__ import annotations

import json
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.events import EVENT_TYPES, MAX_SEQ
from hq.storage import HqStore, screen
from hq.triage import rows_from_batch
from sync import wire

NOW = "2026-06-01T12:00:00.000Z"

any_text = st.text(max_size=210)  # around the 200-character limit, NUL and astral planes included
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | any_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3),
    max_leaves=8,
)

door_counts = st.fixed_dictionaries(
    {
        "door": any_text,
        "direction": st.sampled_from(["in", "out"]),
        "count": st.integers(1, 1_000_000),
        "sensor": any_text,
    }
)


@st.composite
def batches(draw) -> dict:
    """An `up/events` payload as a dict: mostly well-formed, with edge values everywhere."""
    n = draw(st.integers(1, 3))
    first = draw(st.sampled_from([1, MAX_SEQ - n + 1, MAX_SEQ - n + 2]) | st.integers(1, MAX_SEQ))
    store = f"p{uuid.uuid4().hex[:20]}"  # each example its own store: no shared state
    door = draw(st.booleans())  # valid door counts, so the feed query has rows to read
    events = [
        {
            "seq": first + i,
            "id": draw(st.text(min_size=36, max_size=36)),
            "type": "door.count" if door else draw(st.sampled_from(sorted(EVENT_TYPES)) | any_text),
            "ts": draw(st.sampled_from(["2026-06-01T10:00:00.000Z", "9999-99-99T99:99:99.999Z"])),
            "device": draw(any_text),
            "data": draw(door_counts if door else json_values),
            "clock_ok": draw(st.booleans()),
            "boot_id": draw(any_text),
        }
        for i in range(n)
    ]
    return {
        "v": 1,
        "store": store,
        "boot_id": draw(st.text(max_size=64)),
        "first_seq": first,
        "last_seq": first + n - 1,
        "events": events,
    }


# The store fixture is per test, not per example; each example writes its own store id.
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=batches())
def test_every_batch_the_wire_accepts_is_stored(hq_store: HqStore, batch: dict) -> None:
    payload = json.dumps(batch).encode()
    try:
        decoded = wire.decode_batch(payload, batch["store"])
    except wire.WireError:
        return  # refused at the gate: dead-lettered by the ingester, never stored
    rows, _ = rows_from_batch(decoded)
    outcome = hq_store.ingest(rows, NOW)
    assert outcome.inserted == len(rows)
    assert hq_store.marks()[batch["store"]].max_seq == batch["last_seq"]
    # And the feed query reads back every valid door count (PostgreSQL casts to jsonb there).
    counted = sum(n_in + n_out for *_, n_in, n_out in hq_store.door_counts(batch["store"]))
    valid = [r for r in screen(rows) if r.error is None and r.type == "door.count"]
    assert counted == sum(json.loads(r.data)["count"] for r in valid)
    assert len(hq_store.events(batch["store"])) == len(rows)


@st.composite
def states(draw) -> dict:
    """An `up/state` payload as a dict, with hostile text and huge numbers."""
    big = st.integers(0, 2**70)
    return {
        "v": 1,
        "online": draw(st.booleans()),
        "boot_id": draw(st.text(max_size=66)),
        "outbox": draw(big),
        "oldest_unsent_s": draw(st.none() | st.floats(min_value=0, allow_infinity=False)),
        "version": draw(st.text(max_size=42)),
        "acked_seq": draw(big),
        "last_seq": draw(big),
    }


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(state=states())
def test_every_state_the_wire_accepts_is_recorded(hq_store: HqStore, state: dict) -> None:
    store = f"p{uuid.uuid4().hex[:20]}"
    try:
        decoded = wire.decode_state(json.dumps(state).encode())
    except wire.WireError:
        return
    assert hq_store.record_state(store, decoded, NOW)
    mark = hq_store.marks()[store]
    assert mark.online == state["online"]
