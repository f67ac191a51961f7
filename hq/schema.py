"""HQ database schema for SQLite and PostgreSQL, versioned.

One DDL text per version, written once with placeholders for the few types that
differ between the dialects. `schema_version` holds the version a database is at;
a backend applies every migration above it, in order, inside one transaction.
"""

from __future__ import annotations

from typing import Literal

Dialect = Literal["sqlite", "postgresql"]

_TYPES: dict[Dialect, dict[str, str]] = {
    "sqlite": {
        "bigint": "INTEGER",
        "bool": "INTEGER",
        "serial_pk": "INTEGER PRIMARY KEY",
        # The primary key is the access path for ingest and watermark scans.
        "without_rowid": " WITHOUT ROWID",
        "real": "REAL",
        "false": "0",
        "true": "1",
        "feed_page_fill": "",
        "blob": "BLOB",
        "piece_storage": "SELECT 1",
        "page_lz4": "SELECT 1",
    },
    "postgresql": {
        "bigint": "BIGINT",
        "bool": "BOOLEAN",
        "serial_pk": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
        "without_rowid": "",
        "real": "DOUBLE PRECISION",
        "false": "false",
        "true": "true",
        "feed_page_fill": "",
        "blob": "BYTEA",
        # Deflated bytes do not shrink: never compressed again, kept out of line whole.
        "piece_storage": "ALTER TABLE hq_feed_page ALTER COLUMN deflated SET STORAGE EXTERNAL",
        # Uncompressed answers read the page's body: lz4 inflates 840 KB of a store-month
        # in a fraction of pglz's time, for about the same size (2.5 against 2.2 KB a
        # page). Pages written from now on; a server built without lz4 keeps pglz.
        "page_lz4": "DO $$ BEGIN"
        " ALTER TABLE hq_feed_page ALTER COLUMN body SET COMPRESSION lz4;"
        " EXCEPTION WHEN feature_not_supported THEN NULL; END $$",
    },
}

