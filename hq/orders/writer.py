"""Pick-up orders into head office's database: one batch in one transaction, both backends.

Idempotent by order id: an order exactly as stored is counted unchanged and not
written. A new order gets version 1; a change (a cancellation, other lines, a new
promised time) raises its version. Either way the version is queued in
`hq_order_outbox` in the same transaction, for `hq run` to send to the pick-up store
(hq/orders/router.py). Refused, with the reason: an unregistered store, a pick-up code
another open order of the store already uses, a move to another store, a change to an
order that has ended, a cancellation of an unknown order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from hq.db import Db, Tx
from hq.orders.records import Line, OrderRecord
from hq.storage import ImportCounts

# Order states that end an order (edge/pickup.py): nothing about it changes any more.
ENDED = ("collected", "expired", "cancelled")
FIRST_STATE = "preparing"
_CHUNK = 500


@dataclass(frozen=True)
class Stored:
    """What head office holds of one order, as the writer compares it."""

    store: str
    version: int
    status: str
    code: str
    promised_at: str
    first_name: str
    state: str
    lines: tuple[Line, ...]
    hold_days: int = 7
    picking: bool = False  # the store has reported picking (a line no longer to_pick)

    @property
    def ended(self) -> bool:
        """Whether the order is over (collected, expired or cancelled)."""
        return self.state in ENDED or self.status == "cancelled"


def chunks(values: list, size: int = _CHUNK) -> Iterator[list]:
    """`values` in slices of at most `size`."""
    for i in range(0, len(values), size):
        yield values[i : i + size]


def marks(n: int) -> str:
    """`?, ?, …` for n values."""
    return ", ".join("?" * n)


def stored_orders(tx: Tx | Db, ids: Iterable[str]) -> dict[str, Stored]:
    """order id -> Stored, for those of `ids` head office holds."""
    ids = sorted(set(ids))
    heads: dict[str, tuple] = {}
    lines: dict[str, list[Line]] = {}
    picking: set[str] = set()
    for part in chunks(ids):
        for row in tx.q(
            "SELECT order_id, store, version, status, code, promised_at, first_name, state,"
            f" hold_days FROM hq_orders WHERE order_id IN ({marks(len(part))})",
            part,
        ):
            heads[row[0]] = row[1:]
        for order_id, line, sku, qty, state in tx.q(
            "SELECT order_id, line, sku, qty, state FROM hq_order_lines"
            f" WHERE order_id IN ({marks(len(part))}) ORDER BY order_id, line",
            part,
        ):
            lines.setdefault(order_id, []).append(Line(int(line), sku, int(qty)))
            if state != "to_pick":
                picking.add(order_id)
    return {
        oid: Stored(
            *h[:1], int(h[1]), *h[2:7], tuple(lines.get(oid, ())), int(h[7]), oid in picking
        )
        for oid, h in heads.items()
    }


def _registered(tx: Tx, stores: set[str]) -> set[str]:
    found: set[str] = set()
    for part in chunks(sorted(stores)):
        found |= {
            r[0]
            for r in tx.execute(
                f"SELECT store FROM hq_store_registry WHERE store IN ({marks(len(part))})", part
            )
        }
    return found


def _code_owner(tx: Tx, store: str, code: str, order_id: str) -> str | None:
    """Another order of `store` still open that uses `code` (check-in would be ambiguous)."""
    rows = tx.execute(
        "SELECT order_id FROM hq_orders WHERE store = ? AND code = ? AND order_id <> ?"
        f" AND status = 'placed' AND state NOT IN ({marks(len(ENDED))}) LIMIT 1",
        (store, code, order_id, *ENDED),
    )
    return rows[0][0] if rows else None


def _same(rec: OrderRecord, old: Stored) -> bool:
    """Whether a placed row says what is stored (a blanked first name is not a change)."""
    name_same = rec.first_name == old.first_name or (old.ended and old.first_name == "")
    return (
        old.status == "placed"
        and name_same
        and (rec.code, rec.promised_at, rec.lines) == (old.code, old.promised_at, old.lines)
    )


def _refusal(rec: OrderRecord, old: Stored | None, tx: Tx) -> str | None:
    """Why this row cannot be applied, or None."""
    if rec.status == "cancelled":
        if old is None:
            return f"order_id: {rec.order_id!r} is not known at head office (nothing to cancel)"
        if old.state in ("collected", "expired"):
            return f"order_id: {rec.order_id!r} has already ended ({old.state}): too late to cancel"
        return None
    if old is not None and old.store != rec.store:
        return (
            f"store: order {rec.order_id!r} is for {old.store!r}; an order cannot move"
            " (cancel it and import a new order)"
        )
    if old is not None and old.ended and not _same(rec, old):
        what = "cancelled" if old.status == "cancelled" else old.state
        return f"order_id: {rec.order_id!r} has ended ({what}): it can no longer change"
    if old is not None and old.lines != rec.lines and old.picking:
        return f"lines: picking has started at {old.store}: the lines of {rec.order_id!r} stay as they are"
    owner = _code_owner(tx, rec.store, rec.code, rec.order_id)
    if owner is not None:
        return (
            f"code: {rec.code!r} is already the pick-up code of open order {owner!r} at {rec.store}"
        )
    return None


@dataclass(frozen=True)
class Outcome:
    """What became of one order row: imported (new or changed), unchanged, or rejected."""

    line: int
    order_id: str
    result: str  # 'imported' | 'unchanged' | 'rejected'
    version: int = 0  # the order's version now (0 when rejected and unknown)
    reason: str = ""
    new: bool = False  # imported as a new order (version 1)
    # Rejected because of what head office already holds (an ended order, a move, lines
    # frozen by picking, a code in use), not because the row itself is bad.
    conflict: bool = False


def counts_of(outcomes: list[Outcome]) -> ImportCounts:
    """The import runner's counts of a batch's outcomes."""
    return ImportCounts(
        imported=sum(o.result == "imported" for o in outcomes),
        unchanged=sum(o.result == "unchanged" for o in outcomes),
        rejected=[(o.line, o.reason) for o in outcomes if o.result == "rejected"],
    )


def write_orders(tx: Tx, records: list[OrderRecord], now: str, hold_days: int) -> list[Outcome]:
    """Apply a batch of orders in the caller's transaction; one outcome a record."""
    out: list[Outcome] = []
    known = _registered(tx, {r.store for r in records if r.status == "placed"})
    stored = stored_orders(tx, [r.order_id for r in records])
    for rec in records:
        old = stored.get(rec.order_id)
        conflict = False
        if rec.status == "placed" and rec.store not in known:
            reason: str | None = (
                f"store: {rec.store!r} is not in the store registry (hq import stores)"
            )
        else:
            reason = _refusal(rec, old, tx)
            conflict = not (rec.status == "cancelled" and old is None)
        if reason is not None:
            version = old.version if old else 0
            out.append(
                Outcome(rec.line, rec.order_id, "rejected", version, reason, False, conflict)
            )
            continue
        keys_changed = rec.status == "placed" and _replace_keys(tx, rec)
        if old is not None and (
            (rec.status == "cancelled" and old.status == "cancelled")
            or (rec.status == "placed" and _same(rec, old))
        ):
            result = "imported" if keys_changed else "unchanged"
            out.append(Outcome(rec.line, rec.order_id, result, old.version))
            continue
        version = 1 if old is None else old.version + 1
        if rec.status == "cancelled":
            tx.execute(
                "UPDATE hq_orders SET status = 'cancelled', version = ?, updated_at = ?"
                " WHERE order_id = ?",
                (version, now, rec.order_id),
            )
            store = old.store  # type: ignore[union-attr]
        else:
            _upsert(tx, rec, version, now, hold_days)
            store = rec.store
        queue_order(tx, rec.order_id, store, version)
        # What the next row of this order in the same call (an API request) compares with.
        stored[rec.order_id] = (
            replace(old, version=version, status="cancelled")
            if old is not None and rec.status == "cancelled"
            else Stored(
                rec.store, version, rec.status, rec.code, rec.promised_at, rec.first_name,
                old.state if old else FIRST_STATE, rec.lines, hold_days,
                old.picking if old else False,
            )
        )  # fmt: skip
        out.append(Outcome(rec.line, rec.order_id, "imported", version, new=old is None))
    return out


