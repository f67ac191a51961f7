"""The store agent's config tree (``store.toml``): one declared type per section.

`config/store.example.toml` documents every key; `touchpoint config check` runs
`load_store_config` and prints each problem as ``file: key.path: message``.
Secrets (chain keys, the MQTT password, the app-token key) are file names, looked
up by `SecretResolver`, never values.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from devices.serial_port import PortSpecError, check_port_spec
from edge.configtree import Problem, SecretResolver, load
from edge.hours import OpeningHours, interval_problems

ID_PATTERN = "^[A-Za-z0-9_-]{1,32}$"
StoreId = Annotated[str, Meta(pattern=ID_PATTERN, description="store id, [A-Za-z0-9_-]{1,32}")]
Name = Annotated[str, Meta(pattern=ID_PATTERN)]
Port = Annotated[int, Meta(ge=1, le=65535)]
HHMM = Annotated[str, Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
# A closing time may be 24:00 (midnight at the end of the day).
CLOSE = Annotated[str, Meta(pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$")]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DATE = Annotated[str, Meta(pattern=r"^\d{4}-\d\d-\d\d$")]
Intervals = Annotated[list[tuple[HHMM, CLOSE]], Meta(max_length=8)]


def described(text: str, **bounds: object) -> Meta:
    """Shorthand: a Meta with a description and optional bounds."""
    return Meta(description=text, **bounds)  # type: ignore[arg-type]


class Section(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    """Base of every config table: unknown keys are errors."""


class StoreSection(Section, kw_only=True):
    id: Annotated[
        str, described("store id, [A-Za-z0-9_-]{1,32}; also the MQTT user", pattern=ID_PATTERN)
    ]
    name: Annotated[str, described("human name of the store", min_length=1, max_length=100)] = ""
    timezone: Annotated[str, described("IANA time zone for hours and opening time")] = (
        "Europe/Amsterdam"
    )
    opening_time: Annotated[
        HHMM, described("local time (HH:MM) the occupancy counter resets when `hours` is empty")
    ] = "08:00"
    hours: Annotated[
        dict[Weekday, Intervals],
        described(
            'opening hours per weekday, e.g. mon = [["09:00", "18:00"]]; empty = open all day'
        ),
    ] = msgspec.field(default_factory=dict)
    hours_exceptions: Annotated[
        dict[DATE, Intervals],
        described("dated opening hours that replace the weekday's ([] = closed), e.g. holidays"),
    ] = msgspec.field(default_factory=dict)


def store_hours(store: StoreSection) -> OpeningHours:
    """The store's opening hours from its config (open all day when none are set)."""
    if not store.hours:
        return OpeningHours.open_all_day(reset=store.opening_time)
    return OpeningHours.from_mapping(store.hours, store.hours_exceptions)


class DatabaseSection(Section, kw_only=True):
    path: Annotated[str, described("store database file (SQLite, WAL)")] = (
        "/var/lib/touchpoint/store.db"
    )
    commit_interval_ms: Annotated[
        int, described("longest an event waits for its group commit", ge=0, le=100)
    ] = 20
    batch_max: Annotated[int, described("most events in one group commit", ge=1, le=100_000)] = 5000
    busy_timeout_ms: Annotated[int, described("SQLite busy timeout", ge=100, le=60_000)] = 5000
    retention_days: Annotated[
        int, described("keep acknowledged events this long", ge=1, le=400)
    ] = 30
    min_free_mb: Annotated[
        int, described("raise the low-disk alarm below this much free space", ge=1, le=100_000)
    ] = 200
    max_pending_events: Annotated[
        int,
        described(
            "events held in memory while commits fail (disk full); more are dropped and counted",
            ge=100,
            le=1_000_000,
        ),
    ] = 10_000


class ChainKey(Section, kw_only=True):
    id: Annotated[Name, described("key id recorded with each pseudonym (for rotation)")]
    file: Annotated[str, described("secret file holding the chain pseudonym key")]


