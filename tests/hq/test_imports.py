"""Imports through the real runner into each backend (SQLite and PostgreSQL): hq_target."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import psycopg
import pytest

from edge.identity import Pseudonymiser
from hq.imports import runner
from hq.imports.runner import FIELDS, Summary, kind_for, run_import
from hq.storage import HqStore
from tests.hq_db import HqTarget

KEYS = Pseudonymiser({"k1": b"chain key one", "k2": b"chain key two"}, "k1")
NOW = "2026-12-01T00:00:00.000Z"
LOYALTY = ["2000000000012", "2000000000029", "2000000000036"]
APP = ["app-anna-91", "app-bram-92"]
HEADER = {kind: ",".join(cols) + "\n" for kind, cols in FIELDS.items()}


def rows(target: HqTarget, sql: str) -> list[tuple]:
    """Every row of a query, straight from the database (not through the code under test)."""
    if target.backend == "sqlite":
        with sqlite3.connect(target.db.path) as conn:
            return [tuple(r) for r in conn.execute(sql).fetchall()]
    with psycopg.connect(target.secrets.read(target.db.dsn_file).decode().strip()) as conn:
        return [tuple(r) for r in conn.execute(sql).fetchall()]


def do_import(store: HqStore, kind: str, path: Path) -> tuple[Summary, list[tuple[int, str]]]:
    """Run one import; (summary, [(line, reason)] as reported)."""
    reported: list[tuple[int, str]] = []
    summary = run_import(
        path,
        kind_for(kind, store, KEYS, "EUR"),
        FIELDS[kind],
        now=lambda: NOW,
        on_reject=lambda line, reason: reported.append((line, reason)),
    )
    return summary, reported


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


STORES_CSV = (
    HEADER["stores"]
    + "ams-01,Amsterdam,Europe/Amsterdam,mon-sat 09:00-18:00; sun closed,2026-12-25 closed,main|side,52.37,4.89,6\n"
    + "utr-01,Utrecht,Europe/Mars,mon-sun 09:00-18:00,,main,52.09,5.12,4\n"  # line 3
    + "rtm-01,Rotterdam,Europe/Amsterdam,mon-fri 09:00-18:00,,main,51.92,4.48,3\n"  # line 4
    + "ein-01,Eindhoven,Europe/Amsterdam,mon-sun 10:00-18:00,,main,,,2\n"
    + "den-01,Den Haag,Europe/Amsterdam,mon-sun 10:00-18:00,,main,52.1,4.3\n"  # line 6
)


def test_stores_bad_rows_rejected_good_rows_imported(hq_target: HqTarget, tmp_path: Path):
    store = hq_target.open()
    summary, reported = do_import(store, "stores", write(tmp_path / "stores.csv", STORES_CSV))
    assert (summary.imported, summary.rejected, summary.unchanged) == (2, 3, 0)
    assert [line for line, _ in reported] == [3, 4, 6]
    assert reported[0][1].startswith("timezone: 'Europe/Mars' is not an IANA time zone")
    assert reported[1][1].startswith("hours: sat, sun missing")
    assert reported[2][1] == "expected 9 columns, got 8"
    lines = STORES_CSV.splitlines(keepends=True)
    assert (tmp_path / "stores.rejected.csv").read_text() == "".join(
        [lines[0], lines[2], lines[3], lines[5]]
    )
    got = rows(
        hq_target,
        "SELECT store, name, timezone, hours, doors, lat, staff_count, updated_at FROM hq_store_registry ORDER BY store",
    )
    assert [r[0] for r in got] == ["ams-01", "ein-01"]
    assert json.loads(got[0][3])["sat"] == [["09:00", "18:00"]] and got[0][4] == '["main","side"]'
    assert got[1][5] is None and got[1][7] == NOW
    assert rows(hq_target, "SELECT kind, key FROM hq_changes ORDER BY key") == [
        ("store", "ams-01"),
        ("store", "ein-01"),
    ]


def test_stores_reimport_is_idempotent_and_changes_are_marked(hq_target: HqTarget, tmp_path: Path):
    store = hq_target.open()
    path = write(tmp_path / "stores.csv", STORES_CSV)
    do_import(store, "stores", path)
    wipe_changes(hq_target, store)
    again, _ = do_import(store, "stores", path)
    assert (again.imported, again.rejected, again.unchanged) == (0, 3, 2)
    assert rows(hq_target, "SELECT count(*) FROM hq_changes") == [(0,)]
    # JSONL, one store changed (staff count), one as before.
    jl = tmp_path / "stores.jsonl"
    ams = {
        "store": "ams-01",
        "name": "Amsterdam",
        "timezone": "Europe/Amsterdam",
        "hours": {
            **{d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat")},
            "sun": [],
        },
        "exceptions": {"2026-12-25": []},
        "doors": ["main", "side"],
        "lat": 52.37,
        "lon": 4.89,
        "staff_count": 6,
    }
    ein = {
        "store": "ein-01",
        "name": "Eindhoven",
        "timezone": "Europe/Amsterdam",
        "hours": "mon-sun 10:00-18:00",
        "doors": ["main"],
        "staff_count": 3,
    }
    jl.write_text(json.dumps(ams) + "\n" + json.dumps(ein) + "\n")
    third, _ = do_import(store, "stores", jl)
    assert (third.imported, third.unchanged) == (1, 1)
    assert rows(hq_target, "SELECT kind, key FROM hq_changes") == [("store", "ein-01")]
    assert rows(hq_target, "SELECT staff_count FROM hq_store_registry WHERE store = 'ein-01'") == [
        (3,)
    ]
    # The bad rows fixed, the same file again: no rejects, and the stale rejected file is gone.
    assert (tmp_path / "stores.rejected.csv").exists()
    good = [
        line for i, line in enumerate(STORES_CSV.splitlines(keepends=True)) if i not in (2, 3, 5)
    ]
    fixed, _ = do_import(store, "stores", write(path, "".join(good)))
    assert (fixed.rejected, fixed.rejected_file) == (0, None)
    assert not (tmp_path / "stores.rejected.csv").exists()


def wipe_changes(target: HqTarget, store: HqStore) -> None:
    """Empty hq_changes, as the rollup does after turning them into dirty days."""
    if target.backend == "sqlite":
        with sqlite3.connect(target.db.path) as conn:
            conn.execute("DELETE FROM hq_changes")
    else:
        with psycopg.connect(target.secrets.read(target.db.dsn_file).decode().strip()) as conn:
            conn.execute("DELETE FROM hq_changes")


def add_visits(target: HqTarget, *numbers: str) -> None:
    """A store visit (under both keys) of each card: the customers' feeds can now change."""
    rows = [
        ("s1", i * 2 + j + 1, "2026-11-21T10:00:00.000Z", kid,
         Pseudonymiser(KEYS.keys, "k1").pseudonym("loyalty", n, kid)[0], "2026-11-21T10:00:00.000Z")
        for i, n in enumerate(numbers)
        for j, kid in enumerate(("k1", "k2"))
    ]  # fmt: skip
    sql = (
        "INSERT INTO hq_visits (store, seq, ts, key_id, pseudonym, received_at)"
        " VALUES ({p}, {p}, {p}, {p}, {p}, {p}) ON CONFLICT DO NOTHING"
    )
    if target.backend == "sqlite":
        with sqlite3.connect(target.db.path) as conn:
            conn.executemany(sql.format(p="?"), rows)
    else:
        with psycopg.connect(target.secrets.read(target.db.dsn_file).decode().strip()) as conn:
            conn.cursor().executemany(sql.format(p="%s"), rows)