# Migration n (1-based) takes a database from version n-1 to n.
_MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE IF NOT EXISTS hq_events (
            store TEXT NOT NULL,
            seq {bigint} NOT NULL,
            id TEXT NOT NULL,
            type TEXT NOT NULL,
            ts TEXT NOT NULL,
            device TEXT NOT NULL,
            data TEXT NOT NULL,
            clock_ok {bool} NOT NULL,
            boot_id TEXT NOT NULL,
            error TEXT,
            received_at TEXT NOT NULL,
            PRIMARY KEY (store, seq)
        ){without_rowid}""",
        "CREATE INDEX IF NOT EXISTS hq_events_type_store_ts ON hq_events (type, store, ts)",
        """CREATE TABLE IF NOT EXISTS hq_stores (
            store TEXT PRIMARY KEY,
            acked_through {bigint} NOT NULL DEFAULT 0,
            max_seq {bigint} NOT NULL DEFAULT 0,
            duplicates {bigint} NOT NULL DEFAULT 0,
            events {bigint} NOT NULL DEFAULT 0,
            online {bool},
            boot_id TEXT,
            state TEXT,
            state_at TEXT,
            last_batch_at TEXT
        )""",
        """CREATE TABLE IF NOT EXISTS hq_dead_letters (
            id {serial_pk},
            received_at TEXT NOT NULL,
            topic TEXT NOT NULL,
            store TEXT,
            reason TEXT NOT NULL,
            payload TEXT NOT NULL
        )""",
    ],
    # v2: the store registry, profiles, transactions (imports); identities, feeds (rollup).
    [
        # Store registry (`hq import stores`). hours: JSON {"mon": [["09:00", "18:00"]], …,
        # "sun": []}; exceptions: JSON {"2026-12-25": [], …} (a date's own hours, [] = closed);
        # doors: JSON ["main", …].
        """CREATE TABLE IF NOT EXISTS hq_store_registry (
            store TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            timezone TEXT NOT NULL,
            hours TEXT NOT NULL,
            exceptions TEXT NOT NULL,
            doors TEXT NOT NULL,
            lat {real},
            lon {real},
            staff_count INTEGER NOT NULL DEFAULT 0,
            updated_at TEXT NOT NULL
        )""",
        # Online profiles (`hq import profiles`). Consent per purpose: status granted |
        # denied | withdrawn (NULL: never asked) and when it was given or withdrawn (UTC).
        """CREATE TABLE IF NOT EXISTS hq_profiles (
            customer_id TEXT PRIMARY KEY,
            first_name TEXT,
            recognition TEXT,
            recognition_at TEXT,
            marketing TEXT,
            marketing_at TEXT,
            last_online_at TEXT,
            wishlist TEXT NOT NULL DEFAULT '[]',
            recently_viewed TEXT NOT NULL DEFAULT '[]',
            updated_at TEXT NOT NULL
        )""",
        # A profile's loyalty number / app id under every chain key; never the raw id.
        """CREATE TABLE IF NOT EXISTS hq_profile_keys (
            key_id TEXT NOT NULL,
            pseudonym TEXT NOT NULL,
            customer_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            PRIMARY KEY (key_id, pseudonym)
        )""",
        "CREATE INDEX IF NOT EXISTS hq_profile_keys_customer ON hq_profile_keys (customer_id)",
        # Every online activity time seen for a profile (online-to-offline share).
        """CREATE TABLE IF NOT EXISTS hq_online_activity (
            customer_id TEXT NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (customer_id, at)
        )""",
        # POS receipts and online orders (`hq import transactions`). store: a store id or
        # 'online'; ts: UTC ISO with ms; net_cents is negative for a return.
        """CREATE TABLE IF NOT EXISTS hq_transactions (
            id TEXT PRIMARY KEY,
            store TEXT NOT NULL,
            ts TEXT NOT NULL,
            type TEXT NOT NULL,
            net_cents {bigint} NOT NULL,
            currency TEXT NOT NULL,
            items INTEGER NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS hq_transactions_store_ts ON hq_transactions (store, ts)",
        """CREATE TABLE IF NOT EXISTS hq_transaction_keys (
            txn_id TEXT NOT NULL,
            key_id TEXT NOT NULL,
            pseudonym TEXT NOT NULL,
            PRIMARY KEY (txn_id, key_id)
        )""",
        "CREATE INDEX IF NOT EXISTS hq_transaction_keys_pseudonym"
        " ON hq_transaction_keys (key_id, pseudonym)",
        # What changed outside the event stream, for the rollup to turn into dirty days:
        # kind 'store' (registry row), 'customer' (profile, consent, keys, activity,
        # erasure), 'txn' (a transaction id). Written in the same transaction as the change.
        """CREATE TABLE IF NOT EXISTS hq_changes (
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            PRIMARY KEY (kind, key)
        )""",
    ],
    # v3: identified visits (pseudonyms kept apart from the events), dirty hours, feeds.
    [
        # One row per valid visit.identified event. The pseudonym lives only here (the
        # stored event's data has it removed), so erasure and expiry delete it in one
        # place; customer_id is the consented link, recomputed by the rollup.
        """CREATE TABLE IF NOT EXISTS hq_visits (
            store TEXT NOT NULL,
            seq {bigint} NOT NULL,
            ts TEXT NOT NULL,
            key_id TEXT NOT NULL,
            pseudonym TEXT,
            customer_id TEXT,
            purchases INTEGER,
            received_at TEXT NOT NULL,
            PRIMARY KEY (store, seq)
        )""",
        "CREATE INDEX IF NOT EXISTS hq_visits_pseudonym ON hq_visits (key_id, pseudonym)",
        "CREATE INDEX IF NOT EXISTS hq_visits_customer ON hq_visits (customer_id)",
        "CREATE INDEX IF NOT EXISTS hq_visits_received ON hq_visits (received_at)",
        # Events of a boot whose clock was not yet synchronised: found fast for re-basing.
        "CREATE INDEX IF NOT EXISTS hq_events_unsynced ON hq_events (store, boot_id, seq)"
        " WHERE clock_ok = {false}",
        # (store, UTC hour 'YYYY-MM-DDTHH') touched by an ingest, written in its transaction.
        # No unique key on purpose: two ingesters marking the same hour never wait on each
        # other; the rollup reads, de-duplicates and deletes exactly the rows it read.
        """CREATE TABLE IF NOT EXISTS hq_dirty (
            id {serial_pk},
            store TEXT NOT NULL,
            hour TEXT NOT NULL
        )""",
        # Feed buckets: period 'hour' or 'day'; start = UTC start 'YYYY-MM-DDTHH:MMZ';
        # label = local start with offset (hour) or the local date (day); day = local date.
        """CREATE TABLE IF NOT EXISTS hq_feed (
            store TEXT NOT NULL,
            period TEXT NOT NULL,
            start TEXT NOT NULL,
            label TEXT NOT NULL,
            day TEXT NOT NULL,
            figures TEXT NOT NULL,
            provisional {bool} NOT NULL,
            revision INTEGER NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (store, period, start)
        )""",
        "CREATE INDEX IF NOT EXISTS hq_feed_day ON hq_feed (period, day)",
        "CREATE INDEX IF NOT EXISTS hq_feed_provisional ON hq_feed (store, day)"
        " WHERE provisional = {true}",
        # Buckets changed and not yet published on MQTT.
        """CREATE TABLE IF NOT EXISTS hq_feed_outbox (
            store TEXT NOT NULL,
            period TEXT NOT NULL,
            start TEXT NOT NULL,
            PRIMARY KEY (store, period, start)
        )""",
    ],
    # v4: what `hq publish` has retained on each store's down/catalog|stock/{part}.
    [
        # kind 'catalog' or 'stock'. version: the newest snapshot version handed out (a
        # new one is always above it). parts: how many part topics may hold a retained
        # message, so a smaller snapshot clears the ones past its end; raised before a
        # publish starts and lowered once it has finished, so a crash in between only
        # ever leaves it too high.
        """CREATE TABLE IF NOT EXISTS hq_downlink (
            store TEXT NOT NULL,
            kind TEXT NOT NULL,
            version {bigint} NOT NULL,
            parts INTEGER NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (store, kind)
        )""",
    ],
    # v5: store status and alerts (hq/status.py, hq/alerts.py).
    [
        # Each device's newest `device.status` event (data: its payload JSON), upserted
        # at ingest (hq/ingest_marks.py) so the status never searches the event history.
        """CREATE TABLE IF NOT EXISTS hq_device_health (
            store TEXT NOT NULL,
            device TEXT NOT NULL,
            seq {bigint} NOT NULL,
            ts TEXT NOT NULL,
            data TEXT NOT NULL,
            PRIMARY KEY (store, device)
        )""",
        # Filled from the events a database already holds.
        """INSERT INTO hq_device_health (store, device, seq, ts, data)
        SELECT store, device, seq, ts, data FROM hq_events e
        WHERE type = 'device.status' AND error IS NULL AND seq = (
            SELECT max(seq) FROM hq_events x WHERE x.type = 'device.status'
            AND x.error IS NULL AND x.store = e.store AND x.device = e.device)""",
        "CREATE INDEX IF NOT EXISTS hq_dead_letters_store ON hq_dead_letters (store, received_at)",
        # Alerts (kind: offline | door_silent | imbalance | gap | dead_letters; subject: a
        # door, a local date, or '' for the store as a whole). A row is raised once and
        # cleared once; the open ones have cleared_at NULL, at most one per (store, kind,
        # subject). store '_chain' holds what belongs to no store (a dead letter on a
        # topic outside touchpoint/v1/{store}/).
        """CREATE TABLE IF NOT EXISTS hq_alerts (
            id {serial_pk},
            store TEXT NOT NULL,
            kind TEXT NOT NULL,
            subject TEXT NOT NULL,
            raised_at TEXT NOT NULL,
            cleared_at TEXT,
            detail TEXT NOT NULL
        )""",
        "CREATE UNIQUE INDEX IF NOT EXISTS hq_alerts_open ON hq_alerts (store, kind, subject)"
        " WHERE cleared_at IS NULL",
        "CREATE INDEX IF NOT EXISTS hq_alerts_store ON hq_alerts (store, raised_at)",
        # Stores whose open alerts changed and are not yet published (retained) on MQTT.
        "CREATE TABLE IF NOT EXISTS hq_alert_outbox (store TEXT PRIMARY KEY)",
    ],
    # v6: click & collect (hq/orders/): pick-up orders, their lines and state at the store,
    # the pseudonyms of their loyalty numbers, the routing outbox, and the stores' order
    # events indexed by order.
    [
        # One row per order. store: the pick-up store; origin: the store whose kiosk took
        # it (NULL for an imported web order). status is head office's word (placed |
        # cancelled) and version grows with every change routed to the store; state and
        # the times after it come from the store's pickup.* events (hq/orders/status.py).
        # first_name is personal data: blanked once the order has ended.
        """CREATE TABLE IF NOT EXISTS hq_orders (
            order_id TEXT PRIMARY KEY,
            store TEXT NOT NULL,
            origin TEXT,
            version INTEGER NOT NULL,
            status TEXT NOT NULL,
            code TEXT NOT NULL,
            promised_at TEXT NOT NULL,
            first_name TEXT NOT NULL,
            hold_days INTEGER NOT NULL,
            state TEXT NOT NULL,
            ready_at TEXT,
            pickup_by TEXT,
            checked_in_at TEXT,
            ended_at TEXT,
            collected_at TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS hq_orders_store_code ON hq_orders (store, code)",
        # state: to_pick | picked | short | ready | collected | put_back (edge/pickup.py).
        """CREATE TABLE IF NOT EXISTS hq_order_lines (
            order_id TEXT NOT NULL,
            line INTEGER NOT NULL,
            sku TEXT NOT NULL,
            qty INTEGER NOT NULL,
            state TEXT NOT NULL,
            PRIMARY KEY (order_id, line)
        )""",
        # The order's loyalty number under every chain key; never the number itself.
        """CREATE TABLE IF NOT EXISTS hq_order_keys (
            order_id TEXT NOT NULL,
            key_id TEXT NOT NULL,
            pseudonym TEXT NOT NULL,
            PRIMARY KEY (order_id, key_id)
        )""",
        "CREATE INDEX IF NOT EXISTS hq_order_keys_pseudonym ON hq_order_keys (key_id, pseudonym)",
        # Versions to send on the pick-up store's down/orders; a row leaves once the
        # broker has acknowledged that version (or a newer one replaced it).
        """CREATE TABLE IF NOT EXISTS hq_order_outbox (
            order_id TEXT PRIMARY KEY,
            store TEXT NOT NULL,
            version INTEGER NOT NULL
        )""",
        # The stores' order.placed and pickup.* events by order (written at ingest), so
        # an order's state is recomputed from exactly its events.
        """CREATE TABLE IF NOT EXISTS hq_order_events (
            store TEXT NOT NULL,
            seq {bigint} NOT NULL,
            order_id TEXT NOT NULL,
            PRIMARY KEY (store, seq)
        )""",
        "CREATE INDEX IF NOT EXISTS hq_order_events_order ON hq_order_events (order_id)",
        # Orders whose state must be recomputed (an event arrived, an import changed it).
        # No unique key, like hq_dirty: the worker deletes exactly the rows it read.
        """CREATE TABLE IF NOT EXISTS hq_order_dirty (
            id {serial_pk},
            order_id TEXT NOT NULL
        )""",
    ],
    # A bucket's feed row as the API serves it (hq.feeds.bucket_body: identity, revision,
    # flags and every derived figure, encoded as one JSON object), written with the bucket,
    # so a store's JSON feed is its rows' bodies joined. No longer written since v9 (the
    # feed pages hold them); v9 builds its pages from these.
    [
        "ALTER TABLE hq_feed ADD COLUMN body TEXT",
        "CREATE INDEX IF NOT EXISTS hq_feed_no_body ON hq_feed (store) WHERE body IS NULL",
        # The API's ETag (feeds.feed_signature) read from the index alone: a bucket row
        # with its figures and body is wider than a page, and reading 744 of them only
        # for their revision cost more than the body itself.
        "CREATE INDEX IF NOT EXISTS hq_feed_signature ON hq_feed (store, period, start, revision)",
    ],
    # v8: retention (hq/retention.py): each store's events at or below `through` have been
    # deleted after `privacy.event_retention_days`; ingest counts such a seq a duplicate.
    [
        """CREATE TABLE IF NOT EXISTS hq_event_floor (
            store TEXT PRIMARY KEY,
            through {bigint} NOT NULL,
            pruned_at TEXT NOT NULL
        )""",
    ],
    # v9: feed pages (hq/feeds.py): a store-day's buckets of one period as the API serves
    # them, their rows (hq.feeds.bucket_body) joined in time order, with their signature
    # (each bucket's store|start|revision joined by ';'). A store-month of hours is 31
    # page rows read in one query instead of 744 bucket rows read twice (signature, then
    # bodies). Written by whoever writes hq_feed, in the same transaction
    # (feeds.rebuild_pages). The pages replace v7's body per bucket, which is no longer
    # written (a bucket rewritten drops it): stored twice, a chain's year no longer fit
    # in memory. Built here from those bodies; a day with a bucket without one gets a
    # page with body NULL, which the feed worker fills in (Rollup.fill_pages) and
    # readers derive meanwhile.
    [
        """CREATE TABLE IF NOT EXISTS hq_feed_page (
            store TEXT NOT NULL,
            period TEXT NOT NULL,
            day TEXT NOT NULL,
            signature TEXT NOT NULL,
            body TEXT,
            PRIMARY KEY (store, period, day)
        )""",
        "{feed_page_fill}",
        "CREATE INDEX IF NOT EXISTS hq_feed_page_no_body ON hq_feed_page (store) WHERE body IS NULL",
        # Signatures come from the pages now (the chain's reads hq_feed_day).
        "DROP INDEX IF EXISTS hq_feed_signature",
        "DROP INDEX IF EXISTS hq_feed_no_body",
    ],
    # v10: each feed page deflated too (hq/deflated.py: CRC-32, length, raw deflate
    # flushed to a byte boundary), so a store's feed goes out gzip-encoded, pieces
    # joined, 13× smaller, with nothing compressed per request. feeds.rebuild_pages
    # writes it with the page; pages from before wait for it (NULL) until the feed
    # worker fills it in (Rollup.fill_pages), and a range with such a page is served
    # uncompressed meanwhile.
    [
        "ALTER TABLE hq_feed_page ADD COLUMN deflated {blob}",
        "{piece_storage}",
        "{page_lz4}",
        "CREATE INDEX IF NOT EXISTS hq_feed_page_no_piece ON hq_feed_page (store)"
        " WHERE deflated IS NULL",
    ],
]

SCHEMA_VERSION = len(_MIGRATIONS)


def feed_page_fill(dialect: Dialect) -> str:
    """INSERT the feed pages of every bucket from the bodies of schema version 7: one page
    per store, period and local day, the bodies and signatures in time order."""
    item = "store || '|' || start || '|' || revision"
    if dialect == "postgresql":
        return (
            "INSERT INTO hq_feed_page (store, period, day, signature, body)"
            f" SELECT store, period, day, string_agg({item}, ';' ORDER BY start),"
            " CASE WHEN count(body) = count(*) THEN string_agg(body, ',' ORDER BY start) END"
            f" FROM hq_feed GROUP BY store, period, day"
        )
    # SQLite 3.40 (Debian 12) has no ORDER BY inside an aggregate; a window's does order.
    window = (
        "PARTITION BY store, period, day ORDER BY start"
        " ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING"
    )
    return (
        "INSERT INTO hq_feed_page (store, period, day, signature, body)"
        " SELECT store, period, day, sig, CASE WHEN nb = n THEN bodies END FROM ("
        " SELECT store, period, day, row_number() OVER w AS r,"
        f" group_concat({item}, ';') OVER w AS sig, group_concat(body, ',') OVER w AS bodies,"
        f" count(body) OVER w AS nb, count(*) OVER w AS n FROM hq_feed WINDOW w AS ({window})"
        ") WHERE r = 1"
    )


for _dialect, _types in _TYPES.items():
    _types["feed_page_fill"] = feed_page_fill(_dialect)  # type: ignore[arg-type]

VERSION_TABLE = "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"


class SchemaError(RuntimeError):
    """The database's schema is newer than this code understands."""


def migrations(dialect: Dialect, current: int) -> list[tuple[int, list[str]]]:
    """(version, statements) for every migration above `current`; raises SchemaError."""
    if current > SCHEMA_VERSION:
        raise SchemaError(
            f"database schema is version {current}, this code knows up to {SCHEMA_VERSION}"
        )
    types = _TYPES[dialect]
    return [
        (version, [stmt.format(**types) for stmt in _MIGRATIONS[version - 1]])
        for version in range(current + 1, SCHEMA_VERSION + 1)
    ]
