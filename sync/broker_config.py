"""Head office's mosquitto config and ACL, generated from a list of stores (pure: text out).

The wire contract (DESIGN.md §4, docs/broker.md): a store writes only
``touchpoint/v1/{id}/up/#`` and reads only ``touchpoint/v1/{id}/down/#``; the HQ
users read every store's ``up/`` and write every store's ``down/`` and ``feed/``.
The access rules themselves are in ``sync.broker_dynsec``. Files are written by
``sync.broker_files``; this module only validates the input and decides the config.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path

from sync.wire import CHAIN

TOPIC_ROOT = "touchpoint/v1"
USER_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")

# Mosquitto keeps queued messages in memory and drops new ones *silently* past either
# limit, per client. 100,000 messages covers days of a store's live batches queued for
# an HQ ingester that is down; the byte cap keeps a flood of 256 KiB batches from
# exhausting RAM. Past them, the end-to-end ack + resend_from recovers what was dropped.
MAX_QUEUED_MESSAGES = 100_000
MAX_QUEUED_BYTES = 256 * 1024 * 1024
# Outgoing QoS 1 messages awaiting PUBACK per client: enough to keep an ingester busy.
MAX_INFLIGHT_MESSAGES = 100
# An up/events batch is at most 256 KiB of payload; the rest is headroom for the topic,
# properties and downlinked catalogs. Advertised to v5 clients in CONNACK.
MAX_PACKET_BYTES = 1024 * 1024
# Each autosave writes the whole in-memory database; a crash loses at most this many
# seconds of broker state, which the outbox replays.
AUTOSAVE_INTERVAL_S = 60
# Longer than any store's MQTT session expiry (≤ 7 days), so only abandoned sessions
# (a closed store, a renamed ingester) are ever expired by this.
PERSISTENT_CLIENT_EXPIRATION = "30d"


def kiosk_user(store: str) -> str:
    """A store kiosk's broker user (and client id): it may only ask for and read lookups."""
    return f"{store}-kiosk"


def lookup_user(hq_user: str) -> str:
    """The broker user of an HQ process's lookup responder (its own connection)."""
    return f"{hq_user}-lookup"


class BrokerConfigError(ValueError):
    """Bad input from the person running `touchpoint broker config`."""


class BrokerSetupError(RuntimeError):
    """The broker directory could not be written (missing tool, unreadable file)."""


@dataclass(frozen=True)
class BrokerSpec:
    """Everything the generated broker directory depends on."""

    out: Path
    stores: tuple[str, ...]
    hq_users: tuple[str, ...] = ("hq",)
    feeds_user: str | None = None
    tls_port: int = 8883
    plain_port: int | None = None
    plain_bind: str = "127.0.0.1"

    @property
    def kiosk_users(self) -> tuple[str, ...]:
        """One kiosk user per store, for recognition lookups."""
        return tuple(kiosk_user(s) for s in self.stores)

    @property
    def lookup_users(self) -> tuple[str, ...]:
        """One lookup-responder user per HQ user."""
        return tuple(lookup_user(h) for h in self.hq_users)

    @property
    def users(self) -> tuple[str, ...]:
        """Every broker user: stores, HQ users, feeds reader, kiosks, lookup responders."""
        feeds = (self.feeds_user,) if self.feeds_user else ()
        return (*self.stores, *self.hq_users, *feeds, *self.kiosk_users, *self.lookup_users)

    @property
    def conf_path(self) -> Path:
        """The mosquitto config file."""
        return self.out / "mosquitto.conf"

    @property
    def dynsec_path(self) -> Path:
        """The access rules: the dynamic-security plugin's config file."""
        return self.out / "dynsec.json"

    @property
    def legacy_acl_path(self) -> Path:
        """The acl_file that earlier versions wrote; removed on re-run."""
        return self.out / "acl"

    @property
    def passwd_path(self) -> Path:
        """The hashed password file."""
        return self.out / "passwd"

    @property
    def tls_dir(self) -> Path:
        """Where the CA and server certificate live."""
        return self.out / "tls"

    @property
    def credentials_dir(self) -> Path:
        """Plain-text passwords, one file per user, for provisioning."""
        return self.out / "credentials"

    @property
    def data_dir(self) -> Path:
        """Mosquitto's persistence directory."""
        return self.out / "data"