def profile(cid: str, **fields: str) -> dict:
    return {"customer_id": cid, **fields}


def jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_profiles_pseudonyms_under_every_key_and_no_raw_ids(hq_target: HqTarget, tmp_path: Path):
    store = hq_target.open()
    path = jsonl(
        tmp_path / "profiles.jsonl",
        [
            profile(
                "c1",
                loyalty_number="2000 0000 0001 2",
                app_id=APP[0],
                first_name="Anna",
                instore_recognition="granted",
                instore_recognition_at="2026-11-01",
                last_online_at="2026-11-20T10:00:00+01:00",
                wishlist=["p1", "p2"],
            ),
            profile(
                "c2",
                loyalty_number=LOYALTY[1],
                instore_recognition="maybe",
                instore_recognition_at="2026-11-01",
            ),
            profile("c3", app_id=APP[1], marketing="granted", marketing_at="2026-10-10T08:00:00Z"),
        ],
    )
    add_visits(hq_target, LOYALTY[0])  # c1 has been in a store; c3 has not
    summary, reported = do_import(store, "profiles", path)
    assert (summary.imported, summary.rejected) == (2, 1)
    assert reported == [
        (2, "instore_recognition: 'maybe' is not a consent status (granted | denied | withdrawn)")
    ]
    keys = set(rows(hq_target, "SELECT key_id, pseudonym, customer_id, kind FROM hq_profile_keys"))
    expected = {
        (kid, Pseudonymiser(KEYS.keys, "k1").pseudonym(ns, ident, kid)[0], cid, ns)
        for kid in ("k1", "k2")
        for cid, ns, ident in (
            ("c1", "loyalty", LOYALTY[0]),
            ("c1", "app", APP[0]),
            ("c3", "app", APP[1]),
        )
    }
    assert keys == expected
    assert rows(
        hq_target,
        "SELECT customer_id, first_name, recognition, recognition_at, marketing, last_online_at, wishlist FROM hq_profiles ORDER BY customer_id",
    ) == [
        (
            "c1",
            "Anna",
            "granted",
            "2026-11-01T00:00:00.000Z",
            None,
            "2026-11-20T09:00:00.000Z",
            '["p1","p2"]',
        ),
        ("c3", None, None, None, "granted", None, "[]"),
    ]
    assert rows(hq_target, "SELECT customer_id, at FROM hq_online_activity") == [
        ("c1", "2026-11-20T09:00:00.000Z")
    ]
    # Only a customer with a store visit can change a feed bucket.
    assert sorted(rows(hq_target, "SELECT kind, key FROM hq_changes")) == [("customer", "c1")]
    store.close()
    if hq_target.backend == "sqlite":
        assert_no_raw_ids(Path(hq_target.db.path))


