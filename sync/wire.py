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

from edge.events import Event, Seq

PREFIX = "touchpoint/v1"
MAX_BATCH_BYTES = 256 * 1024
# HQ ingesters share `$share/{SHARE_GROUP}/touchpoint/v1/+/up/events`; the broker's
# access rules grant that group, and no other, to the HQ users only.
SHARE_GROUP = "hq"
# The chain roll-up's place in the topic tree (touchpoint/v1/_chain/feed/…): no store
# may take this id, or its feed and the chain's would share topics.
CHAIN = "_chain"
STORE_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_TOPIC_RE = re.compile(r"^touchpoint/v1/([A-Za-z0-9_-]{1,32})/(.+)$")

StoreId = Annotated[str, Meta(pattern=STORE_RE.pattern)]


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


# --- downlink: catalog, stock and pick-up orders (applied by sync/downlink.py) ----------
# Catalog and stock leave out fields at their defaults (omit_defaults): smaller parts,
# and a field added later (sale_price_cents, km) reaches a store only when it is used,
# so a store older than the field, which refuses unknown fields, still reads the rest.

Text = Annotated[str, Meta(max_length=2000)]
Sku = Annotated[str, Meta(min_length=1, max_length=64)]


class CatalogItem(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """One product of the chain's assortment, as the kiosk shows it."""

    sku: Sku
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    gtin: Annotated[str, Meta(max_length=14)] = ""
    brand: Annotated[str, Meta(max_length=100)] = ""
    category: Annotated[str, Meta(max_length=100)] = ""
    price_cents: Annotated[int, Meta(ge=0)] = 0
    # The reduced price while a sale runs (`sale_price` of the product feed); optional,
    # so a store on an older version still reads every catalog.
    sale_price_cents: Annotated[int, Meta(ge=0)] | None = None
    description: Text = ""
    rating: Annotated[float, Meta(ge=0, le=5)] | None = None
    reviews: Annotated[int, Meta(ge=0)] = 0
    alternatives: Annotated[list[Sku], Meta(max_length=20)] = []
    # Where the product is in this store ("A12-3"), for the staff's picking list;
    # optional like sale_price_cents.
    shelf: Annotated[str, Meta(max_length=40)] = ""


class StockItem(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """Real stock of one product: here, in other stores, online (never invented scarcity)."""

    sku: Sku
    here: Annotated[int, Meta(ge=0)]
    online: Annotated[int, Meta(ge=0)] = 0
    other_stores: dict[StoreId, Annotated[int, Meta(ge=0)]] = {}


class CatalogPart(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`down/catalog/{part}` (retained): part `part` of `parts` of catalog `version`."""

    v: Literal[1]
    version: Annotated[int, Meta(ge=1)]
    part: Annotated[int, Meta(ge=0)]
    parts: Annotated[int, Meta(ge=1, le=10_000)]
    items: list[CatalogItem]


class StockPart(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """`down/stock/{part}` (retained): part `part` of `parts` of stock snapshot `version`."""

    v: Literal[1]
    version: Annotated[int, Meta(ge=1)]
    part: Annotated[int, Meta(ge=0)]
    parts: Annotated[int, Meta(ge=1, le=10_000)]
    items: list[StockItem]
    # How far (km) each store in the items' `other_stores` is from this one. Once per
    # part rather than per item: it is the same for every product. Optional.
    km: dict[StoreId, Annotated[float, Meta(ge=0, le=40_075)]] = {}


class OrderLine(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """One line of a pick-up order."""

    sku: Sku
    qty: Annotated[int, Meta(ge=1, le=1000)]
    name: Annotated[str, Meta(max_length=200)] = ""
    # The line's number within its order (unique in it), as events and staff name it.
    # Optional for older senders: the store then numbers lines by position from 1.
    line: Annotated[int, Meta(ge=1, le=1000)] | None = None


class PickupOrder(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """A click-&-collect order for this store; `version` grows with every change at HQ.

    Head office sends `placed` (a new or changed order) or `cancelled`; the other
    statuses are accepted from older senders and read as `placed`. Line states
    (picked, ready, collected, ...) are the store's own and never taken from HQ.
    """

    order: Annotated[str, Meta(min_length=1, max_length=64)]
    version: Annotated[int, Meta(ge=1)]
    status: Literal["placed", "in_transit", "ready", "handed_over", "no_show", "cancelled"]
    code: Annotated[str, Meta(max_length=64)] = ""
    lines: Annotated[list[OrderLine], Meta(max_length=100)] = []
    promised_at: Annotated[str, Meta(max_length=30)] = ""
    delay_note: Annotated[str, Meta(max_length=200)] = ""
    # Personal data, for the greeting and the hand-over check: the store deletes it
    # when the order ends (collected, expired, cancelled).
    first_name: Annotated[str, Meta(max_length=100)] = ""
    # Pick-up-by = ready time + hold_days, at the end of that local calendar day.
    hold_days: Annotated[int, Meta(ge=1, le=60)] = 7


class OrdersUpdate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`down/orders`: new or changed pick-up orders."""

    v: Literal[1]
    orders: Annotated[list[PickupOrder], Meta(max_length=5000)]


# --- recognition lookups: kiosk → `up/lookup`, head office → `down/lookup/{req}` ----------

# A request id is a topic level of the reply (`down/lookup/{req}`), so no `/`, `+` or `#`.
REQ_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
RequestId = Annotated[str, Meta(pattern=REQ_RE.pattern)]
Pseudonym = Annotated[str, Meta(pattern=r"^[0-9a-f]{64}$")]
KeyId = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
# Bounds the broker discards an unanswered request or reply after (MQTT v5 message
# expiry): a lookup is worth something for the kiosk's 1 s and no longer.
LOOKUP_EXPIRY_S = 5
MAX_LOOKUP_BYTES = 1024
MAX_REPLY_ITEMS = 50


class LookupRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`up/lookup`: the kiosk asks who a scanned card's pseudonym belongs to."""

    v: Literal[1]
    req: RequestId
    key_id: KeyId
    pseudonym: Pseudonym
    sent_at: Annotated[str, Meta(max_length=30)]


class LookupReply(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`down/lookup/{req}`: what a shared kiosk screen may show, or only `known: false`.

    Never a loyalty number, e-mail, address or customer id: a first name, product ids
    and open pick-up order codes, and nothing at all (not even why) when the shopper
    is unknown or has not consented to in-store recognition.
    """

    v: Literal[1]
    req: RequestId
    known: bool
    first_name: Annotated[str, Meta(max_length=100)] = ""
    wishlist: Annotated[list[Sku], Meta(max_length=MAX_REPLY_ITEMS)] = []
    recently_viewed: Annotated[list[Sku], Meta(max_length=MAX_REPLY_ITEMS)] = []
    open_orders: Annotated[list[Annotated[str, Meta(max_length=64)]], Meta(max_length=20)] = []


def lookup_reply_topic(store: str, req: str) -> str:
    """`touchpoint/v1/{store}/down/lookup/{req}`."""
    return topic(store, "down", "lookup", req)


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


_catalog_dec = msgspec.json.Decoder(CatalogPart)
_stock_dec = msgspec.json.Decoder(StockPart)
_orders_dec = msgspec.json.Decoder(OrdersUpdate)


def decode_catalog_part(payload: bytes) -> CatalogPart:
    """Validate a `down/catalog/{part}` payload; raises WireError."""
    part = _decode(_catalog_dec, payload, "catalog")
    if part.part >= part.parts:
        raise WireError(f"catalog part {part.part} of {part.parts}")
    return part


def decode_stock_part(payload: bytes) -> StockPart:
    """Validate a `down/stock/{part}` payload; raises WireError."""
    part = _decode(_stock_dec, payload, "stock")
    if part.part >= part.parts:
        raise WireError(f"stock part {part.part} of {part.parts}")
    return part


def decode_orders(payload: bytes) -> OrdersUpdate:
    """Validate a `down/orders` payload; raises WireError."""
    return _decode(_orders_dec, payload, "orders")


def decode_state(payload: bytes) -> StoreState:
    """Validate an `up/state` payload; raises WireError."""
    state: StoreState = _decode(_state_dec, payload, "state")
    # A NUL cannot be stored as text (PostgreSQL) and no real boot id or version has one.
    if "\x00" in state.boot_id or "\x00" in state.version:
        raise WireError("state: boot_id or version holds a NUL character")
    return state


def decode_ack(payload: bytes) -> Ack:
    """Validate a `down/ack` payload; raises WireError."""
    return _decode(_ack_dec, payload, "ack")


def decode_command(payload: bytes) -> Command:
    """Validate a `down/cmd` payload; raises WireError."""
    return _decode(_cmd_dec, payload, "command")


_lookup_dec = msgspec.json.Decoder(LookupRequest)
_reply_dec = msgspec.json.Decoder(LookupReply)


def decode_lookup(payload: bytes) -> LookupRequest:
    """Validate an `up/lookup` payload; raises WireError (the reason never quotes it)."""
    if len(payload) > MAX_LOOKUP_BYTES:
        raise WireError(f"lookup of {len(payload)} bytes exceeds {MAX_LOOKUP_BYTES}")
    return _decode(_lookup_dec, payload, "lookup")


def decode_lookup_reply(payload: bytes) -> LookupReply:
    """Validate a `down/lookup/{req}` payload; raises WireError."""
    return _decode(_reply_dec, payload, "lookup reply")


# --- head office's alerts: `touchpoint/v1/{store}/alerts` (hq/alerts.py) ---------------


class AlertItem(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One open alert of a store (docs/wire.md lists the kinds)."""

    kind: Annotated[str, Meta(max_length=32)]
    subject: Annotated[str, Meta(max_length=64)]  # a door, a local date, or ''
    raised_at: Annotated[str, Meta(max_length=30)]
    detail: Annotated[str, Meta(max_length=500)]


class StoreAlerts(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`alerts` (retained): every open alert of the store; `[]` once all have cleared."""

    v: Literal[1]
    store: StoreId
    alerts: list[AlertItem]


_alerts_dec = msgspec.json.Decoder(StoreAlerts)


def alerts_topic(store: str) -> str:
    """`touchpoint/v1/{store}/alerts` (`_chain` for alerts that belong to no store)."""
    return topic(store, "alerts")


def decode_alerts(payload: bytes) -> StoreAlerts:
    """Validate an `alerts` payload; raises WireError."""
    return _decode(_alerts_dec, payload, "alerts")
