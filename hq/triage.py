"""Sort a group of received MQTT messages into the writes head office owes them (pure).

The ingester takes what has arrived, triages it here without touching the database,
then performs the writes (`Work`) and only then acknowledges the messages. Keeping
the two apart lets it retry exactly the writes still owed when the database is down,
without dead-lettering a payload twice.

- `up/events`: validated as a batch (`wire.decode_batch`: JSON, size, store = topic,
  seq range); each event's payload against its type's schema. A bad event becomes a
  row with its reason (kept for contiguity, left out of the feeds); a bad batch a
  dead letter.
- `up/state`: a birth or will to record; an empty retained message is a clear. A
  retained one (the broker's copy, handed over when head office subscribes) is marked,
  so it does not count as hearing from the store now (hq/status.py: last seen).
- Anything else: a dead letter with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

import msgspec

from edge.events import Payload, VisitIdentified, decode_data
from hq.storage import EventRow, mask_pseudonyms
from sync import wire


class Message(Protocol):
    """What triage reads of a received message (paho's MQTTMessage has these)."""

    topic: str
    payload: bytes


@dataclass
class DeadLetter:
    """A payload refused with its reason."""

    topic: str
    store: str | None
    reason: str
    payload: bytes


@dataclass
class Work:
    """The writes one group of messages needs, in the order they are performed."""

    dead_letters: list[DeadLetter] = field(default_factory=list)
    states: list[tuple[str, wire.StoreState, bool]] = field(default_factory=list)  # retained?
    rows: list[EventRow] = field(default_factory=list)
    batches: int = 0
    invalid_events: int = 0

    @property
    def done(self) -> bool:
        """Whether every write has been performed."""
        return not (self.dead_letters or self.states or self.rows)


def rows_from_batch(batch: wire.Batch) -> tuple[list[EventRow], int]:
    """Validate each event's payload; returns rows (bad ones marked) and the count of bad."""
    rows, bad = [], 0
    for ev in batch.events:
        error = None
        raw = bytes(ev.data)
        data = raw.decode("utf-8", "replace")
        key_id = pseudonym = None
        try:
            payload = decode_data(ev.type, raw)
        except ValueError as exc:
            error = mask_pseudonyms(str(exc)[:500])
            data = mask_pseudonyms(data)
            bad += 1
        else:
            if getattr(payload, "pseudonym", None) is not None:
                data, key_id, pseudonym = split_identity(payload)
        rows.append(
            EventRow(
                store=batch.store,
                seq=ev.seq,
                id=ev.id,
                type=ev.type,
                ts=ev.ts,
                device=ev.device,
                data=data,
                clock_ok=ev.clock_ok,
                boot_id=ev.boot_id,
                error=error,
                key_id=key_id,
                pseudonym=pseudonym,
            )
        )
    return rows, bad


def split_identity(payload: Payload) -> tuple[str, str | None, str | None]:
    """(data without the pseudonym, key id, pseudonym) for an event carrying one.

    Only a visit.identified keeps its pseudonym (for matching, in hq_visits); a scan's or
    an order's is dropped at the door of head office: the feeds do not need it.
    """
    fields = msgspec.to_builtins(payload)
    pseudonym = fields.pop("pseudonym", None)
    data = msgspec.json.encode(fields).decode()
    if isinstance(payload, VisitIdentified):
        return data, payload.key_id, pseudonym
    return data, None, None


def triage(messages: Iterable[Message], max_batch_bytes: int = wire.MAX_BATCH_BYTES) -> Work:
    """The writes these messages need; never raises on bad input."""
    work = Work()
    for msg in messages:
        parsed = wire.parse_topic(msg.topic)
        if parsed is None:
            work.dead_letters.append(
                DeadLetter(msg.topic, None, "not a touchpoint/v1 topic", msg.payload)
            )
            continue
        store, kind = parsed
        try:
            if kind == "up/state":
                if msg.payload:  # empty: a retained state being cleared
                    retained = bool(getattr(msg, "retain", False))
                    work.states.append((store, wire.decode_state(msg.payload), retained))
            elif kind == "up/events":
                batch = wire.decode_batch(msg.payload, store, max_batch_bytes)
                rows, bad = rows_from_batch(batch)
                work.rows.extend(rows)
                work.invalid_events += bad
                work.batches += 1
            else:
                raise wire.WireError(f"head office does not take {kind!r}")
        except wire.WireError as exc:
            work.dead_letters.append(DeadLetter(msg.topic, store, str(exc)[:500], msg.payload))
    return work