def assert_no_raw_ids(db: Path) -> None:
    """No loyalty number (as typed or normalised) or app id in any byte of the SQLite files."""
    files = [p for p in db.parent.iterdir() if p.name.startswith(db.name)]
    assert files
    for f in files:
        data = f.read_bytes()
        for raw in [*LOYALTY, "2000 0000 0001 2", *APP]:
            assert raw.encode() not in data, (f, raw)


def test_profiles_reimport_withdrawal_and_key_replacement(hq_target: HqTarget, tmp_path: Path):
    store = hq_target.open()
    first = [
        profile(
            "c1",
            loyalty_number=LOYALTY[0],
            app_id=APP[0],
            instore_recognition="granted",
            instore_recognition_at="2026-11-01",
            last_online_at="2026-11-20T10:00:00Z",
        ),
        profile(
            "c2",
            loyalty_number=LOYALTY[1],
            instore_recognition="granted",
            instore_recognition_at="2026-11-01",
        ),
    ]
    path = jsonl(tmp_path / "p1.jsonl", first)
    do_import(store, "profiles", path)
    wipe_changes(hq_target, store)
    same, _ = do_import(store, "profiles", path)
    assert (same.imported, same.unchanged) == (0, 2)
    assert rows(hq_target, "SELECT count(*) FROM hq_changes") == [(0,)]
    # Later export: c1 withdrew recognition, dropped the app and got a new card; c2's old
    # card number moved to c3; c2 came back online.
    later = [
        profile(
            "c1",
            loyalty_number=LOYALTY[2],
            instore_recognition="withdrawn",
            instore_recognition_at="2026-11-25T12:00:00+01:00",
            last_online_at="2026-11-26T10:00:00Z",
        ),
        profile("c3", loyalty_number=LOYALTY[1]),
        profile(
            "c2",
            instore_recognition="granted",
            instore_recognition_at="2026-11-01",
            last_online_at="2026-11-27T08:00:00Z",
        ),
    ]
    add_visits(hq_target, LOYALTY[0], LOYALTY[1])
    second, _ = do_import(store, "profiles", jsonl(tmp_path / "p2.jsonl", later))
    assert (second.imported, second.unchanged) == (3, 0)
    assert rows(
        hq_target,
        "SELECT customer_id, recognition, recognition_at, last_online_at FROM hq_profiles ORDER BY customer_id",
    ) == [
        ("c1", "withdrawn", "2026-11-25T11:00:00.000Z", "2026-11-26T10:00:00.000Z"),
        ("c2", "granted", "2026-11-01T00:00:00.000Z", "2026-11-27T08:00:00.000Z"),
        ("c3", None, None, None),
    ]
    owners = {
        (kid, p): cid
        for kid, p, cid in rows(
            hq_target, "SELECT key_id, pseudonym, customer_id FROM hq_profile_keys"
        )
    }
    want = {
        (kid, KEYS.pseudonym("loyalty", number, kid)[0]): cid
        for kid in ("k1", "k2")
        for cid, number in (("c1", LOYALTY[2]), ("c3", LOYALTY[1]))
    }
    assert owners == want  # c1's old card and app id gone; c2's card reassigned to c3
    assert sorted(rows(hq_target, "SELECT kind, key FROM hq_changes")) == [
        ("customer", "c1"),
        ("customer", "c2"),
        ("customer", "c3"),
    ]
    assert sorted(rows(hq_target, "SELECT customer_id, at FROM hq_online_activity")) == [
        ("c1", "2026-11-20T10:00:00.000Z"),
        ("c1", "2026-11-26T10:00:00.000Z"),
        ("c2", "2026-11-27T08:00:00.000Z"),
    ]
    # An older export imported again does not revive the withdrawn consent.
    do_import(store, "profiles", path)
    assert rows(hq_target, "SELECT recognition FROM hq_profiles WHERE customer_id = 'c1'") == [
        ("withdrawn",)
    ]


