"""The import writes, one batch in one transaction, the same SQL on both backends.

Each `write_*` is handed a cursor inside the backend's write transaction and a
`Bulk` for its dialect (hq/imports/bulk.py). It reads what is stored for the
batch's ids, writes only the rows that differ (so a re-import is idempotent and
counted as unchanged), and records each changed row in `hq_changes` in the same
transaction, for the rollup to turn into dirty days.
"""

from __future__ import annotations

from typing import Any

from hq.imports import profiles, stores, transactions
from hq.imports.bulk import Bulk
from hq.imports.profiles import ProfileRecord
from hq.imports.stores import StoreRecord
from hq.imports.transactions import ONLINE, TransactionRecord
from hq.storage import ImportCounts

_CHANGE = ("kind", "key")
_KEY_COLUMNS = ("key_id", "pseudonym", "customer_id", "kind")


def _stored(cur: Any, bulk: Bulk, sql: str, column: str, ids: list) -> list[tuple]:
    """Rows of `sql` (… WHERE {cond}) whose `column` is one of `ids`."""
    return cur.execute(sql.format(cond=bulk.in_list(column)), (bulk.list_param(ids),)).fetchall()


def _stored_rows(
    cur: Any, bulk: Bulk, table: str, columns: tuple[str, ...], ids: list
) -> dict[str, tuple]:
    """id -> stored row (in `columns` order, the id first) for those of `ids` in `table`."""
    sql = f"SELECT {', '.join(columns)} FROM {table} WHERE {{cond}}"
    return {row[0]: tuple(row) for row in _stored(cur, bulk, sql, columns[0], ids)}


def _changes(cur: Any, bulk: Bulk, kind: str, keys: list[str]) -> None:
    bulk.insert(cur, "hq_changes", _CHANGE, [(kind, k) for k in keys], "ON CONFLICT DO NOTHING")


def _replace_keys(
    cur: Any,
    bulk: Bulk,
    table: tuple[str, str, tuple[str, ...]],
    owners: list[str],
    rows: list[tuple],
    tail: str = "",
) -> None:
    """Make `rows` the whole key set of each owner: (table, owner column, columns)."""
    name, owner_column, columns = table
    if owners:
        cur.execute(
            f"DELETE FROM {name} WHERE {bulk.in_list(owner_column)}", (bulk.list_param(owners),)
        )
        bulk.insert(cur, name, columns, rows, tail)


def _upsert_tail(key: str, columns: tuple[str, ...]) -> str:
    sets = ", ".join(f"{c} = excluded.{c}" for c in (*columns, "updated_at") if c != key)
    return f"ON CONFLICT ({key}) DO UPDATE SET {sets}"


def write_stores(cur: Any, bulk: Bulk, records: list[StoreRecord], now: str) -> ImportCounts:
    """Upsert registry rows that are new or differ; mark them ('store', id) in hq_changes."""
    cols = stores.COLUMNS
    old = _stored_rows(cur, bulk, "hq_store_registry", cols, [r.store for r in records])
    changed = [r.values() for r in records if old.get(r.store) != r.values()]
    bulk.insert(
        cur,
        "hq_store_registry",
        (*cols, "updated_at"),
        [(*v, now) for v in changed],
        _upsert_tail("store", cols),
    )
    _changes(cur, bulk, "store", [v[0] for v in changed])
    return ImportCounts(imported=len(changed), unchanged=len(records) - len(changed))


def _merge_consent(
    new: tuple[str | None, str | None], old: tuple[str | None, str | None]
) -> tuple[str | None, str | None]:
    """The later statement wins: an older file re-imported never revives a withdrawn consent."""
    if new[0] is None or (old[0] is not None and old[1] > new[1]):
        return old
    return new


def _latest(new: str | None, old: str | None) -> str | None:
    return old if new is None or (old is not None and old > new) else new


