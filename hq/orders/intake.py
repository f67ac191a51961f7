"""How orders come in: the `hq import orders` kind, and `accept` for the web shop's API.

Both check each order with `records.parse_order` and write with `writer.write_orders`
in one transaction, so a file and an API request follow the same rules and give the
same reasons.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from edge.identity import Pseudonymiser
from edge.visits import format_ts
from hq.db import Db
from hq.imports.fields import Bad
from hq.imports.runner import Kind
from hq.orders.records import FIELDS, OrderRecord, parse_order
from hq.orders.writer import Outcome, counts_of, write_orders
from hq.storage import HqStore


@dataclass(frozen=True)
class OrderRules:
    """What an incoming order is checked and stored with (from the `[orders]` config)."""

    pseudonymiser: Pseudonymiser
    code_prefix: str = "TPO-"
    hold_days: int = 7


def rules_from_config(cfg, keys: dict[str, bytes]) -> OrderRules:
    """OrderRules of an HQ config, given the chain keys read from their secret files."""
    return OrderRules(
        Pseudonymiser(keys, cfg.identity.active_key),
        cfg.orders.code_prefix,
        cfg.orders.hold_days,
    )


def _now() -> str:
    return format_ts(datetime.now(UTC))


def order_kind(store: HqStore, rules: OrderRules) -> Kind:
    """The import runner's parse/batch/write triple for orders."""
    db = Db(store)

    def write(records: list[OrderRecord], now: str):
        with db.tx() as tx:
            return counts_of(write_orders(tx, records, now, rules.hold_days))

    return Kind(
        lambda row, line: parse_order(row, line, rules.pseudonymiser, rules.code_prefix),
        # A code named twice in one batch: the second row is checked against the first.
        lambda r: (r.order_id, f"code|{r.store}|{r.code}") if r.code else (r.order_id,),
        write,
    )


def accept(
    db: Db, objects: list, rules: OrderRules, now: Callable[[], str] = _now
) -> list[Outcome]:
    """Check and store orders sent as JSON objects (`POST /api/v1/orders`), in one transaction.

    One outcome per object, in order, `line` being its place in the list from 1:
    imported (new or changed: `version` is the new version, on its way to the store),
    unchanged, or rejected with the reason. Fields are those of `hq import orders`.
    """
    records: list[OrderRecord] = []
    out: dict[int, Outcome] = {}
    for n, obj in enumerate(objects, start=1):
        try:
            if not isinstance(obj, dict):
                raise Bad("not a JSON object")
            unknown = sorted(set(obj) - set(FIELDS))
            if unknown:
                raise Bad(f"unknown field {unknown[0]!r}")
            records.append(parse_order(obj, n, rules.pseudonymiser, rules.code_prefix))
        except Bad as exc:
            order_id = obj.get("order_id") if isinstance(obj, dict) else None
            out[n] = Outcome(
                n, order_id if isinstance(order_id, str) else "", "rejected", 0, str(exc)
            )
    if records:
        with db.tx() as tx:
            for outcome in write_orders(tx, records, now(), rules.hold_days):
                out[outcome.line] = outcome
    return [out[n] for n in sorted(out)]