class IdentitySection(Section, kw_only=True):
    active_key: Annotated[Name, described("id of the chain key used for new pseudonyms")]
    keys: Annotated[
        list[ChainKey], described("chain pseudonym keys by id", min_length=1, max_length=8)
    ]
    token_key_file: Annotated[
        str, described("secret file holding the app QR token signing key")
    ] = ""
    token_step_s: Annotated[int, described("app token time step in seconds", ge=5, le=3600)] = 30
    visit_window_min: Annotated[
        int, described("one identified visit per pseudonym per window", ge=5, le=1440)
    ] = 120
    loyalty_pattern: Annotated[str, described("regex a loyalty card number matches")] = (
        r"^(2\d{12}|\d{16,19})$"
    )
    order_prefix: Annotated[str, described("prefix of a click-&-collect pick-up code")] = "TPO-"
    staff_prefix: Annotated[str, described("prefix of a staff badge code")] = "STAFF-"


class MqttSection(Section, kw_only=True):
    enabled: Annotated[bool, described("sync with head office (false: record locally only)")] = True
    host: Annotated[str, described("head-office broker host name", min_length=1)] = "localhost"
    port: Annotated[Port, described("broker port (8883 for TLS)")] = 8883
    tls: Annotated[bool, described("use TLS (required off-site)")] = True
    ca_file: Annotated[str, described("CA certificate to trust; empty = system store")] = ""
    password_file: Annotated[
        str, described("secret file holding this store's MQTT password; empty = none")
    ] = ""
    keepalive_s: Annotated[int, described("MQTT keepalive", ge=5, le=3600)] = 30
    session_expiry_s: Annotated[int, described("MQTT v5 session expiry", ge=0, le=7 * 86400)] = (
        86400
    )
    max_inflight: Annotated[
        int, described("unacknowledged QoS 1 batches in flight", ge=1, le=100)
    ] = 8
    batch_max_kib: Annotated[int, described("largest up/events payload", ge=1, le=256)] = 256


class VisitsSection(Section, kw_only=True):
    staff_count: Annotated[
        int, described("staff entries per day to subtract from visitors", ge=0, le=1000)
    ] = 0
    exclude_staff_badges: Annotated[bool, described("subtract staff badge scans at the door")] = (
        True
    )


class KioskSection(Section, kw_only=True):
    language: Annotated[
        Literal["nl", "en"], described("language the kiosk starts in (shoppers can switch)")
    ] = "nl"
    idle_s: Annotated[
        int, described("seconds without a touch or scan before the wipe countdown", ge=10, le=3600)
    ] = 60
    countdown_s: Annotated[
        int, described("seconds of countdown before the session is wiped", ge=3, le=120)
    ] = 15
    low_stock_below: Annotated[
        int, described("show 'only N left' when stock here is above 0 and below this", ge=1, le=100)
    ] = 5
    nearby_stores: Annotated[
        int, described("other stores shown on a product page", ge=0, le=20)
    ] = 5
    alternatives: Annotated[
        int, described("in-stock alternatives shown for a product sold out here", ge=0, le=10)
    ] = 3
    price_band_pct: Annotated[
        int, described("an alternative's price is within this percentage", ge=5, le=100)
    ] = 30
    page_size: Annotated[int, described("search results per page", ge=3, le=20)] = 6
    search_delay_ms: Annotated[
        int, described("wait this long after the last key before searching", ge=0, le=1000)
    ] = 150
    recognition_timeout_ms: Annotated[
        int, described("longest wait for head office to recognise a shopper", ge=100, le=5000)
    ] = 1000
    recognition: Annotated[
        bool,
        described(
            "ask head office over MQTT who a scanned card is (user {store.id}-kiosk; needs [mqtt])"
        ),
    ] = True
    mqtt_password_file: Annotated[
        str, described("secret file holding the kiosk's broker password; empty = none")
    ] = ""
    scanner: Annotated[
        str,
        described(
            "name of the serial_scanner device (role kiosk) the kiosk reads; the agent leaves it alone"
        ),
    ] = ""
    shopper_mode: Annotated[
        bool, described("no quit key and no command palette (false only for staff and testing)")
    ] = True
    staff_idle_s: Annotated[
        int,
        described("staff mode signs out by itself after this many idle seconds", ge=30, le=3600),
    ] = 120
    staff_bell: Annotated[
        bool, described("ring the terminal bell on the staff queue when a shopper checks in")
    ] = True


# --- devices ----------------------------------------------------------------------------


class DeviceBase(Section, tag_field="type", kw_only=True):
    name: Annotated[Name, described("device id, unique in this store")]


class CounterBase(DeviceBase, kw_only=True):
    door: Annotated[Name, described("door this counter watches")] = "main"
    directional: Annotated[bool, described("counter tells in from out")] = True