def write_profiles(cur: Any, bulk: Bulk, records: list[ProfileRecord], now: str) -> ImportCounts:
    """Upsert changed profiles, replace their key sets, keep online activity; mark changes."""
    cols = profiles.COLUMNS
    ids = [r.customer_id for r in records]
    old = _stored_rows(cur, bulk, "hq_profiles", cols, ids)
    old_keys: dict[str, set[tuple[str, str, str]]] = {}
    for cid, kid, pseudonym, kind in _stored(
        cur,
        bulk,
        "SELECT customer_id, key_id, pseudonym, kind FROM hq_profile_keys WHERE {cond}",
        "customer_id",
        ids,
    ):
        old_keys.setdefault(cid, set()).add((kid, pseudonym, kind))
    rows, rekeyed, activity = [], [], []
    for r in records:
        prev = old.get(r.customer_id)
        row = r.values()
        if prev is not None:
            rec = _merge_consent((r.recognition, r.recognition_at), (prev[2], prev[3]))
            mkt = _merge_consent((r.marketing, r.marketing_at), (prev[4], prev[5]))
            row = (*row[:2], *rec, *mkt, _latest(r.last_online_at, prev[6]), *row[7:])
        if row != prev:
            rows.append(row)
        if set(r.keys) != old_keys.get(r.customer_id, set()):
            rekeyed.append(r)
        if r.last_online_at is not None and (prev is None or r.last_online_at != prev[6]):
            activity.append((r.customer_id, r.last_online_at))
    changed = {row[0] for row in rows} | {r.customer_id for r in rekeyed} | {c for c, _ in activity}
    # A pseudonym that moves to another customer changes that customer's key set too.
    moved_from = _previous_owners(cur, bulk, rekeyed)
    bulk.insert(
        cur,
        "hq_profiles",
        (*cols, "updated_at"),
        [(*row, now) for row in rows],
        _upsert_tail("customer_id", cols),
    )
    _replace_keys(
        cur,
        bulk,
        ("hq_profile_keys", "customer_id", _KEY_COLUMNS),
        [r.customer_id for r in rekeyed],
        [(kid, p, r.customer_id, kind) for r in rekeyed for kid, p, kind in r.keys],
        "ON CONFLICT (key_id, pseudonym) DO UPDATE SET customer_id = excluded.customer_id,"
        " kind = excluded.kind",
    )
    bulk.insert(
        cur, "hq_online_activity", ("customer_id", "at"), activity, "ON CONFLICT DO NOTHING"
    )
    keysets = {r.customer_id: set(r.keys) for r in records}
    for cid, keys in old_keys.items():
        keysets.setdefault(cid, set()).update(keys)
    _changes(cur, bulk, "customer", sorted(_with_visits(cur, bulk, changed | moved_from, keysets)))
    return ImportCounts(imported=len(changed), unchanged=len(records) - len(changed))


def _with_visits(
    cur: Any, bulk: Bulk, customers: set[str], keysets: dict[str, set[tuple[str, str, str]]]
) -> set[str]:
    """Those of `customers` with a store visit (by pseudonym or link): only their feeds change.

    A profile with no visit yet changes no bucket; its visits, when they come, are
    matched as their days are computed. Logging every imported profile would make the
    rollup look up hundreds of thousands of customers after a nightly import.
    """
    if not customers:
        return set()
    by_key: dict[str, dict[str, set[str]]] = {}  # a moved card: its old and new owner
    for cid in customers:
        for kid, pseudonym, _kind in keysets.get(cid, ()):
            by_key.setdefault(kid, {}).setdefault(pseudonym, set()).add(cid)
    found = {
        row[0]
        for row in _stored(
            cur, bulk, "SELECT DISTINCT customer_id FROM hq_visits WHERE {cond}",
            "customer_id", sorted(customers),
        )
    }  # fmt: skip
    for kid, owners in by_key.items():
        for (pseudonym,) in cur.execute(
            f"SELECT DISTINCT pseudonym FROM hq_visits WHERE key_id = {bulk.p}"
            f" AND {bulk.in_list('pseudonym')}",
            (kid, bulk.list_param(sorted(owners))),
        ).fetchall():
            found |= owners[pseudonym]
    return found


def _previous_owners(cur: Any, bulk: Bulk, rekeyed: list[ProfileRecord]) -> set[str]:
    """Customers other than the new owner who hold one of these records' pseudonyms now."""
    wanted: dict[str, dict[str, str]] = {}
    for r in rekeyed:
        for kid, pseudonym, _ in r.keys:
            wanted.setdefault(kid, {})[pseudonym] = r.customer_id
    owners: set[str] = set()
    for kid, by_pseudonym in wanted.items():
        for pseudonym, cid in cur.execute(
            f"SELECT pseudonym, customer_id FROM hq_profile_keys WHERE key_id = {bulk.p}"
            f" AND {bulk.in_list('pseudonym')}",
            (kid, bulk.list_param(list(by_pseudonym))),
        ).fetchall():
            if cid != by_pseudonym[pseudonym]:
                owners.add(cid)
    return owners


