"""Every store event type, in one module used by the agent, the kiosk, the uplink and HQ.

An event is an envelope (`Event`: seq, id, type, ts, device, data, clock_ok,
boot_id) around a typed payload (`data`). Each payload type below declares its
wire name in ``TYPE``; `EVENT_TYPES` maps names to payload classes, so HQ can
validate an incoming event's data with `decode_data`.

Privacy: no payload has a field for a raw loyalty number or app token. Identified
scans carry only a `pseudonym` and the `key_id` that made it (DESIGN.md §5).
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

import msgspec
from msgspec import Meta

Count = Annotated[int, Meta(ge=1, le=1_000_000)]
Short = Annotated[str, Meta(max_length=200)]
Pseudonym = Annotated[str, Meta(pattern="^[0-9a-f]{64}$")]
ScanClass = Literal["loyalty", "app_token", "order_code", "gtin", "staff_badge", "unknown"]


class Payload(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of every event payload."""

    TYPE: ClassVar[str] = ""


class DoorCount(Payload, frozen=True, kw_only=True):
    """People crossing a door, as a delta from the sensor's cumulative totals."""

    TYPE: ClassVar[str] = "door.count"
    door: Short
    direction: Literal["in", "out"]
    count: Count
    sensor: Short
    directional: bool = True


class ScanEvent(Payload, frozen=True, kw_only=True):
    """A classified scan. Loyalty and app scans carry a pseudonym, never the raw code."""

    TYPE: ClassVar[str] = "scan"
    symbology: Short
    cls: ScanClass = msgspec.field(name="class")
    role: Literal["door", "kiosk", "counter"] = "door"
    pseudonym: Pseudonym | None = None
    key_id: Short | None = None
    # Only non-personal codes: a product GTIN or an order pick-up code.
    code: Short | None = None
    door: Short | None = None
    # Why an app token was refused (forged, expired, replayed, …); None when accepted.
    rejected: Short | None = None


class VisitIdentified(Payload, frozen=True, kw_only=True):
    """A recognised shopper's visit: at most one per pseudonym per visit window."""

    TYPE: ClassVar[str] = "visit.identified"
    pseudonym: Pseudonym
    key_id: Short
    window_start: Short
    via: Literal["loyalty", "app_token"]
    door: Short | None = None


class KioskSession(Payload, frozen=True, kw_only=True):
    """A kiosk session starting or ending (ending wipes everything on screen)."""

    TYPE: ClassVar[str] = "kiosk.session"
    session: Short
    action: Literal["start", "end"]
    identified: bool = False
    duration_s: Annotated[float, Meta(ge=0)] | None = None
    reason: Short | None = None


class KioskSearch(Payload, frozen=True, kw_only=True):
    """A search on the kiosk (query text is capped; it is not linked to a person)."""

    TYPE: ClassVar[str] = "kiosk.search"
    session: Short
    query: Annotated[str, Meta(max_length=100)]
    results: Annotated[int, Meta(ge=0)]


class KioskProductView(Payload, frozen=True, kw_only=True):
    """A product opened on the kiosk."""

    TYPE: ClassVar[str] = "kiosk.product_view"
    session: Short
    sku: Short
    in_stock_here: Annotated[int, Meta(ge=0)] | None = None