class TerabeeCounter(CounterBase, tag="terabee", kw_only=True):
    port: Annotated[str, described("/dev/serial/by-id/… path or VID:PID[:serial]", min_length=1)]
    baudrate: Annotated[int, described("serial speed", ge=1200, le=3_000_000)] = 115200


class AsciiCounter(CounterBase, tag="ascii_counter", kw_only=True):
    port: Annotated[str, described("/dev/serial/by-id/… path or VID:PID[:serial]", min_length=1)]
    baudrate: Annotated[int, described("serial speed", ge=1200, le=3_000_000)] = 115200


class GpioBeams(CounterBase, tag="gpio_beams", kw_only=True):
    pin_a: Annotated[int, described("BCM pin of the outer beam", ge=0, le=27)]
    pin_b: Annotated[int, described("BCM pin of the inner beam", ge=0, le=27)]
    bounce_ms: Annotated[int, described("debounce time", ge=0, le=500)] = 20
    crossing_timeout_ms: Annotated[
        int, described("a half crossing older than this is dropped", ge=100, le=10_000)
    ] = 1500


class CameraCounter(CounterBase, tag="camera_counter", kw_only=True):
    source: Annotated[str, described("camera index, video file or rtsp:// URL", min_length=1)]
    line: Annotated[
        list[int],
        described(
            "counting line X1,Y1,X2,Y2 in width x height coordinates", min_length=4, max_length=4
        ),
    ]
    in_side: Annotated[
        Literal["left", "right"], described("side of the directed line that is inside")
    ] = "left"
    min_area: Annotated[int, described("smallest person blob in pixels", ge=1)] = 200
    max_area: Annotated[int, described("largest single-person blob in pixels", ge=1)] = 1200
    width: Annotated[
        int, described("width of the coordinate system of line and areas", ge=80, le=1920)
    ] = 320
    height: Annotated[
        int, described("height of the coordinate system of line and areas", ge=60, le=1080)
    ] = 240


class SerialScanner(DeviceBase, tag="serial_scanner", kw_only=True):
    port: Annotated[str, described("/dev/serial/by-id/… path or VID:PID[:serial]", min_length=1)]
    baudrate: Annotated[int, described("serial speed", ge=1200, le=3_000_000)] = 9600
    prefix: Annotated[str, described("prefix the scanner puts before each code")] = ""
    suffix: Annotated[Literal["cr", "lf", "crlf"], described("terminator after each code")] = "cr"
    duplicate_window_ms: Annotated[
        int, described("ignore the same code again within this time", ge=0, le=60_000)
    ] = 1500
    role: Annotated[Literal["door", "kiosk", "counter"], described("where the scanner stands")] = (
        "door"
    )
    door: Annotated[Name, described("door the scanner stands at (role = door)")] = "main"


class CameraScanner(DeviceBase, tag="camera_scanner", kw_only=True):
    source: Annotated[str, described("camera index, video file or rtsp:// URL", min_length=1)]
    duplicate_window_ms: Annotated[
        int, described("ignore the same code again within this time", ge=0, le=60_000)
    ] = 3000
    role: Annotated[Literal["door", "kiosk", "counter"], described("where the scanner stands")] = (
        "kiosk"
    )
    door: Annotated[Name, described("door the scanner stands at (role = door)")] = "main"


DeviceConfig = (
    TerabeeCounter | AsciiCounter | GpioBeams | CameraCounter | SerialScanner | CameraScanner
)


class StoreConfig(Section, kw_only=True):
    store: Annotated[StoreSection, described("who this store is")]
    identity: Annotated[IdentitySection, described("pseudonym keys and scan classification")]
    database: Annotated[DatabaseSection, described("the store database")] = msgspec.field(
        default_factory=DatabaseSection
    )
    mqtt: Annotated[MqttSection, described("the uplink to head office")] = msgspec.field(
        default_factory=MqttSection
    )
    visits: Annotated[VisitsSection, described("visitor counting rules")] = msgspec.field(
        default_factory=VisitsSection
    )
    kiosk: Annotated[KioskSection, described("the shopper kiosk")] = msgspec.field(
        default_factory=KioskSection
    )
    devices: Annotated[
        list[DeviceConfig], described("door counters and scanners", max_length=64)
    ] = msgspec.field(default_factory=list)


