"""Transaction rows (`hq import transactions`): POS receipts and online orders, pure.

A return is stored with a negative net amount whatever sign the file gives, so a
sum of net_cents is net sales. The loyalty number is pseudonymised under every key.
"""

from __future__ import annotations

import msgspec

from edge.identity import Pseudonymiser
from hq.imports.fields import Bad, cents, external_id, integer, moment, store_id, text
from hq.imports.profiles import loyalty_keys

ONLINE = "online"
TYPES = ("sale", "return")
# Column order of hq_transactions (without updated_at), the order `values()` gives.
COLUMNS = ("id", "store", "ts", "type", "net_cents", "currency", "items")


class TransactionRecord(msgspec.Struct, frozen=True):
    """A transaction ready to store; `keys` are (key_id, pseudonym) of its loyalty number."""

    line: int
    id: str
    store: str
    ts: str
    type: str
    net_cents: int
    currency: str
    items: int
    keys: tuple[tuple[str, str], ...]

    def values(self) -> tuple:
        """The row in COLUMNS order."""
        return (self.id, self.store, self.ts, self.type, self.net_cents, self.currency, self.items)


def parse_transaction(
    row: dict, line: int, pseudonymiser: Pseudonymiser, currency: str
) -> TransactionRecord:
    """One input row as a TransactionRecord; raises Bad with the reason."""
    txn_id = external_id(row, "id")
    store = ONLINE if row.get("store") == ONLINE else store_id(row)
    kind = text(row, "type", max_len=20)
    if kind not in TYPES:
        raise Bad(f"type: {kind!r} is not sale or return")
    net = cents(row, "net_amount")
    if kind == "sale" and net < 0:
        raise Bad("net_amount: a sale cannot be negative (use type return)")
    given = text(row, "currency", max_len=10)
    if given != currency:
        raise Bad(f"currency: {given!r} is not the chain currency {currency}")
    return TransactionRecord(
        line=line,
        id=txn_id,
        store=store,
        ts=moment(row, "ts", date_ok=False),
        type=kind,
        net_cents=-abs(net) if kind == "return" else net,
        currency=currency,
        items=integer(row, "items", hi=100_000),
        keys=tuple(sorted(loyalty_keys(pseudonymiser, row))),
    )
