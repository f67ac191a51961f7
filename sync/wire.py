"""MQTT wire format v1 (a contract: docs/wire.md). Topics and payloads, both directions.

Everything that crosses the broker is declared here once and used by the store
uplink, the HQ ingester and the tests. Payloads are strict msgspec structs:
unknown fields and wrong types are refused with a reason.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from edge.events import Event

PREFIX = "touchpoint/v1"
MAX_BATCH_BYTES = 256 * 1024
STORE_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_TOPIC_RE = re.compile(r"^touchpoint/v1/([A-Za-z0-9_-]{1,32})/(.+)$")

StoreId = Annotated[str, Meta(pattern=STORE_RE.pattern)]
Seq = Annotated[int, Meta(ge=1)]


def topic(store: str, *parts: str) -> str:
    """`touchpoint/v1/{store}/{parts…}`."""
    return "/".join((PREFIX, store, *parts))


def parse_topic(name: str) -> tuple[str, str] | None:
    """(store, rest) of a v1 topic, or None if it is not one."""
    m = _TOPIC_RE.match(name)
    return (m.group(1), m.group(2)) if m else None


class Batch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`up/events`: a contiguous run of store events, first_seq..last_seq."""

    v: Literal[1]
    store: StoreId
    boot_id: Annotated[str, Meta(max_length=64)]
    first_seq: Seq
    last_seq: Seq
    events: Annotated[list[Event], Meta(min_length=1, max_length=20_000)]


class StoreState(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`up/state` (retained; also the will): is the store online, how far behind is it."""

    v: Literal[1]
    online: bool
    boot_id: Annotated[str, Meta(max_length=64)]
    outbox: Annotated[int, Meta(ge=0)] = 0
    oldest_unsent_s: Annotated[float, Meta(ge=0)] | None = None
    version: Annotated[str, Meta(max_length=40)] = ""
    acked_seq: Annotated[int, Meta(ge=0)] = 0
    last_seq: Annotated[int, Meta(ge=0)] = 0


class Ack(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`down/ack` (retained): head office has durably stored every seq up to this one."""

    v: Literal[1]
    acked_through_seq: Annotated[int, Meta(ge=0)]


class Command(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`down/cmd`: e.g. resend_from — send again from `seq` on."""

    v: Literal[1]
    cmd: Literal["resend_from"]
    seq: Seq


_enc = msgspec.json.Encoder()
_batch_dec = msgspec.json.Decoder(Batch)
_state_dec = msgspec.json.Decoder(StoreState)
_ack_dec = msgspec.json.Decoder(Ack)
_cmd_dec = msgspec.json.Decoder(Command)


def encode(msg: msgspec.Struct) -> bytes:
    """Compact JSON bytes of any wire struct."""
    return _enc.encode(msg)


class WireError(ValueError):
    """A payload that does not follow the wire format; the message is the reason."""


def _decode(decoder: msgspec.json.Decoder, payload: bytes, what: str):
    try:
        return decoder.decode(payload)
    except msgspec.DecodeError as exc:
        raise WireError(f"{what}: {exc}") from None


def decode_batch(payload: bytes, topic_store: str, max_bytes: int = MAX_BATCH_BYTES) -> Batch:
    """Validate an `up/events` payload for the store in its topic; raises WireError."""
    if len(payload) > max_bytes:
        raise WireError(f"batch of {len(payload)} bytes exceeds {max_bytes}")
    batch: Batch = _decode(_batch_dec, payload, "batch")
    if batch.store != topic_store:
        raise WireError(f"store {batch.store!r} in the payload, {topic_store!r} in the topic")
    if batch.last_seq - batch.first_seq + 1 != len(batch.events):
        raise WireError(
            f"seq range {batch.first_seq}..{batch.last_seq} does not match {len(batch.events)} events"
        )
    for offset, event in enumerate(batch.events):
        if event.seq != batch.first_seq + offset:
            raise WireError(
                f"event {offset} has seq {event.seq}, expected {batch.first_seq + offset}"
            )
    return batch


def decode_state(payload: bytes) -> StoreState:
    """Validate an `up/state` payload; raises WireError."""
    return _decode(_state_dec, payload, "state")


def decode_ack(payload: bytes) -> Ack:
    """Validate a `down/ack` payload; raises WireError."""
    return _decode(_ack_dec, payload, "ack")


def decode_command(payload: bytes) -> Command:
    """Validate a `down/cmd` payload; raises WireError."""
    return _decode(_cmd_dec, payload, "command")