def parse_ids(text: str) -> tuple[str, ...]:
    """Split a comma-separated list of ids, dropping blanks around commas."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def make_spec(
    out: Path,
    stores: tuple[str, ...],
    *,
    hq_users: tuple[str, ...] = ("hq",),
    feeds_user: str | None = None,
    tls_port: int = 8883,
    plain_port: int | None = None,
    plain_bind: str = "127.0.0.1",
) -> BrokerSpec:
    """A validated spec; raises BrokerConfigError listing every problem."""
    problems: list[str] = []
    if not stores:
        problems.append("--stores: give at least one store id")
    if not hq_users:
        problems.append("--hq-user: give at least one HQ user")
    named = [("store id", s) for s in stores] + [("HQ user", u) for u in hq_users]
    if feeds_user:
        named.append(("feeds user", feeds_user))
    seen: set[str] = set()
    for kind, name in named:
        if not USER_ID.fullmatch(name):
            problems.append(f"{kind} {name!r}: expected 1-32 characters of A-Z a-z 0-9 _ -")
        elif name == CHAIN:
            problems.append(f"{kind} {name!r}: reserved for the chain roll-up's feed topics")
        elif name in seen:
            # A store called like an HQ user would get HQ's ACL: refuse any clash.
            problems.append(f"{kind} {name!r}: named twice (users must be unique)")
        seen.add(name)
    derived = [("kiosk user", kiosk_user(s)) for s in stores]
    derived += [("lookup user", lookup_user(u)) for u in hq_users]
    for kind, name in derived:
        # A store called "a-kiosk" next to store "a" would share a user with a's kiosk.
        if name in seen:
            problems.append(f"{kind} {name!r}: also the name of another user")
        seen.add(name)
    for flag, port in (("--tls-port", tls_port), ("--plain-port", plain_port)):
        if port is not None and not 1 <= port <= 65535:
            problems.append(f"{flag} {port}: expected a port 1..65535")
    if plain_port is not None and plain_port == tls_port:
        problems.append(f"--plain-port {plain_port}: same as --tls-port")
    if not _is_loopback(plain_bind):
        # Passwords cross a plain listener in clear text: keep it on this machine.
        problems.append(f"--plain-bind {plain_bind!r}: the plain listener must be loopback")
    if problems:
        raise BrokerConfigError("\n".join(problems))
    return BrokerSpec(
        out=Path(out).absolute(),
        stores=tuple(stores),
        hq_users=tuple(hq_users),
        feeds_user=feeds_user or None,
        tls_port=tls_port,
        plain_port=plain_port,
        plain_bind=plain_bind,
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def mosquitto_conf(spec: BrokerSpec, dynsec_plugin: Path) -> str:
    """The mosquitto.conf for head office (mosquitto 2.0), loading `dynsec_plugin`."""
    tls = spec.tls_dir
    stores = ", ".join(spec.stores)
    lines = [
        "# touchpoint-edge head-office broker, generated by `touchpoint broker config`.",
        "# Do not edit by hand: re-run the command (existing passwords are kept).",
        "# See docs/broker.md. Passwords: systemctl reload mosquitto (SIGHUP); access rules",
        "# (dynsec.json) and this file: systemctl restart mosquitto.",
        f"# Stores ({len(spec.stores)}): {stores}",
        f"# HQ users: {', '.join(spec.hq_users)}",
        "",
        "# One password file and one set of access rules for every listener.",
        "per_listener_settings false",
        "allow_anonymous false",
        f"password_file {spec.passwd_path}",
        "# Access rules: the dynamic-security plugin, because an acl_file never refuses a",
        "# SUBSCRIBE (any store could join HQ's $share/hq group and divert its batches).",
        "# Its clients have no passwords, so it defers authentication to password_file.",
        "# No acl_file: a user the plugin does not list gets nothing. The plugin reads",
        "# dynsec.json only at start-up: restart mosquitto after it changes.",
        f"plugin {dynsec_plugin}",
        f"plugin_opt_config_file {spec.dynsec_path}",
        "",
        "# Persistence: queued messages, retained acks/catalogs and sessions survive a",
        "# restart. A crash still loses up to autosave_interval seconds, which is why",
        "# nothing leaves a store's outbox before HQ's down/ack covers it.",
        "persistence true",
        f"persistence_location {spec.data_dir}/",
        f"autosave_interval {AUTOSAVE_INTERVAL_S}",
        f"persistent_client_expiration {PERSISTENT_CLIENT_EXPIRATION}",
        "",
        "# Queue limits, per client. Past them mosquitto drops messages SILENTLY;",
        "# the end-to-end ack and resend_from recover them.",
        f"max_queued_messages {MAX_QUEUED_MESSAGES}",
        f"max_queued_bytes {MAX_QUEUED_BYTES}",
        f"max_inflight_messages {MAX_INFLIGHT_MESSAGES}",
        f"max_packet_size {MAX_PACKET_BYTES}",
        "# Small acks and live events go out without waiting on Nagle.",
        "set_tcp_nodelay true",
        "",
        "log_dest stderr",
        "log_type error",
        "log_type warning",
        "log_type notice",
        "log_type information",
        "connection_messages true",
        "log_timestamp_format %Y-%m-%dT%H:%M:%S",
        "",
        "# Stores connect here from off-site: TLS 1.2 or later, server certificate from",
        "# tls/make-ca.sh. use_username_as_clientid is a per-listener option: it makes the",
        "# client id the authenticated user, so no client can take over another's session.",
        f"listener {spec.tls_port}",
        f"cafile {tls / 'ca.crt'}",
        f"certfile {tls / 'server.crt'}",
        f"keyfile {tls / 'server.key'}",
        "tls_version tlsv1.2",
        "require_certificate false",
        "use_username_as_clientid true",
    ]
    if spec.plain_port is not None:
        lines += [
            "",
            "# Plain MQTT for clients on this machine only (HQ ingesters, tests).",
            f"listener {spec.plain_port} {spec.plain_bind}",
            "use_username_as_clientid true",
        ]
    return "\n".join(lines) + "\n"
