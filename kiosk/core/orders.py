"""Placing an order at the kiosk: pick-up here, at another store, or home delivery.

An order becomes two events on the store's event log:

- `order.placed`: what was ordered and how it is fulfilled; no personal data, kept
  for the normal retention period;
- `order.contact`: the shopper's name, e-mail and (for delivery) address. It travels
  to head office like every event, and the agent deletes it as soon as head office
  has acknowledged it (`edge.personal.purge_acknowledged`), so the store keeps
  personal data no longer than that.

The order code (with the configured pick-up prefix, so the store's scanners classify
it as a pick-up code) is what the shopper shows at the till and at pick-up.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Literal

import uuid_utils

from edge.events import OrderContact, OrderLine, OrderPlaced, Payload
from kiosk.core.products import Product

Fulfilment = Literal["pickup_here", "pickup_other", "delivery"]
# Crockford's base32 without I, L, O, U: nothing a shopper reads aloud wrongly.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
POSTCODE_NL = re.compile(r"^\d{4}\s?[A-Za-z]{2}$")


@dataclass(frozen=True)
class Contact:
    """What the shopper typed on the on-screen keyboard (wiped after the order)."""

    name: str = ""
    email: str = ""
    street: str = ""
    postcode: str = ""
    city: str = ""

    def problems(self, fulfilment: Fulfilment) -> list[str]:
        """The fields that are missing or malformed (field names, for the form to mark)."""
        bad = []
        if not 1 <= len(self.name.strip()) <= 100:
            bad.append("name")
        if not EMAIL.match(self.email.strip()):
            bad.append("email")
        if fulfilment == "delivery":
            if not 1 <= len(self.street.strip()) <= 200:
                bad.append("street")
            if not POSTCODE_NL.match(self.postcode.strip()):
                bad.append("postcode")
            if not 1 <= len(self.city.strip()) <= 100:
                bad.append("city")
        return bad


@dataclass(frozen=True)
class OrderRequest:
    """A basket ready to order."""

    lines: tuple[tuple[Product, int], ...]
    fulfilment: Fulfilment
    contact: Contact
    pickup_store: str | None = None


@dataclass(frozen=True)
class PlacedOrder:
    """What the confirmation screen shows."""

    order_id: str
    code: str
    total_cents: int
    fulfilment: Fulfilment
    pickup_store: str | None = None


class OrderError(ValueError):
    """An order that cannot be placed; `fields` names what the shopper must fix."""

    def __init__(self, fields: list[str]) -> None:
        super().__init__(", ".join(fields))
        self.fields = fields


def order_code(prefix: str, length: int = 8) -> str:
    """A fresh, readable pick-up code such as TPO-7K3M9Q2D."""
    return prefix + "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def build_order(
    req: OrderRequest,
    *,
    store: str,
    session: str | None,
    order_prefix: str,
    pseudonym: tuple[str, str] | None = None,
) -> tuple[PlacedOrder, list[Payload]]:
    """The placed order and its events; raises OrderError naming the fields to fix."""
    fields = req.contact.problems(req.fulfilment)
    if not req.lines:
        fields.append("lines")
    if req.fulfilment == "pickup_other" and not req.pickup_store:
        fields.append("pickup_store")
    if fields:
        raise OrderError(fields)
    order_id = str(uuid_utils.uuid7())
    code = order_code(order_prefix)
    lines = [OrderLine(sku=p.sku, qty=q, price_cents=p.current_price_cents) for p, q in req.lines]
    total = sum(line.qty * line.price_cents for line in lines)
    pickup_store = (
        store
        if req.fulfilment == "pickup_here"
        else req.pickup_store
        if req.fulfilment == "pickup_other"
        else None
    )
    placed = OrderPlaced(
        order=order_id,
        code=code,
        session=session,
        fulfilment="delivery" if req.fulfilment == "delivery" else "pickup",
        pickup_store=pickup_store,
        lines=lines,
        total_cents=total,
        pseudonym=pseudonym[0] if pseudonym else None,
        key_id=pseudonym[1] if pseudonym else None,
    )
    c = req.contact
    delivery = req.fulfilment == "delivery"
    contact = OrderContact(
        order=order_id,
        name=c.name.strip(),
        email=c.email.strip(),
        street=c.street.strip() if delivery else None,
        postcode=c.postcode.strip().upper() if delivery else None,
        city=c.city.strip() if delivery else None,
    )
    return PlacedOrder(order_id, code, total, req.fulfilment, pickup_store), [placed, contact]