class OrderLine(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One line of an order."""

    sku: Short
    qty: Annotated[int, Meta(ge=1, le=1000)]
    price_cents: Annotated[int, Meta(ge=0)]


class OrderPlaced(Payload, frozen=True, kw_only=True):
    """An order placed at the kiosk, for pick-up or home delivery."""

    TYPE: ClassVar[str] = "order.placed"
    order: Short
    session: Short | None = None
    fulfilment: Literal["pickup", "delivery"]
    lines: Annotated[list[OrderLine], Meta(min_length=1, max_length=100)]
    total_cents: Annotated[int, Meta(ge=0)]
    pseudonym: Pseudonym | None = None
    key_id: Short | None = None
    # The code the shopper shows at the till and at pick-up (a pick-up code by prefix).
    code: Short | None = None
    # Store that hands a pick-up order over (this store or another); None for delivery.
    pickup_store: Short | None = None


class OrderContact(Payload, frozen=True, kw_only=True):
    """The shopper's contact details for an order: personal data.

    Kept on the store only until head office acknowledges it: the agent deletes
    acknowledged events of the types in `PERSONAL_TYPES` (edge/personal.py).
    """

    TYPE: ClassVar[str] = "order.contact"
    order: Short
    name: Annotated[str, Meta(min_length=1, max_length=100)]
    email: Short
    street: Short | None = None
    postcode: Annotated[str, Meta(max_length=10)] | None = None
    city: Annotated[str, Meta(max_length=100)] | None = None


class _PickupStep(Payload, frozen=True, kw_only=True):
    order: Short
    by: Literal["shopper", "staff", "system"] = "staff"


# A staff member as events name them: 16 hex digits of an HMAC of the staff id under
# the store's active chain key (kiosk/core/staff.py), never a name. Shorter than a
# shopper's pseudonym, so the two can never be taken for each other.
StaffPseudonym = Annotated[str, Meta(pattern="^[0-9a-f]{16}$")]
LineNo = Annotated[int, Meta(ge=1, le=1000)]
LineNos = Annotated[list[LineNo], Meta(max_length=100)]
# Local times the shopper was promised and may collect until (ISO-8601 with offset).
LocalTime = Annotated[str, Meta(max_length=40)]


class PickupCheckin(_PickupStep, frozen=True, kw_only=True):
    """A shopper said "I'm here" at the kiosk: scanned the pick-up QR or typed the code."""

    TYPE: ClassVar[str] = "pickup.checkin"
    via: Literal["scan", "code"] | None = None


class PickupLine(_PickupStep, frozen=True, kw_only=True):
    """Staff picked a line of an order from the shelf, or found it short (not there)."""

    TYPE: ClassVar[str] = "pickup.line"
    line: LineNo
    state: Literal["picked", "short"]
    staff: StaffPseudonym | None = None


class PickupReady(_PickupStep, frozen=True, kw_only=True):
    """Staff marked an order ready for pick-up (partly ready: lines_ready < lines_total)."""

    TYPE: ClassVar[str] = "pickup.ready"
    lines_ready: Annotated[int, Meta(ge=0, le=1000)] | None = None
    lines_total: Annotated[int, Meta(ge=0, le=1000)] | None = None
    promised_at: LocalTime | None = None
    pickup_by: LocalTime | None = None
    staff: StaffPseudonym | None = None


class PickupHandover(_PickupStep, frozen=True, kw_only=True):
    """Staff handed over (some of) an order's ready lines after checking its code."""

    TYPE: ClassVar[str] = "pickup.handover"
    lines: LineNos = []
    partial: bool = False
    # Handed over without these lines (not found, or not wanted after all): they went back
    # and the order ended with this hand-over (partial is then false). Empty otherwise.
    missing: LineNos = []
    # Seconds from the latest check-in to this hand-over; None without a check-in.
    wait_s: Annotated[float, Meta(ge=0)] | None = None
    staff: StaffPseudonym | None = None


class PickupNoShow(_PickupStep, frozen=True, kw_only=True):
    """An order was not collected by its pick-up-by time: its lines went back to stock."""

    TYPE: ClassVar[str] = "pickup.no_show"
    lines: LineNos = []


class PickupCancelled(_PickupStep, frozen=True, kw_only=True):
    """Head office's cancellation reached the store; `lines` were picked and go back."""

    TYPE: ClassVar[str] = "pickup.cancelled"
    lines: LineNos = []


class NpsResponse(Payload, frozen=True, kw_only=True):
    """A Net Promoter Score answer (0..10) at a touchpoint."""

    TYPE: ClassVar[str] = "nps.response"
    score: Annotated[int, Meta(ge=0, le=10)]
    touchpoint: Short
    session: Short | None = None


class DeviceStatus(Payload, frozen=True, kw_only=True):
    """A device or component's health changed (also used for store alarms like low disk)."""

    TYPE: ClassVar[str] = "device.status"
    state: Literal["connected", "disconnected", "error", "degraded", "ok", "alarm"]
    detail: Annotated[str, Meta(max_length=500)] = ""
    rejected: dict[str, int] = msgspec.field(default_factory=dict)


class ClockStep(Payload, frozen=True, kw_only=True):
    """The wall clock jumped (first NTP sync after boot, or a manual change).

    Events of the same `boot_id` stamped before this one are off by `offset_s`:
    head office adds it to their `ts` to re-base them (docs/architecture.md, Clock).
    """

    TYPE: ClassVar[str] = "clock.step"
    offset_s: float
    synced: bool


PAYLOADS: tuple[type[Payload], ...] = (
    DoorCount,
    ScanEvent,
    VisitIdentified,
    KioskSession,
    KioskSearch,
    KioskProductView,
    OrderPlaced,
    OrderContact,
    PickupCheckin,
    PickupLine,
    PickupReady,
    PickupHandover,
    PickupNoShow,
    PickupCancelled,
    NpsResponse,
    DeviceStatus,
    ClockStep,
)
EVENT_TYPES: dict[str, type[Payload]] = {p.TYPE: p for p in PAYLOADS}
# Event types holding personal data: deleted on the store once head office has them.
PERSONAL_TYPES: tuple[str, ...] = (OrderContact.TYPE,)

Iso = Annotated[str, Meta(pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")]
# A store's event number: what SQLite's INTEGER and PostgreSQL's bigint can hold, so a
# seq that the wire accepts can always be stored (a larger one would be a poison batch
# that fails the database on every redelivery).
MAX_SEQ = 2**63 - 1
Seq = Annotated[int, Meta(ge=1, le=MAX_SEQ)]


class Event(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The envelope stored in `events` and sent on `up/events`; `data` is the payload's JSON."""

    seq: Seq
    id: Annotated[str, Meta(min_length=36, max_length=36)]
    type: Short
    ts: Iso
    device: Short
    data: msgspec.Raw
    clock_ok: bool
    boot_id: Short


_encoder = msgspec.json.Encoder()
_decoders = {name: msgspec.json.Decoder(cls) for name, cls in EVENT_TYPES.items()}


def encode_data(payload: Payload) -> str:
    """The payload as compact JSON text (what the `data` column holds)."""
    return _encoder.encode(payload).decode()


def decode_data(type_name: str, raw: bytes | str) -> Payload:
    """Validate and decode a payload; raises ValueError naming what is wrong."""
    decoder = _decoders.get(type_name)
    if decoder is None:
        raise ValueError(f"unknown event type {type_name!r}")
    try:
        return decoder.decode(raw)
    except msgspec.DecodeError as exc:  # malformed JSON or a schema violation
        raise ValueError(f"{type_name}: {exc}") from None