def _upsert(tx: Tx, rec: OrderRecord, version: int, now: str, hold_days: int) -> None:
    tx.execute(
        "INSERT INTO hq_orders (order_id, store, origin, version, status, code, promised_at,"
        " first_name, hold_days, state, created_at, updated_at)"
        " VALUES (?, ?, NULL, ?, 'placed', ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (order_id) DO UPDATE SET version = excluded.version,"
        " code = excluded.code, promised_at = excluded.promised_at,"
        " first_name = excluded.first_name, updated_at = excluded.updated_at",
        (rec.order_id, rec.store, version, rec.code, rec.promised_at, rec.first_name,
         hold_days, FIRST_STATE, now, now),
    )  # fmt: skip
    write_lines(tx, rec.order_id, rec.lines)


def write_lines(tx: Tx, order_id: str, lines: tuple[Line, ...]) -> None:
    """Make `lines` the order's lines (their states are recomputed from the store's events)."""
    tx.execute("DELETE FROM hq_order_lines WHERE order_id = ?", (order_id,))
    tx.executemany(
        "INSERT INTO hq_order_lines (order_id, line, sku, qty, state) VALUES (?, ?, ?, ?, 'to_pick')",
        [(order_id, ln.line, ln.sku, ln.qty) for ln in lines],
    )


def _replace_keys(tx: Tx, rec: OrderRecord) -> bool:
    """Make the row's pseudonyms the order's; whether they changed."""
    old = {
        (k, p)
        for k, p in tx.execute(
            "SELECT key_id, pseudonym FROM hq_order_keys WHERE order_id = ?", (rec.order_id,)
        )
    }
    if old == set(rec.keys):
        return False
    tx.execute("DELETE FROM hq_order_keys WHERE order_id = ?", (rec.order_id,))
    tx.executemany(
        "INSERT INTO hq_order_keys (order_id, key_id, pseudonym) VALUES (?, ?, ?)",
        [(rec.order_id, k, p) for k, p in rec.keys],
    )
    return True


def queue_order(tx: Tx, order_id: str, store: str, version: int) -> None:
    """Queue `version` of an order for its store's down/orders, and its state for a recompute."""
    tx.execute(
        "INSERT INTO hq_order_outbox (order_id, store, version) VALUES (?, ?, ?)"
        " ON CONFLICT (order_id) DO UPDATE SET store = excluded.store, version = excluded.version",
        (order_id, store, version),
    )
    tx.execute("INSERT INTO hq_order_dirty (order_id) VALUES (?)", (order_id,))