def test_profiles_same_customer_twice_in_one_file_applies_in_order(
    hq_target: HqTarget, tmp_path: Path
):
    store = hq_target.open()
    path = jsonl(
        tmp_path / "p.jsonl",
        [
            profile("c1", loyalty_number=LOYALTY[0], first_name="A"),
            profile("c2", loyalty_number=LOYALTY[0]),  # the card moves on within the file
            profile("c1", first_name="B"),
        ],
    )
    summary, _ = do_import(store, "profiles", path)
    assert summary.rejected == 0
    assert rows(
        hq_target, "SELECT customer_id, first_name FROM hq_profiles ORDER BY customer_id"
    ) == [("c1", "B"), ("c2", None)]
    assert {c for (c,) in rows(hq_target, "SELECT customer_id FROM hq_profile_keys")} == {"c2"}


def test_batches_cut_at_size(hq_target: HqTarget, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(runner, "BATCH_ROWS", 7)
    store = hq_target.open()
    recs = [profile(f"c{i}", loyalty_number=f"2{i:012d}") for i in range(30)]
    recs.insert(12, {"customer_id": "bad id"})
    summary, reported = do_import(store, "profiles", jsonl(tmp_path / "p.jsonl", recs))
    assert (summary.imported, summary.rejected) == (30, 1)
    assert reported == [(13, "customer_id: 'bad id' is not an id (letters, digits and _.:@/+-)")]
    assert rows(hq_target, "SELECT count(*) FROM hq_profile_keys") == [(60,)]


TXN_CSV = (
    HEADER["transactions"]
    + "r1,ams-01,2026-11-20T10:00:00+01:00,sale,12.50,EUR,2,2000000000012\n"
    + "r2,ams-01,2026-11-20T10:00:00,sale,12.50,EUR,2,\n"  # 3: no offset
    + "r3,zzz-01,2026-11-20T10:00:00Z,sale,12.50,EUR,2,\n"  # 4: unknown store
    + "r4,online,2026-11-21T10:00:00Z,return,3.5,EUR,1,\n"
    + "r5,online,2026-11-20T10:00:00Z,sale,3.555,EUR,1,\n"  # 6: bad amount
    + "r6,ams-01,2026-11-20T11:00:00Z,return,-20.00,EUR,1,2000000000029\n"
    + "r7,ams-01,2026-11-20T11:00:00Z,sale,1.00,USD,1,\n"  # 8: currency
)


def test_transactions_rejects_and_imports(hq_target: HqTarget, tmp_path: Path):
    store = hq_target.open()
    do_import(store, "stores", write(tmp_path / "stores.csv", STORES_CSV))
    wipe_changes(hq_target, store)
    path = write(tmp_path / "txns.csv", TXN_CSV)
    summary, reported = do_import(store, "transactions", path)
    assert (summary.imported, summary.rejected, summary.unchanged) == (3, 4, 0)
    assert [line for line, _ in reported] == [3, 4, 6, 8]
    assert reported[0][1] == "ts: '2026-11-20T10:00:00' has no UTC offset (add Z or +01:00)"
    assert reported[1][1] == "store: 'zzz-01' is not in the store registry (hq import stores)"
    assert reported[2][1].startswith("net_amount: '3.555' is not an amount")
    assert reported[3][1] == "currency: 'USD' is not the chain currency EUR"
    lines = TXN_CSV.splitlines(keepends=True)
    assert (tmp_path / "txns.rejected.csv").read_text() == "".join(
        lines[i] for i in (0, 2, 3, 5, 7)
    )
    assert rows(
        hq_target,
        "SELECT id, store, ts, type, net_cents, currency, items FROM hq_transactions ORDER BY id",
    ) == [
        ("r1", "ams-01", "2026-11-20T09:00:00.000Z", "sale", 1250, "EUR", 2),
        ("r4", "online", "2026-11-21T10:00:00.000Z", "return", -350, "EUR", 1),
        ("r6", "ams-01", "2026-11-20T11:00:00.000Z", "return", -2000, "EUR", 1),
    ]
    assert set(rows(hq_target, "SELECT txn_id, key_id, pseudonym FROM hq_transaction_keys")) == {
        (txn, kid, KEYS.pseudonym("loyalty", number, kid)[0])
        for kid in ("k1", "k2")
        for txn, number in (("r1", LOYALTY[0]), ("r6", LOYALTY[1]))
    }
    assert sorted(rows(hq_target, "SELECT kind, key FROM hq_changes")) == [
        ("txn", "r1"),
        ("txn", "r4"),
        ("txn", "r6"),
    ]
    # Re-import: unchanged; then r1 corrected (amount, no card any more).
    wipe_changes(hq_target, store)
    again, _ = do_import(store, "transactions", path)
    assert (again.imported, again.unchanged, again.rejected) == (0, 3, 4)
    assert rows(hq_target, "SELECT count(*) FROM hq_changes") == [(0,)]
    fix = write(
        tmp_path / "fix.csv",
        HEADER["transactions"] + "r1,ams-01,2026-11-20T10:00:00+01:00,sale,10.00,EUR,2,\n",
    )
    fixed, _ = do_import(store, "transactions", fix)
    assert (fixed.imported, fixed.rejected) == (1, 0)
    assert rows(hq_target, "SELECT net_cents FROM hq_transactions WHERE id = 'r1'") == [(1000,)]
    assert rows(hq_target, "SELECT count(*) FROM hq_transaction_keys WHERE txn_id = 'r1'") == [(0,)]
    assert rows(hq_target, "SELECT kind, key FROM hq_changes") == [("txn", "r1")]
    store.close()
    if hq_target.backend == "sqlite":
        assert_no_raw_ids(Path(hq_target.db.path))


def test_malformed_rows_of_every_shape(hq_target: HqTarget, tmp_path: Path):
    store = hq_target.open()
    good = json.dumps(profile("c1", loyalty_number=LOYALTY[0]))
    raw = (
        good
        + "\n"
        + "\n"  # blank: skipped, not a row
        + "{not json\n"
        + "[1, 2]\n"
        + json.dumps(profile("c2", colour="red"))
        + "\n"
    ).encode() + b'{"customer_id": "c3", "first_name": "\xff"}\n'
    path = tmp_path / "p.jsonl"
    path.write_bytes(raw)
    summary, reported = do_import(store, "profiles", path)
    assert (summary.imported, summary.rejected) == (1, 4)
    assert [line for line, _ in reported] == [3, 4, 5, 6]
    assert reported[1][1] == "not a JSON object"
    assert reported[2][1] == "unknown field 'colour'"
    assert reported[3][1] == "not valid UTF-8"
    # The rejected file holds the rows byte for byte, undecodable bytes included.
    assert (tmp_path / "p.rejected.jsonl").read_bytes() == b"".join(
        raw.splitlines(keepends=True)[2:]
    )


def test_database_outage_stops_the_run_without_a_half_rejected_file(tmp_path: Path):
    from hq.sqlite_store import SqliteHqStore
    from hq.storage import StoreUnavailable

    store = SqliteHqStore(tmp_path / "hq.db", busy_timeout_s=0.2)
    path = jsonl(tmp_path / "p.jsonl", [profile("c1"), {"customer_id": "bad id"}])
    blocker = sqlite3.connect(tmp_path / "hq.db", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another writer holds the database past the timeout
    try:
        with pytest.raises(StoreUnavailable):
            do_import(store, "profiles", path)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert sorted(p.name for p in tmp_path.iterdir() if "rejected" in p.name) == []
    summary, _ = do_import(store, "profiles", path)  # run again once the database is back
    assert (summary.imported, summary.rejected) == (1, 1)
    store.close()


def test_an_online_order_moved_in_time_leaves_the_visit_it_was_credited_to(hq_store):
    """Offline-to-online: the visit's day is recomputed when its online order moves away."""
    from datetime import date

    from edge.identity import Pseudonymiser
    from hq.db import Db
    from hq.feeds import store_feed
    from hq.imports.profiles import parse_profile
    from hq.imports.stores import parse_store
    from hq.imports.transactions import parse_transaction
    from hq.rollup import Rollup
    from tests.hq.storelog import StoreLog, deliver

    keys = {"k1": b"k" * 32}
    ps = Pseudonymiser(keys, "k1")
    now = "2026-06-03T00:00:00.000Z"
    hq_store.import_stores(
        [parse_store({"store": "s1", "name": "S", "timezone": "UTC", "hours": "mon-sun 00:00-24:00"}, 1)],
        now,
    )  # fmt: skip
    card = "2000000000012"
    consented = {"customer_id": "c1", "loyalty_number": card,
                 "instore_recognition": "granted", "instore_recognition_at": "2026-05-01"}  # fmt: skip
    hq_store.import_profiles([parse_profile(consented, 1, ps)], now)
    log = StoreLog("s1")
    log.door("2026-06-01T09:55:00.000Z")
    log.visit("2026-06-01T10:00:00.000Z", ps.pseudonym("loyalty", card)[0])
    deliver(hq_store, "s1", log.payloads())
    db = Db(hq_store)
    rollup = Rollup(db, now=lambda: 1_900_000_000.0)

    def order(ts: str) -> list[tuple[str, int]]:
        row = {"id": "w1", "store": "online", "ts": ts, "type": "sale", "net_amount": "20.00",
               "currency": "EUR", "items": 1, "loyalty_number": card}  # fmt: skip
        assert not hq_store.import_transactions(
            [parse_transaction(row, 1, ps, "EUR")], now
        ).rejected
        rollup.run_once()
        days = store_feed(db, "s1", "day", date(2026, 6, 1), date(2026, 6, 1))
        return [(d["day"], d["offline_to_online"]) for d in days]

    assert order("2026-06-03T12:00:00Z") == [("2026-06-01", 1)]  # 2 days after the visit
    assert order("2026-06-20T12:00:00Z") == [("2026-06-01", 0)]  # corrected: 19 days after