def check_chain_keys(keys: list[ChainKey], active: str, secrets: SecretResolver) -> list[Problem]:
    """The active key exists, key ids are unique, every key file is there (store and HQ)."""
    problems: list[Problem] = []
    ids = [k.id for k in keys]
    if active not in ids:
        problems.append(
            Problem("identity.active_key", f"expected one of {', '.join(ids)}, got {active!r}")
        )
    for i, key in enumerate(keys):
        if key.id in ids[:i]:
            problems.append(Problem(f"identity.keys[{i}].id", f"duplicate key id {key.id!r}"))
        problems += _secret(secrets, key.file, f"identity.keys[{i}].file")
    return problems


def store_cross_checks(cfg: StoreConfig, secrets: SecretResolver) -> list[Problem]:
    """Checks that span keys: references, uniqueness and secret files."""
    problems = check_chain_keys(cfg.identity.keys, cfg.identity.active_key, secrets)
    if cfg.identity.token_key_file:
        problems += _secret(secrets, cfg.identity.token_key_file, "identity.token_key_file")
    if cfg.mqtt.password_file:
        problems += _secret(secrets, cfg.mqtt.password_file, "mqtt.password_file")
    if cfg.kiosk.mqtt_password_file:
        problems += _secret(secrets, cfg.kiosk.mqtt_password_file, "kiosk.mqtt_password_file")
    if cfg.mqtt.ca_file and not Path(cfg.mqtt.ca_file).is_file():
        problems.append(Problem("mqtt.ca_file", f"file not found: {cfg.mqtt.ca_file}"))
    seen: set[str] = set()
    for i, dev in enumerate(cfg.devices):
        if dev.name in seen:
            problems.append(Problem(f"devices[{i}].name", f"duplicate device name {dev.name!r}"))
        seen.add(dev.name)
        port = getattr(dev, "port", None)
        if port is not None:
            try:
                check_port_spec(port)
            except PortSpecError as exc:
                problems.append(Problem(f"devices[{i}].port", str(exc)))
        if isinstance(dev, CameraCounter) and dev.min_area >= dev.max_area:
            problems.append(Problem(f"devices[{i}].min_area", "expected min_area < max_area"))
    problems += _check_kiosk_scanner(cfg)
    problems += _check_timezone(cfg.store.timezone)
    if cfg.store.id == "_chain":  # sync.wire.CHAIN; edge may not import sync
        problems.append(Problem("store.id", "'_chain' is reserved for the chain roll-up's feeds"))
    for where, table in (
        ("hours", cfg.store.hours),
        ("hours_exceptions", cfg.store.hours_exceptions),
    ):
        for day, spans in table.items():
            problems += [Problem(f"store.{where}.{day}", msg) for msg in interval_problems(spans)]
    try:
        re.compile(cfg.identity.loyalty_pattern)
    except re.error as exc:
        problems.append(
            Problem("identity.loyalty_pattern", f"not a valid regular expression: {exc}")
        )
    return problems


def kiosk_scanner(cfg: StoreConfig) -> SerialScanner | None:
    """The serial scanner the kiosk owns (the agent does not open it), if any."""
    for dev in cfg.devices:
        if dev.name == cfg.kiosk.scanner and isinstance(dev, SerialScanner):
            return dev
    return None


def _check_kiosk_scanner(cfg: StoreConfig) -> list[Problem]:
    name = cfg.kiosk.scanner
    if not name:
        return []
    dev = kiosk_scanner(cfg)
    if dev is None:
        return [
            Problem("kiosk.scanner", f"expected the name of a serial_scanner device, got {name!r}")
        ]
    if dev.role != "kiosk":
        return [Problem("kiosk.scanner", f'device {name!r} must have role = "kiosk"')]
    return []


def _secret(secrets: SecretResolver, name: str, path: str) -> list[Problem]:
    problem = secrets.problem(name, path)
    return [problem] if problem else []


def _check_timezone(name: str) -> list[Problem]:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return [Problem("store.timezone", f"expected an IANA time zone, got {name!r}")]
    return []


def load_store_config(file: Path, secrets: SecretResolver | None = None) -> StoreConfig:
    """Load and fully check a store config; raises ConfigError listing every problem."""
    return load(Path(file), StoreConfig, secrets=secrets, extra_checks=store_cross_checks)