def write_transactions(
    cur: Any, bulk: Bulk, records: list[TransactionRecord], now: str
) -> ImportCounts:
    """Upsert new or changed transactions of registered stores (or online); mark changes."""
    wanted = sorted({r.store for r in records} - {ONLINE})
    known = {
        row[0]
        for row in _stored(
            cur, bulk, "SELECT store FROM hq_store_registry WHERE {cond}", "store", wanted
        )
    } | {ONLINE}
    rejected = [
        (r.line, f"store: {r.store!r} is not in the store registry (hq import stores)")
        for r in records
        if r.store not in known
    ]
    records = [r for r in records if r.store in known]
    cols = transactions.COLUMNS
    ids = [r.id for r in records]
    old = _stored_rows(cur, bulk, "hq_transactions", cols, ids)
    old_keys: dict[str, set[tuple[str, str]]] = {}
    for txn, kid, pseudonym in _stored(
        cur,
        bulk,
        "SELECT txn_id, key_id, pseudonym FROM hq_transaction_keys WHERE {cond}",
        "txn_id",
        ids,
    ):
        old_keys.setdefault(txn, set()).add((kid, pseudonym))
    rows = [r.values() for r in records if old.get(r.id) != r.values()]
    rekeyed = [r for r in records if set(r.keys) != old_keys.get(r.id, set())]
    bulk.insert(
        cur,
        "hq_transactions",
        (*cols, "updated_at"),
        [(*row, now) for row in rows],
        _upsert_tail("id", cols),
    )
    _replace_keys(
        cur,
        bulk,
        ("hq_transaction_keys", "txn_id", ("txn_id", "key_id", "pseudonym")),
        [r.id for r in rekeyed],
        [(r.id, kid, p) for r in rekeyed for kid, p in r.keys],
    )
    changed = sorted({row[0] for row in rows} | {r.id for r in rekeyed})
    _changes(cur, bulk, "txn", changed)
    # A receipt moved to another store or hour leaves its old bucket too: name that
    # hour, since the 'txn' change above only finds where the receipt is now.
    moved = sorted(
        {
            f"{old[r[0]][1]}|{old[r[0]][2][:13]}"
            for r in rows
            if r[0] in old and old[r[0]][1:3] != r[1:3]
        }
    )
    _changes(cur, bulk, "hour", moved)
    _changes(cur, bulk, "customer", _credited_before(cur, bulk, records, old, old_keys))
    return ImportCounts(
        imported=len(changed), unchanged=len(records) - len(changed), rejected=rejected
    )


def _credited_before(
    cur: Any,
    bulk: Bulk,
    records: list[TransactionRecord],
    old: dict[str, tuple],
    old_keys: dict[str, set[tuple[str, str]]],
) -> list[str]:
    """Customers of the cards on stored online orders that now move or change card.

    An online order credits the store visits of its card's customers in the days
    before it (offline-to-online). The 'txn' change finds the visits it credits now;
    those it was credited to are found through these customers, whose visits the
    rollup recomputes (the window is the rollup's setting, not the import's).
    """
    left = {
        (kid, pseudonym)
        for r in records
        if r.id in old
        and old[r.id][1] == ONLINE
        and (old[r.id][1:3] != (r.store, r.ts) or set(r.keys) != old_keys.get(r.id, set()))
        for kid, pseudonym in old_keys.get(r.id, ())
    }
    if not left:
        return []
    sql = "SELECT key_id, pseudonym, customer_id FROM hq_profile_keys WHERE {cond}"
    found = _stored(cur, bulk, sql, "pseudonym", sorted({p for _, p in left}))
    return sorted({cid for kid, pseudonym, cid in found if (kid, pseudonym) in left})


class ImportWrites:
    """The `import_*` methods of an HQ store, for a backend with `transaction()` and `bulk`."""

    bulk: Bulk

    def transaction(self) -> Any:  # provided by the backend
        """A write transaction yielding a cursor."""
        raise NotImplementedError

    def import_stores(self, records: list[StoreRecord], now: str) -> ImportCounts:
        """Upsert registry rows in one transaction."""
        with self.transaction() as cur:
            return write_stores(cur, self.bulk, records, now)

    def import_profiles(self, records: list[ProfileRecord], now: str) -> ImportCounts:
        """Upsert profiles, their key sets and online activity in one transaction."""
        with self.transaction() as cur:
            return write_profiles(cur, self.bulk, records, now)

    def import_transactions(self, records: list[TransactionRecord], now: str) -> ImportCounts:
        """Upsert transactions of registered stores in one transaction; others rejected."""
        with self.transaction() as cur:
            return write_transactions(cur, self.bulk, records, now)
