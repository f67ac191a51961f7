"""The shopper's status of an order at head office: the same words the kiosk shows.

`order_status` reads the order's state as the order worker keeps it (from the store's
events) and words it with `edge.pickup.shopper_text`, dates in the pick-up store's
time zone. What it returns is safe for a public track & trace page: no pick-up code,
first name, pseudonym, loyalty number or customer id.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any
from zoneinfo import ZoneInfo

from edge.pickup import Lang, OrderSummary, shopper_text
from edge.visits import parse_ts
from hq.db import Db
from hq.facts import UTC_ZONE

LANGS: tuple[Lang, ...] = ("nl", "en")


@dataclass(frozen=True)
class OrderStatus:
    """An order's status for the shopper."""

    order_id: str
    store: str
    state: str  # edge/pickup.py OrderState
    text: str  # in `lang`, plain words, never a system state
    lang: str
    lines_total: int
    lines_ready: int
    lines_collected: int
    pickup_by: str | None  # local time with offset
    collected_at: str | None  # the latest hand-over, local time with offset
    version: int

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (`hq order-status --json`, the web API)."""
        return asdict(self)


def order_status(db: Db, order_id: str, lang: Lang = "nl") -> OrderStatus | None:
    """The order's status worded in `lang` ('nl' or 'en'); None for an order head office lacks."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}")
    rows = db.q(
        "SELECT o.store, o.state, o.pickup_by, o.collected_at, o.version, r.timezone"
        " FROM hq_orders o LEFT JOIN hq_store_registry r ON r.store = o.store"
        " WHERE o.order_id = ?",
        (order_id,),
    )
    if not rows:
        return None
    store, state, by, collected, version, zone = rows[0]
    tz = ZoneInfo(zone) if zone else UTC_ZONE
    lines = [s for (s,) in db.q("SELECT state FROM hq_order_lines WHERE order_id = ?", (order_id,))]
    pickup_by = parse_ts(by).astimezone(tz) if by else None
    collected_at = parse_ts(collected).astimezone(tz) if collected else None
    summary = OrderSummary(
        state=state,
        lines_total=len(lines),
        lines_ready=lines.count("ready"),
        lines_collected=lines.count("collected"),
        pickup_by=pickup_by,
        collected_at=collected_at,
    )
    return OrderStatus(
        order_id=order_id,
        store=store,
        state=state,
        text=shopper_text(summary, lang, tz),
        lang=lang,
        lines_total=summary.lines_total,
        lines_ready=summary.lines_ready,
        lines_collected=summary.lines_collected,
        pickup_by=pickup_by.isoformat() if pickup_by else None,
        collected_at=collected_at.isoformat() if collected_at else None,
        version=int(version),
    )


def open_order_codes(db: Db, store: str, key_id: str, pseudonym: str, limit: int = 20) -> list[str]:
    """Pick-up codes of the open orders at `store` placed with this card (a kiosk greeting)."""
    return [
        code
        for (code,) in db.q(
            "SELECT o.code FROM hq_order_keys k JOIN hq_orders o ON o.order_id = k.order_id"
            " WHERE k.key_id = ? AND k.pseudonym = ? AND o.store = ? AND o.status = 'placed'"
            " AND o.state NOT IN ('collected', 'expired', 'cancelled') AND o.code <> ''"
            " ORDER BY o.promised_at, o.order_id LIMIT ?",
            (key_id, pseudonym, store, limit),
        )
    ]
