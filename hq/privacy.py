"""GDPR at head office: expiry of unconsented pseudonyms, erasure, and the right of access.

- `expire_pseudonyms`: a visit's pseudonym is deleted once the visit has been at head
  office for `ttl_h` without a consented link (docs/identity.md). Its identified
  purchases are counted first and kept as a number, so the feeds do not change.
- `forget`: a profile, its pseudonyms (under every key), its visit links and the
  pseudonyms on its receipts and pick-up orders (and their first names) are deleted; the visits and receipts stay as anonymous
  counts. The affected days are recomputed by the rollup. Deleted rows are then
  overwritten on disk (`checkpoint`), so a byte search finds none of them.
- `export_subject`: everything head office holds about one customer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from edge.events import PERSONAL_TYPES
from edge.visits import format_ts
from hq.db import Db, Tx
from hq.facts import Windows, identified_purchases


@dataclass
class Erased:
    """What `forget` removed."""

    profile: bool
    pseudonyms: int
    visits: int
    receipts: int
    activity: int


def expire_pseudonyms(db: Db, ttl_h: float, now: float, windows: Windows | None = None) -> int:
    """Delete the pseudonyms of unlinked visits received more than `ttl_h` ago; how many."""
    windows = windows or Windows()
    cutoff = format_ts(datetime.fromtimestamp(now, UTC) - timedelta(hours=ttl_h))
    rows = db.q(
        "SELECT store, seq, ts, key_id, pseudonym FROM hq_visits WHERE pseudonym IS NOT NULL"
        " AND customer_id IS NULL AND received_at < ? ORDER BY received_at LIMIT 10000",
        (cutoff,),
    )
    if not rows:
        return 0
    frozen = [
        (identified_purchases(db, store, key_id, pseudonym, ts, windows), store, seq)
        for store, seq, ts, key_id, pseudonym in rows
    ]
    with db.tx() as tx:
        tx.executemany(
            "UPDATE hq_visits SET pseudonym = NULL, purchases = ? WHERE store = ? AND seq = ?"
            " AND customer_id IS NULL",
            frozen,
        )
    return len(rows)


ERASED = '{"erased":"retention"}'


def expire_personal_events(db: Db, days: float, now: float) -> int:
    """Blank the data of personal events (an order's contact details) received `days` ago.

    The store deletes them once head office has them (edge/personal.py); head office
    keeps them only as long as an order needs them. The event stays (its seq keeps the
    store's numbering whole), its data does not.
    """
    cutoff = format_ts(datetime.fromtimestamp(now, UTC) - timedelta(days=days))
    types = ", ".join(f"'{t}'" for t in PERSONAL_TYPES)
    with db.tx() as tx:
        rows = tx.execute(
            f"SELECT store, seq FROM hq_events WHERE type IN ({types}) AND received_at < ?"
            " AND data <> ?",
            (cutoff, ERASED),
        )
        tx.executemany(
            "UPDATE hq_events SET data = ? WHERE store = ? AND seq = ?",
            [(ERASED, store, seq) for store, seq in rows],
        )
    return len(rows)


def forget(db: Db, customer: str, windows: Windows | None = None) -> Erased:
    """Erase one customer (the right to erasure); the feeds recompute without the links."""
    windows = windows or Windows()
    keys = db.q("SELECT key_id, pseudonym FROM hq_profile_keys WHERE customer_id = ?", (customer,))
    visits = db.q(
        "SELECT store, seq, ts, key_id, pseudonym FROM hq_visits WHERE customer_id = ?",
        (customer,),
    )
    for key_id, pseudonym in keys:
        visits += db.q(
            "SELECT store, seq, ts, key_id, pseudonym FROM hq_visits"
            " WHERE key_id = ? AND pseudonym = ?",
            (key_id, pseudonym),
        )
    visits = sorted(set(visits))
    frozen = [
        (
            identified_purchases(db, store, key_id, pseudonym, ts, windows) if pseudonym else 0,
            store,
            seq,
        )
        for store, seq, ts, key_id, pseudonym in visits
    ]
    with db.tx() as tx:
        profile = bool(tx.execute("SELECT 1 FROM hq_profiles WHERE customer_id = ?", (customer,)))
        tx.executemany(
            "UPDATE hq_visits SET pseudonym = NULL, customer_id = NULL, purchases = ?"
            " WHERE store = ? AND seq = ?",
            frozen,
        )
        receipts = _delete_receipt_keys(tx, keys)
        activity = len(
            tx.execute("SELECT at FROM hq_online_activity WHERE customer_id = ?", (customer,))
        )
        tx.execute("DELETE FROM hq_online_activity WHERE customer_id = ?", (customer,))
        tx.execute("DELETE FROM hq_profile_keys WHERE customer_id = ?", (customer,))
        tx.execute("DELETE FROM hq_profiles WHERE customer_id = ?", (customer,))
        tx.executemany(
            "INSERT INTO hq_dirty (store, hour) VALUES (?, ?)",
            sorted({(store, ts[:13]) for store, _seq, ts, _k, _p in visits}),
        )
    db.store.checkpoint()
    return Erased(profile, len(keys), len(visits), receipts, activity)


def _delete_receipt_keys(tx: Tx, keys: list[tuple]) -> int:
    """Delete the pseudonyms of the customer's receipts and pick-up orders; receipts touched."""
    n = 0
    for key_id, pseudonym in keys:
        tx.execute(  # the first name on the customer's pick-up orders goes too
            "UPDATE hq_orders SET first_name = '' WHERE order_id IN"
            " (SELECT order_id FROM hq_order_keys WHERE key_id = ? AND pseudonym = ?)",
            (key_id, pseudonym),
        )
        n += len(
            tx.execute(
                "SELECT txn_id FROM hq_transaction_keys WHERE key_id = ? AND pseudonym = ?",
                (key_id, pseudonym),
            )
        )
        for table in ("hq_transaction_keys", "hq_order_keys"):
            tx.execute(
                f"DELETE FROM {table} WHERE key_id = ? AND pseudonym = ?", (key_id, pseudonym)
            )
    return n


def export_subject(db: Db, customer: str) -> dict[str, Any] | None:
    """What head office holds about one customer (the right of access); None if nothing."""
    rows = db.q(
        "SELECT first_name, recognition, recognition_at, marketing, marketing_at,"
        " last_online_at, wishlist, recently_viewed, updated_at FROM hq_profiles"
        " WHERE customer_id = ?",
        (customer,),
    )
    keys = db.q(
        "SELECT key_id, pseudonym, kind FROM hq_profile_keys WHERE customer_id = ?"
        " ORDER BY kind, key_id",
        (customer,),
    )
    if not rows and not keys:
        return None
    out: dict[str, Any] = {"customer_id": customer}
    if rows:
        (first, rec, rec_at, mkt, mkt_at, last, wish, recent, updated) = rows[0]
        out["profile"] = {
            "first_name": first,
            "consents": {
                "instore_recognition": {"status": rec, "at": rec_at},
                "marketing": {"status": mkt, "at": mkt_at},
            },
            "last_online_at": last,
            "wishlist": json.loads(wish),
            "recently_viewed": json.loads(recent),
            "updated_at": updated,
        }
    out["pseudonyms"] = [{"key_id": k, "pseudonym": p, "kind": kind} for k, p, kind in keys]
    visits, receipts, orders = [], [], []
    for key_id, pseudonym, _kind in keys:
        orders += db.q(
            "SELECT o.order_id, o.store, o.state, o.promised_at, o.created_at FROM hq_orders o"
            " JOIN hq_order_keys k ON k.order_id = o.order_id"
            " WHERE k.key_id = ? AND k.pseudonym = ?",
            (key_id, pseudonym),
        )
        visits += db.q(
            "SELECT store, ts, customer_id FROM hq_visits WHERE key_id = ? AND pseudonym = ?",
            (key_id, pseudonym),
        )
        receipts += db.q(
            "SELECT t.id, t.store, t.ts, t.type, t.net_cents, t.currency FROM hq_transactions t"
            " JOIN hq_transaction_keys k ON k.txn_id = t.id WHERE k.key_id = ? AND k.pseudonym = ?",
            (key_id, pseudonym),
        )
    visits += db.q(
        "SELECT store, ts, customer_id FROM hq_visits WHERE customer_id = ?", (customer,)
    )
    out["store_visits"] = [
        {"store": s, "ts": ts, "linked_to_profile": c is not None}
        for s, ts, c in sorted(set(visits))
    ]
    out["transactions"] = [
        {"id": i, "store": s, "ts": ts, "type": t, "net_cents": int(n), "currency": cur}
        for i, s, ts, t, n, cur in sorted(set(receipts))
    ]
    out["pickup_orders"] = [
        {"order_id": o, "store": s, "state": st, "promised_at": pr, "created_at": c}
        for o, s, st, pr, c in sorted(set(orders))
    ]
    out["online_activity"] = [
        at
        for (at,) in db.q(
            "SELECT at FROM hq_online_activity WHERE customer_id = ? ORDER BY at", (customer,)
        )
    ]
    return out
