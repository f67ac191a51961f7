"""Head office's config tree (``hq.toml``): ingest, storage backend, keys and privacy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import msgspec

from edge.config import (
    ID_PATTERN,
    ChainKey,
    MqttSection,
    Name,
    Section,
    check_chain_keys,
    described,
)
from edge.configtree import Problem, SecretResolver, load


class HqSection(Section, kw_only=True):
    id: Annotated[
        str, described("ingester id, unique per HQ process; MQTT client id", pattern=ID_PATTERN)
    ] = "hq-1"
    stores: Annotated[
        list[Annotated[str, msgspec.Meta(pattern=ID_PATTERN)]],
        described("store ids expected to report (for the offline view); empty = any"),
    ] = msgspec.field(default_factory=list)
    timezone: Annotated[str, described("IANA time zone of the feeds' local hours")] = (
        "Europe/Amsterdam"
    )
    currency: Annotated[
        str,
        described(
            "the chain's ISO 4217 currency; imported transactions must use it",
            pattern=r"^[A-Z]{3}$",
        ),
    ] = "EUR"


class HqDatabaseSection(Section, kw_only=True):
    backend: Annotated[
        Literal["sqlite", "postgresql"], described("where head office stores events and feeds")
    ] = "sqlite"
    path: Annotated[str, described("SQLite file (backend = sqlite)")] = "/var/lib/touchpoint/hq.db"
    dsn_file: Annotated[
        str, described("secret file holding the PostgreSQL DSN (backend = postgresql)")
    ] = ""


class HqMqttSection(MqttSection, kw_only=True):
    username: Annotated[str, described("HQ's broker user", min_length=1)] = "hq"


class IngestSection(Section, kw_only=True):
    gap_timeout_s: Annotated[
        float, described("wait this long for a missing seq before resend_from", ge=0.1, le=3600)
    ] = 10.0
    max_batch_kib: Annotated[
        int, described("reject up/events payloads larger than this", ge=1, le=1024)
    ] = 256


class LookupSection(Section, kw_only=True):
    enabled: Annotated[
        bool, described("answer kiosk recognition lookups from this process (several may)")
    ] = True
    username: Annotated[
        str,
        described(
            "broker user of the lookup connection; empty = mqtt.username + '-lookup'",
            max_length=64,
        ),
    ] = ""
    password_file: Annotated[
        str, described("secret file holding that user's broker password; empty = none")
    ] = ""
    max_age_s: Annotated[
        float,
        described(
            "drop a request unanswered after waiting this long (the kiosk gave up)", ge=0.1, le=10
        ),
    ] = 2.0


class HqIdentitySection(Section, kw_only=True):
    keys: Annotated[
        list[ChainKey],
        described("the chain pseudonym keys, same ids as the stores", min_length=1, max_length=8),
    ]
    active_key: Annotated[Name, described("key used to pseudonymise imported profiles")]


class PrivacySection(Section, kw_only=True):
    unconsented_ttl_h: Annotated[
        int, described("delete pseudonyms of visits without consent after", ge=1, le=720)
    ] = 24
    personal_event_days: Annotated[
        int, described("blank an order's contact details this long after they arrive", ge=1, le=400)
    ] = 30
    event_retention_days: Annotated[
        int, described("keep raw store events this long", ge=1, le=800)
    ] = 400


class FeedsSection(Section, kw_only=True):
    enabled: Annotated[
        bool, described("run the rollup and publish feeds from this process (one runs at a time)")
    ] = True
    interval_s: Annotated[
        float, described("how often dirty buckets are recomputed and published", ge=0.05, le=60)
    ] = 1.0
    today_every_s: Annotated[
        float,
        described(
            "a store's running day is recomputed at most this often (past days at once)",
            ge=0,
            le=3600,
        ),
    ] = 15.0
    settle_max_s: Annotated[
        float,
        described(
            "while a store's batches keep arriving, wait this long at most before recomputing",
            ge=0,
            le=60,
        ),
    ] = 4.0
    provisional_s: Annotated[
        float, described("how often provisional buckets are re-checked", ge=1, le=3600)
    ] = 60.0
    housekeeping_s: Annotated[
        float, described("how often expired pseudonyms are deleted", ge=1, le=86400)
    ] = 600.0
    visit_window_min: Annotated[
        int,
        described("a receipt this long after an identified visit is its purchase", ge=5, le=1440),
    ] = 120
    online_before_days: Annotated[
        int,
        described("online-to-offline: active online this many days before the visit", ge=1, le=365),
    ] = 30
    online_after_days: Annotated[
        int,
        described("offline-to-online: ordered online this many days after the visit", ge=1, le=90),
    ] = 7


class PublishSection(Section, kw_only=True):
    nearest_stores: Annotated[
        int,
        described("each store is sent the stock of this many nearest stores", ge=0, le=50),
    ] = 5
    username: Annotated[
        str,
        described(
            "broker user of `hq publish`; empty = mqtt.username (give it its own HQ user"
            " when `hq run` logs in as mqtt.username: one user is one client id)"
        ),
    ] = ""
    password_file: Annotated[
        str,
        described("secret file with that user's password; empty = mqtt.password_file"),
    ] = ""
    max_inflight: Annotated[
        int, described("parts awaiting their PUBACK at a time", ge=1, le=1000)
    ] = 64
    timeout_s: Annotated[
        float, described("wait this long for the broker (connect, each PUBACK)", ge=1, le=600)
    ] = 30.0


class WebSection(Section, kw_only=True):
    host: Annotated[str, described("address `hq serve` listens on", min_length=1)] = "127.0.0.1"
    port: Annotated[int, described("TCP port of `hq serve`", ge=1, le=65535)] = 8080
    users_file: Annotated[
        str,
        described("dashboard users (scrypt hashes, stores); relative = next to this config"),
    ] = "/var/lib/touchpoint/hq-web-users.json"
    tokens_file: Annotated[
        str,
        described("API bearer tokens (sha256 hashes only); relative = next to this config"),
    ] = "/var/lib/touchpoint/hq-web-tokens.json"
    state_file: Annotated[
        str,
        described(
            "SQLite file of the web app's own state shared by its workers (sessions, CSRF"
            " secret, login limits); relative = next to this config"
        ),
    ] = "/var/lib/touchpoint/hq-web/state.db"
    workers: Annotated[
        int, described("worker processes of `hq serve`; 0 = one per CPU", ge=0, le=64)
    ] = 0
    dsn_file: Annotated[
        str,
        described("secret file with a read-only role's PostgreSQL DSN; empty = database.dsn_file"),
    ] = ""
    cookie_secure: Annotated[
        bool, described("mark the session cookie Secure (off only for plain-HTTP tests)")
    ] = True
    session_minutes: Annotated[
        int, described("a dashboard session ends this long after login", ge=5, le=10080)
    ] = 480
    login_attempts: Annotated[
        int,
        described("failed logins allowed per user and address within login_window_s", ge=1, le=100),
    ] = 5
    login_window_s: Annotated[int, described("the window of login_attempts", ge=10, le=86400)] = 300
    db_connections: Annotated[
        int, described("read-only database connections shared by the requests", ge=1, le=64)
    ] = 8
    dashboard_refresh_s: Annotated[
        int, described("the dashboard pages poll for new figures this often", ge=2, le=600)
    ] = 10
    trusted_proxy: Annotated[
        str,
        described(
            "address of the reverse proxy whose X-Forwarded-For names the client; empty = none"
        ),
    ] = ""
    orders: Annotated[
        bool,
        described(
            "serve POST /api/v1/orders for the web shop: a writable connection of its own"
            " (docs/api.md)"
        ),
    ] = False
    orders_dsn_file: Annotated[
        str,
        described(
            "secret file with the PostgreSQL DSN of a role that may write the order tables,"
            " for POST /api/v1/orders; empty = database.dsn_file"
        ),
    ] = ""


class AlertsSection(Section, kw_only=True):
    enabled: Annotated[
        bool, described("evaluate and publish alerts in the feed worker (hq/alerts.py)")
    ] = True
    interval_s: Annotated[float, described("how often alerts are evaluated", ge=1, le=3600)] = 30.0
    unseen_s: Annotated[
        float,
        described(
            "a store not heard from (state or batch) this long counts as offline", ge=30, le=86400
        ),
    ] = 120.0
    offline_min: Annotated[
        float, described("alert when a store has been offline longer than this", ge=1, le=10080)
    ] = 15.0
    door_silent_min: Annotated[
        float,
        described(
            "alert when an online store's door sends no count this long while open", ge=1, le=1440
        ),
    ] = 30.0
    imbalance_pct: Annotated[
        float,
        described("alert when a day's exits and entries differ by more (at closing)", gt=0, le=100),
    ] = 10.0
    imbalance_min_crossings: Annotated[
        int,
        described(
            "judge the in/out balance only on days with this many crossings", ge=0, le=100_000
        ),
    ] = 20
    closing_grace_min: Annotated[
        float, described("judge a day's balance this long after closing", ge=0, le=720)
    ] = 15.0
    gap_min: Annotated[
        float, described("alert when a sequence gap has been open longer than this", ge=1, le=10080)
    ] = 60.0
    dead_letter_min: Annotated[
        float,
        described("alert while dead letters arrived within this many minutes", ge=1, le=10080),
    ] = 60.0


class OrdersSection(Section, kw_only=True):
    enabled: Annotated[
        bool,
        described("route pick-up orders to the stores and track their state from this process"),
    ] = True
    interval_s: Annotated[
        float,
        described("how often new order versions and store events are looked for", ge=0.05, le=10),
    ] = 0.2
    hold_days: Annotated[
        int, described("a ready order waits this many days for its shopper", ge=1, le=60)
    ] = 7
    code_prefix: Annotated[
        str,
        described(
            "imported pick-up codes must start with this (the stores' identity.order_prefix)",
            max_length=16,
        ),
    ] = "TPO-"
    kiosk_promise_h: Annotated[
        int,
        described(
            "a kiosk order for pick-up at another store is promised ready this many hours later",
            ge=1,
            le=720,
        ),
    ] = 48


class HqConfig(Section, kw_only=True):
    hq: Annotated[HqSection, described("this head-office process")] = msgspec.field(
        default_factory=HqSection
    )
    identity: Annotated[HqIdentitySection, described("chain pseudonym keys")]
    database: Annotated[HqDatabaseSection, described("storage backend")] = msgspec.field(
        default_factory=HqDatabaseSection
    )
    mqtt: Annotated[HqMqttSection, described("the broker head office listens on")] = msgspec.field(
        default_factory=HqMqttSection
    )
    ingest: Annotated[IngestSection, described("batch validation and gap repair")] = msgspec.field(
        default_factory=IngestSection
    )
    lookup: Annotated[LookupSection, described("kiosk recognition lookups")] = msgspec.field(
        default_factory=LookupSection
    )
    privacy: Annotated[PrivacySection, described("retention and consent rules")] = msgspec.field(
        default_factory=PrivacySection
    )
    feeds: Annotated[FeedsSection, described("visitor and conversion feeds")] = msgspec.field(
        default_factory=FeedsSection
    )
    publish: Annotated[
        PublishSection, described("`hq publish catalog|stock`: the stores' downlink")
    ] = msgspec.field(default_factory=PublishSection)
    web: Annotated[WebSection, described("`hq serve`: the feed API and dashboard")] = msgspec.field(
        default_factory=WebSection
    )
    alerts: Annotated[AlertsSection, described("store alerts (docs/wire.md, alerts)")] = (
        msgspec.field(default_factory=AlertsSection)
    )
    orders: Annotated[
        OrdersSection, described("click & collect: pick-up orders to the stores, their status")
    ] = msgspec.field(default_factory=OrdersSection)


def hq_cross_checks(cfg: HqConfig, secrets: SecretResolver) -> list[Problem]:
    """Checks that span keys: references and secret files."""
    problems = check_chain_keys(cfg.identity.keys, cfg.identity.active_key, secrets)
    if cfg.database.backend == "postgresql":
        if not cfg.database.dsn_file:
            problems.append(Problem("database.dsn_file", 'required when backend = "postgresql"'))
        elif p := secrets.problem(cfg.database.dsn_file, "database.dsn_file"):
            problems.append(p)
    if cfg.mqtt.password_file and (
        p := secrets.problem(cfg.mqtt.password_file, "mqtt.password_file")
    ):
        problems.append(p)
    for key, name in (
        ("publish.password_file", cfg.publish.password_file),
        ("lookup.password_file", cfg.lookup.password_file),
        ("web.dsn_file", cfg.web.dsn_file),
    ):
        if name and (p := secrets.problem(name, key)):
            problems.append(p)
    return problems


def load_hq_config(file: Path, secrets: SecretResolver | None = None) -> HqConfig:
    """Load and fully check an HQ config; raises ConfigError listing every problem."""
    return load(Path(file), HqConfig, secrets=secrets, extra_checks=hq_cross_checks)
