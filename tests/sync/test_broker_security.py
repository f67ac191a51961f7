"""`touchpoint broker config`: the generated files, then a real mosquitto running them.

The broker tests start mosquitto 2.0 with exactly the generated mosquitto.conf (a
plain 127.0.0.1 listener added for the test, plus the TLS listener with a certificate
from the generated make-ca.sh) and show the ACL, authentication and client-id rules
with real MQTT v5 clients.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sync.broker_config import (
    MAX_PACKET_BYTES,
    MAX_QUEUED_MESSAGES,
    BrokerConfigError,
    BrokerSetupError,
    make_spec,
    mosquitto_conf,
    parse_ids,
)
from sync.broker_dynsec import dynsec_text, find_dynsec_plugin, kiosk_role, store_role
from sync.broker_files import write_broker_dir
from sync.mosquitto import MosquittoProcess, free_port
from tests.support import touchpoint
from tests.sync.broker_peer import Peer

A, B = "store-a", "store-b"
NOT_AUTHORIZED = 0x87
BAD_USER_OR_PASSWORD = 0x86
# How long "nothing arrives" is watched; each such wait is followed by a message
# that must arrive, which proves the broker had time to deliver the forbidden one.
QUIET_S = 0.5


def topic(store: str, rest: str) -> str:
    return f"touchpoint/v1/{store}/{rest}"


def accepted(reason) -> bool:
    """PUBACK success: 0x00, or 0x10 "No matching subscribers" (still stored/retained)."""
    return reason.value in (0x00, 0x10)


# ---------------------------------------------------------------- generator, no broker


def rules_by_role(spec) -> dict[str, list[tuple[str, str]]]:
    """{role: [(acltype, topic), …]} from the generated dynsec.json, allow rules only."""
    config = json.loads(dynsec_text(spec))
    found = {}
    for role in config["roles"]:
        assert all(acl["allow"] is True for acl in role["acls"])
        found[role["rolename"]] = sorted((acl["acltype"], acl["topic"]) for acl in role["acls"])
    return found


def test_access_rules_confine_each_store_to_its_own_topics(tmp_path):
    spec = make_spec(tmp_path, (A, B), hq_users=("hq", "hq-2"), feeds_user="feeds")
    config = json.loads(dynsec_text(spec))
    # Deny by default: only what a role grants is allowed (no $SYS, no $CONTROL).
    assert config["defaultACLAccess"] == {
        "publishClientSend": False,
        "publishClientReceive": False,
        "subscribe": False,
        "unsubscribe": True,
    }
    assert config["groups"] == [], "no groups, so no anonymous group"
    users = {c["username"]: [r["rolename"] for r in c["roles"]] for c in config["clients"]}
    assert users == {
        A: [store_role(A)],
        B: [store_role(B)],
        "hq": ["hq"],
        "hq-2": ["hq"],
        "feeds": ["feeds"],
        f"{A}-kiosk": [kiosk_role(A)],
        f"{B}-kiosk": [kiosk_role(B)],
        "hq-lookup": ["hq-lookup"],
        "hq-2-lookup": ["hq-lookup"],
    }
    # No passwords here: the plugin defers authentication to the password file.
    assert not any({"password", "salt", "iterations"} & set(c) for c in config["clients"])
    roles = rules_by_role(spec)
    for store in (A, B):
        assert roles[store_role(store)] == [
            ("publishClientReceive", topic(store, "down/#")),
            ("publishClientSend", topic(store, "up/#")),
            ("subscribePattern", topic(store, "down/#")),
        ]
    assert roles["hq"] == sorted(
        [
            ("subscribePattern", "$share/hq/touchpoint/v1/+/up/#"),
            ("subscribePattern", "touchpoint/v1/+/up/#"),
            ("publishClientReceive", "touchpoint/v1/+/up/#"),
            ("publishClientSend", "touchpoint/v1/+/down/#"),
            ("subscribePattern", "touchpoint/v1/+/down/#"),
            ("publishClientReceive", "touchpoint/v1/+/down/#"),
            ("publishClientSend", "touchpoint/v1/+/feed/#"),
            ("subscribePattern", "touchpoint/v1/+/feed/#"),
            ("publishClientReceive", "touchpoint/v1/+/feed/#"),
            ("publishClientSend", "touchpoint/v1/+/alerts"),
            ("subscribePattern", "touchpoint/v1/+/alerts"),
            ("publishClientReceive", "touchpoint/v1/+/alerts"),
        ]
    )
    for store in (A, B):
        assert roles[kiosk_role(store)] == [
            ("publishClientReceive", topic(store, "down/lookup/#")),
            ("publishClientSend", topic(store, "up/lookup")),
            ("subscribePattern", topic(store, "down/lookup/#")),
        ]
    assert roles["hq-lookup"] == [
        ("publishClientReceive", "touchpoint/v1/+/up/lookup"),
        ("publishClientSend", "touchpoint/v1/+/down/lookup/#"),
        ("subscribePattern", "$share/hq/touchpoint/v1/+/up/lookup"),
    ]
    assert roles["feeds"] == [
        ("publishClientReceive", "touchpoint/v1/+/alerts"),
        ("publishClientReceive", "touchpoint/v1/+/feed/#"),
        ("subscribePattern", "touchpoint/v1/+/alerts"),
        ("subscribePattern", "touchpoint/v1/+/feed/#"),
    ]


def test_conf_has_the_security_and_queue_settings(tmp_path):
    spec = make_spec(tmp_path, (A,), tls_port=8883, plain_port=1883)
    plugin = find_dynsec_plugin()
    conf = mosquitto_conf(spec, plugin)
    lines = [ln for ln in conf.splitlines() if ln and not ln.startswith("#")]
    # No acl_file: it would grant every SUBSCRIBE to users the plugin does not list.
    assert not any(ln.startswith("acl_file") for ln in lines)
    for expected in (
        "allow_anonymous false",
        f"password_file {spec.passwd_path}",
        f"plugin {plugin}",
        f"plugin_opt_config_file {spec.dynsec_path}",
        "persistence true",
        f"persistence_location {spec.data_dir}/",
        "tls_version tlsv1.2",
        f"certfile {spec.tls_dir / 'server.crt'}",
        f"keyfile {spec.tls_dir / 'server.key'}",
    ):
        assert expected in lines
    assert MAX_QUEUED_MESSAGES >= 100_000 and f"max_queued_messages {MAX_QUEUED_MESSAGES}" in lines
    assert MAX_PACKET_BYTES > 256 * 1024 and f"max_packet_size {MAX_PACKET_BYTES}" in lines
    # use_username_as_clientid is per listener: every listener block must set it.
    listeners = conf.split("\nlistener ")[1:]
    assert [block.split("\n", 1)[0] for block in listeners] == ["8883", "1883 127.0.0.1"]
    assert all("use_username_as_clientid true" in block for block in listeners)


@pytest.mark.parametrize(
    "stores",
    [("a/b",), ("+",), ("#",), ("a b",), ("x" * 33,), ("ok", "ok"), ("hq",), (), ("_chain",)],
    ids=[
        "slash",
        "plus",
        "hash",
        "space",
        "too-long",
        "duplicate",
        "clashes-with-hq",
        "none",
        "chain-feed-reserved",
    ],
)
def test_bad_store_ids_are_rejected(tmp_path, stores):
    with pytest.raises(BrokerConfigError):
        make_spec(tmp_path, stores)


def test_plain_listener_must_be_loopback(tmp_path):
    with pytest.raises(BrokerConfigError, match="loopback"):
        make_spec(tmp_path, (A,), plain_port=1883, plain_bind="0.0.0.0")
    assert make_spec(tmp_path, (A,), plain_port=1883, plain_bind="::1").plain_bind == "::1"


def test_parse_ids_splits_commas():
    assert parse_ids(" a, b ,,c ") == ("a", "b", "c")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_passwords_are_kept_on_rerun_added_for_new_stores_and_rotated(tmp_path):
    out = tmp_path / "broker"
    first = write_broker_dir(make_spec(out, (A, B)))
    assert first.new_passwords == [A, B, "hq", f"{A}-kiosk", f"{B}-kiosk", "hq-lookup"]
    creds = out / "credentials"
    before = {p.name: p.read_text() for p in creds.iterdir()}
    assert mode(creds) == 0o700
    assert all(mode(creds / name) == 0o600 for name in before)
    assert all(len(pw.strip()) >= 40 and pw.endswith("\n") for pw in before.values())
    assert mode(out / "passwd") & 0o007 == 0 and mode(out / "dynsec.json") & 0o007 == 0

    second = write_broker_dir(make_spec(out, (A, B, "store-c")), rotate=(B,))
    assert second.kept_passwords == [A, "hq", f"{A}-kiosk", f"{B}-kiosk", "hq-lookup"]
    assert second.rotated == [B] and second.new_passwords == ["store-c", "store-c-kiosk"]
    after = {p.name: p.read_text() for p in creds.iterdir()}
    assert after[A] == before[A] and after["hq"] == before["hq"]
    assert after[B] != before[B]
    assert mode(creds / "store-c") == 0o600

    passwd = (out / "passwd").read_text()
    users = [line.split(":", 1)[0] for line in passwd.splitlines()]
    assert users == [
        A,
        B,
        "store-c",
        "hq",
        f"{A}-kiosk",
        f"{B}-kiosk",
        "store-c-kiosk",
        "hq-lookup",
    ]
    # PBKDF2-SHA512 hashes only: no password appears in the file mosquitto reads.
    assert all(line.split(":", 1)[1].startswith("$7$") for line in passwd.splitlines())
    assert not any(pw.strip() in passwd for pw in after.values())
    assert not list(out.glob(".*tmp")), "temporary files are cleaned up"


def test_store_left_out_loses_access_and_is_reported(tmp_path):
    out = tmp_path / "broker"
    write_broker_dir(make_spec(out, (A, B)))
    report = write_broker_dir(make_spec(out, (A,)))
    assert report.orphans == [B, f"{B}-kiosk"]
    rules = json.loads((out / "dynsec.json").read_text())
    assert [c["username"] for c in rules["clients"]] == [A, "hq", f"{A}-kiosk", "hq-lookup"]
    assert store_role(B) not in [r["rolename"] for r in rules["roles"]]
    assert B not in [line.split(":")[0] for line in (out / "passwd").read_text().splitlines()]


def test_the_dynsec_plugin_is_found_or_named_clearly(tmp_path):
    found = find_dynsec_plugin()
    assert found.name == "mosquitto_dynamic_security.so" and found.is_file()
    assert find_dynsec_plugin(str(found)) == found
    with pytest.raises(BrokerSetupError, match="no such file"):
        find_dynsec_plugin(tmp_path / "missing.so")


def test_rerun_removes_the_old_acl_file_and_says_when_a_restart_is_needed(tmp_path):
    out = tmp_path / "broker"
    first = write_broker_dir(make_spec(out, (A,)))
    assert not any("restart" in note for note in first.notes)
    same = write_broker_dir(make_spec(out, (A,)))
    assert not any("restart" in note for note in same.notes), "nothing changed"
    (out / "acl").write_text("user store-a\ntopic write touchpoint/v1/store-a/up/#\n")
    upgraded = write_broker_dir(make_spec(out, (A, B)))
    assert not (out / "acl").exists()
    assert any("removed" in note and "acl" in note for note in upgraded.notes)
    assert any("restart mosquitto" in note for note in upgraded.notes)


def test_cli_writes_files_and_never_prints_a_password(tmp_path):
    out = tmp_path / "broker"
    result = touchpoint("broker", "config", "--stores", f"{A},{B}", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert f"wrote {out / 'mosquitto.conf'}" in result.stdout
    printed = result.stdout + result.stderr
    for cred in (out / "credentials").iterdir():
        assert cred.read_text().strip() not in printed
    assert os.access(out / "tls" / "make-ca.sh", os.X_OK)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--stores", "good,bad/id"), "bad/id"),
        (("--stores", A, "--rotate", "nobody"), "nobody"),
        (("--stores", A, "--plain-port", "1883", "--plain-bind", "10.0.0.5"), "loopback"),
    ],
    ids=["bad-id", "rotate-unknown", "plain-not-loopback"],
)
def test_cli_rejects_bad_input_with_exit_2(tmp_path, args, message):
    result = touchpoint("broker", "config", "--out", str(tmp_path / "broker"), *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr and "error:" in result.stderr


def test_cli_names_a_missing_dynsec_plugin_and_writes_nothing(tmp_path):
    out = tmp_path / "broker"
    missing = tmp_path / "mosquitto_dynamic_security.so"
    result = touchpoint(
        "broker", "config", "--stores", A, "--out", str(out), "--dynsec-plugin", str(missing)
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"error: --dynsec-plugin {missing}: no such file" in result.stderr
    assert not out.exists()


# ---------------------------------------------------------------- a real mosquitto


@dataclass
class Broker:
    """The running broker, its two ports, the CA and every user's password."""

    plain: int
    tls: int
    ca_file: str
    passwords: dict[str, str]
    log_path: Path  # the broker's stderr, where the generated config logs

    def peer(self, user: str | None, client_id: str, *, tls: bool = False, **kw) -> Peer:
        """A client logged in as `user` with that user's generated password."""
        password = self.passwords.get(user) if user else None
        port, ca = (self.tls, self.ca_file) if tls else (self.plain, None)
        return Peer(port, user, password, client_id, ca_file=ca, **kw)


@contextlib.contextmanager
def generated_broker(
    *extra_args: str, hand_added: dict[str, str] | None = None, conf_extra: str = ""
) -> Iterator[Broker]:
    """Mosquitto on exactly the generated mosquitto.conf, with a make-ca.sh certificate.

    `hand_added` users are put in the password file with mosquitto_passwd after
    generating, as an operator might do by hand.
    """
    # Not pytest's tmp_path: mosquitto started as root drops to the mosquitto user
    # before reading the password file, and pytest's base directory is root-only.
    out = Path(tempfile.mkdtemp(prefix="touchpoint-broker-", dir="/tmp"))
    plain, tls = free_port(), free_port()
    try:
        made = touchpoint(
            "broker", "config", "--stores", f"{A},{B}", "--out", str(out),
            "--plain-port", str(plain), "--tls-port", str(tls), *extra_args,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        certs = subprocess.run(
            ["sh", str(out / "tls" / "make-ca.sh"), "localhost", "127.0.0.1"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert certs.returncode == 0, certs.stderr
        passwords = {p.name: p.read_text().strip() for p in (out / "credentials").iterdir()}
        for user, password in (hand_added or {}).items():
            added = subprocess.run(
                ["mosquitto_passwd", "-b", str(out / "passwd"), user, password],
                capture_output=True, text=True, timeout=30,
            )  # fmt: skip
            assert added.returncode == 0, added.stderr
            passwords[user] = password
        conf = (out / "mosquitto.conf").read_text() + conf_extra
        # workdir=out: the broker is started on the generated file itself.
        process = MosquittoProcess(out, port=plain, config_text=conf)
        assert process.config_path == out / "mosquitto.conf"
        with process:
            yield Broker(plain, tls, str(out / "tls" / "ca.crt"), passwords, process.stderr_path)
    finally:
        shutil.rmtree(out, ignore_errors=True)


@pytest.fixture(scope="module")
def broker() -> Iterator[Broker]:
    """The generated broker for stores A and B, HQ user `hq` and feeds user `feeds`."""
    with generated_broker("--feeds-user", "feeds") as running:
        yield running


@pytest.fixture
def peers() -> Iterator[list[Peer]]:
    """Clients made in a test; all closed at its end."""
    made: list[Peer] = []
    yield made
    for peer in made:
        peer.close()


def online(peers: list[Peer], peer: Peer) -> Peer:
    """Connect `peer`, insist the broker accepted it, and track it for closing."""
    peers.append(peer)
    reason, _ = peer.connect()
    assert not reason.is_failure, f"{peer.client._client_id!r} refused: {reason}"
    return peer


def hq_ingester(broker: Broker, peers: list[Peer], client_id: str = "hq") -> Peer:
    """HQ on the same shared subscription the ingester uses."""
    hq = online(peers, broker.peer("hq", client_id))
    assert [rc.value for rc in hq.subscribe("$share/hq/touchpoint/v1/+/up/#")] == [1]
    return hq


@pytest.mark.parametrize("tls", [False, True], ids=["plain", "tls"])
def test_store_publishes_to_its_own_up_and_hq_receives_it(broker, peers, tls):
    hq = hq_ingester(broker, peers)
    store = online(peers, broker.peer(A, A, tls=tls))
    assert accepted(store.publish(topic(A, "up/events"), b"batch-1"))
    msg = hq.next_message()
    assert (msg.topic, msg.payload) == (topic(A, "up/events"), b"batch-1")


def test_store_cannot_publish_to_another_stores_up(broker, peers):
    hq = hq_ingester(broker, peers)
    a = online(peers, broker.peer(A, A))
    # QoS 1: mosquitto 2.0 answers with PUBACK "Not authorized" and drops the message.
    assert a.publish(topic(B, "up/events"), b"forged-1").value == NOT_AUTHORIZED
    assert a.publish(topic(B, "up/state"), b"forged-2", retain=True).value == NOT_AUTHORIZED
    # QoS 0 has no ack: dropped silently.
    assert a.publish(topic(B, "up/events"), b"forged-0", qos=0) is None
    # Also nothing outside the touchpoint tree, nor HQ's topics.
    assert a.publish(topic(B, "down/ack"), b"forged-ack").value == NOT_AUTHORIZED
    assert a.publish("elsewhere/topic", b"forged-3").value == NOT_AUTHORIZED
    # The broker handles one connection's publishes in order: once this marker
    # reaches HQ, any forged message would already have been delivered before it.
    assert accepted(a.publish(topic(A, "up/events"), b"marker"))
    assert hq.next_message().payload == b"marker"
    assert hq.drain() == []


def test_store_cannot_read_another_stores_down(broker, peers):
    hq = online(peers, broker.peer("hq", "hq"))
    assert accepted(hq.publish(topic(B, "down/ack"), b'{"for":"b"}', retain=True))
    a = online(peers, broker.peer(A, A))
    # The dynamic-security plugin refuses these subscriptions (SUBACK 0x87), and
    # would check every message, retained ones included, against A's rules anyway.
    assert a.subscribe(topic(A, "down/#"))[0].value == 1
    for filt in (topic(B, "down/#"), "touchpoint/v1/+/down/#", "#"):
        assert a.subscribe(filt)[0].value == NOT_AUTHORIZED
    assert accepted(hq.publish(topic(B, "down/cmd"), b'{"for":"b"}'))
    assert accepted(hq.publish(topic(A, "down/cmd"), b'{"for":"a"}'))
    got = a.next_message()
    assert (got.topic, got.payload) == (topic(A, "down/cmd"), b'{"for":"a"}')
    later = a.drain()  # A's own message may come once per matching subscription
    assert all(m.topic == topic(A, "down/cmd") for m in later)


def test_store_cannot_read_other_stores_up_even_through_a_shared_subscription(broker, peers):
    hq = hq_ingester(broker, peers)
    a = online(peers, broker.peer(A, A))
    assert a.subscribe("touchpoint/v1/+/up/#")[0].value == NOT_AUTHORIZED
    assert a.subscribe("$share/spy/touchpoint/v1/+/up/#")[0].value == NOT_AUTHORIZED
    a.subscribe(topic(A, "down/#"))
    b = online(peers, broker.peer(B, B))
    for n in range(4):
        assert accepted(b.publish(topic(B, "up/events"), f"b-{n}".encode()))
    payloads = sorted(hq.next_message().payload for _ in range(4))
    assert payloads == [b"b-0", b"b-1", b"b-2", b"b-3"]
    assert accepted(hq.publish(topic(A, "down/cmd"), b"marker"))
    assert a.next_message().payload == b"marker"
    assert a.drain() == []


def test_a_store_joining_hqs_shared_group_diverts_no_batches(broker, peers):
    """An acl_file never refuses a SUBSCRIBE: A would join HQ's group, the broker would
    round-robin half of B's batches to A and drop them on the read check."""
    hq = hq_ingester(broker, peers, client_id="hq-2")
    a = online(peers, broker.peer(A, A))
    a.subscribe("$share/hq/touchpoint/v1/+/up/#")  # refused; asserted in the next test
    b = online(peers, broker.peer(B, B))
    for n in range(4):
        assert accepted(b.publish(topic(B, "up/events"), f"b-{n}".encode()))
    # Data stays private either way: A never sees B's batches.
    try:
        payloads = sorted(hq.next_message(timeout=2).payload for _ in range(4))
    finally:
        assert a.drain() == []
    assert payloads == [b"b-0", b"b-1", b"b-2", b"b-3"]


def test_a_store_may_subscribe_only_to_its_own_down(broker, peers):
    a = online(peers, broker.peer(A, A))
    for filt in (topic(A, "down/#"), topic(A, "down/lookup/+"), topic(A, "down/ack")):
        assert a.subscribe(filt)[0].value == 1, filt
    for filt in (
        topic(B, "down/#"),
        "$share/hq/touchpoint/v1/+/up/#",
        "$share/hq/touchpoint/v1/+/up/events",
        f"$share/hq/{topic(A, 'down/#')}",  # even its own down/, through a share group
        topic(A, "up/#"),  # it writes its up/, it does not read it
        "touchpoint/v1/+/feed/#",
        "#",
        "$SYS/#",
        "$CONTROL/dynamic-security/#",
    ):
        [reason] = a.subscribe(filt)
        assert reason.is_failure and reason.value == NOT_AUTHORIZED, filt
    # Nor may it change the access rules at run time.
    assert a.publish("$CONTROL/dynamic-security/v1", b"{}").value == NOT_AUTHORIZED


def test_hq_subscribes_to_what_the_ingester_and_downlink_need(broker, peers):
    hq = online(peers, broker.peer("hq", "hq"))
    for filt in (
        "$share/hq/touchpoint/v1/+/up/events",
        "touchpoint/v1/+/up/state",
        "touchpoint/v1/+/down/#",
        "touchpoint/v1/+/feed/#",
    ):
        assert hq.subscribe(filt)[0].value == 1, filt
    # Only the ingesters' group: the rules name `$share/hq/…` and nothing else.
    assert hq.subscribe("$share/other/touchpoint/v1/+/up/#")[0].value == NOT_AUTHORIZED
    assert hq.publish(topic(A, "up/events"), b"forged").value == NOT_AUTHORIZED


def test_the_feeds_user_reads_feeds_and_alerts_only(broker, peers):
    hq = online(peers, broker.peer("hq", "hq"))
    assert accepted(hq.publish(topic(A, "feed/hour"), b"feed-a", retain=True))
    assert accepted(hq.publish(topic(A, "alerts"), b"alerts-a", retain=True))
    feeds = online(peers, broker.peer("feeds", "feeds"))
    assert feeds.subscribe("touchpoint/v1/+/feed/#")[0].value == 1
    got = feeds.next_message()
    assert (got.topic, got.payload) == (topic(A, "feed/hour"), b"feed-a")
    assert feeds.subscribe("touchpoint/v1/+/alerts")[0].value == 1
    got = feeds.next_message()
    assert (got.topic, got.payload) == (topic(A, "alerts"), b"alerts-a")
    for filt in ("touchpoint/v1/+/up/#", "$share/hq/touchpoint/v1/+/up/#", topic(A, "down/#")):
        assert feeds.subscribe(filt)[0].value == NOT_AUTHORIZED, filt
    assert feeds.publish(topic(A, "feed/hour"), b"forged").value == NOT_AUTHORIZED
    assert feeds.publish(topic(A, "alerts"), b"forged").value == NOT_AUTHORIZED
    # A store reads neither its own alerts nor another's.
    a = online(peers, broker.peer(A, A))
    assert a.subscribe(topic(A, "alerts"))[0].value == NOT_AUTHORIZED
    assert a.publish(topic(B, "alerts"), b"forged").value == NOT_AUTHORIZED


def test_a_user_added_to_the_password_file_by_hand_gets_nothing(peers):
    """Authenticated by the password file, but unknown to the plugin: no rule matches,
    and there is no acl_file behind the plugin to grant it SUBSCRIBEs."""
    with generated_broker(hand_added={"stranger": "hand-made-password"}) as broker:
        hq = hq_ingester(broker, peers)
        stranger = online(peers, broker.peer("stranger", "stranger"))
        for filt in ("$share/hq/touchpoint/v1/+/up/#", "touchpoint/v1/stranger/down/#", "#"):
            assert stranger.subscribe(filt)[0].value == NOT_AUTHORIZED, filt
        assert stranger.publish(topic(A, "up/events"), b"x").value == NOT_AUTHORIZED
        assert stranger.publish("touchpoint/v1/stranger/up/events", b"x").value == NOT_AUTHORIZED
        b = online(peers, broker.peer(B, B))
        for n in range(4):
            assert accepted(b.publish(topic(B, "up/events"), f"b-{n}".encode()))
        assert sorted(hq.next_message().payload for _ in range(4)) == [
            b"b-0",
            b"b-1",
            b"b-2",
            b"b-3",
        ]
        for peer in peers:
            peer.close()


def refused(peer: Peer, peers: list[Peer]) -> int:
    peers.append(peer)
    reason, _ = peer.connect()
    assert reason.is_failure
    return reason.value


def test_anonymous_clients_are_refused(broker, peers):
    for tls in (False, True):
        code = refused(broker.peer(None, "anonymous", tls=tls), peers)
        # 2.0.11 answers CONNACK 0x87 "Not authorized" to a client without a username.
        assert code in (NOT_AUTHORIZED, BAD_USER_OR_PASSWORD)


def test_wrong_password_and_unknown_user_are_refused(broker, peers):
    wrong = Peer(broker.plain, A, "not-the-password", A)
    other = Peer(broker.plain, A, broker.passwords[B], A)  # B's password for A
    unknown = Peer(broker.plain, "store-z", "anything", "store-z")
    for peer in (wrong, other, unknown):
        # 2.0.11 answers 0x87 "Not authorized" here too, not 0x86.
        assert refused(peer, peers) in (NOT_AUTHORIZED, BAD_USER_OR_PASSWORD)


def test_client_id_is_forced_to_the_username_so_no_session_takeover(broker, peers):
    hq = online(peers, broker.peer("hq", "hq"))
    # B: a persistent session subscribed to its down/, like the store uplink.
    b = online(peers, broker.peer(B, B, clean_start=False, session_expiry_s=300))
    b.subscribe(topic(B, "down/cmd"))
    # A logs in with B's client id while B is online: it becomes "store-a" instead,
    # so B is not disconnected.
    a = online(peers, broker.peer(A, B, clean_start=False, session_expiry_s=300))
    a.subscribe(topic(A, "down/#"))
    assert accepted(hq.publish(topic(A, "down/cmd"), b"for-a"))
    assert a.next_message().payload == b"for-a"
    assert b.disconnects == []
    b.close()
    a.close()
    # B is offline: HQ's command is queued in B's session.
    assert accepted(hq.publish(topic(B, "down/cmd"), b"queued-for-b"))
    thief = Peer(broker.plain, A, broker.passwords[A], B, clean_start=False, session_expiry_s=300)
    reason, session_present = thief.connect()
    peers.append(thief)
    assert not reason.is_failure
    assert accepted(hq.publish(topic(A, "down/cmd"), b"marker"))
    assert thief.next_message().payload == b"marker"  # A's own session, not B's
    assert thief.drain() == []
    thief.close()
    # B comes back and finds its session and its queued command untouched.
    b_again = broker.peer(B, B, clean_start=False, session_expiry_s=300)
    peers.append(b_again)
    reason, session_present = b_again.connect()
    assert not reason.is_failure and session_present
    assert b_again.next_message().payload == b"queued-for-b"


def test_a_will_on_another_stores_topic_is_never_delivered(broker, peers):
    hq = hq_ingester(broker, peers)
    forged = online(peers, broker.peer(A, A, will_topic=topic(B, "up/state")))
    forged.drop()
    honest = online(peers, broker.peer(A, A, will_topic=topic(A, "up/state")))
    honest.drop()
    msg = hq.next_message()
    assert msg.topic == topic(A, "up/state")
    with pytest.raises(queue.Empty):
        hq.next_message(timeout=QUIET_S)


def test_real_uplink_and_ingester_through_the_secured_broker(broker, peers, tmp_path):
    """The store's uplink and HQ's ingester, with their generated credentials, end to end;
    and a batch whose body claims another store than its topic is dead-lettered."""
    import json

    from edge.eventlog import EventLog
    from edge.events import DoorCount
    from hq.ingest import Ingester, IngestSettings
    from hq.sqlite_store import SqliteHqStore
    from sync.uplink import Uplink, UplinkSettings
    from tests.edge.agent_support import wait_for

    hq_db = tmp_path / "hq.db"
    ingester = Ingester(
        IngestSettings(
            client_id="hq",
            host="127.0.0.1",
            port=broker.plain,
            username="hq",
            password=broker.passwords["hq"],
        ),
        lambda: SqliteHqStore(hq_db),
    )
    ingester.start()
    assert ingester.subscribed.wait(10)
    store_db = tmp_path / "store.db"
    with EventLog(store_db, boot_id="boot") as log:
        for _ in range(500):
            log.append(DoorCount(door="main", direction="in", count=1, sensor="s"), "door")
    uplink = Uplink(
        UplinkSettings(
            store=A,
            db_path=store_db,
            host="127.0.0.1",
            port=broker.plain,
            boot_id="boot",
            password=broker.passwords[A],
        )
    )
    uplink.start()
    try:
        reader = SqliteHqStore(hq_db)
        wait_for(
            lambda: (reader.marks().get(A) or 0) and reader.marks()[A].acked_through == 500,
            what="store A's events acked through the secured broker",
        )
        # Store A, on its own topic, claims to be store B in the body.
        event = {
            "seq": 1,
            "id": "0195a4c0-0000-7000-8000-000000000001",
            "type": "door.count",
            "ts": "2026-06-01T10:00:00.000Z",
            "device": "d",
            "clock_ok": True,
            "boot_id": "b",
            "data": {"door": "m", "direction": "in", "count": 1, "sensor": "s"},
        }
        forged = {
            "v": 1,
            "store": B,
            "boot_id": "b",
            "first_seq": 1,
            "last_seq": 1,
            "events": [event],
        }
        a = online(peers, broker.peer(A, "a-forger"))
        assert accepted(a.publish(topic(A, "up/events"), json.dumps(forged).encode()))
        wait_for(lambda: ingester.stats.dead_letters == 1, what="forged batch dead-lettered")
        assert f"store '{B}' in the payload" in reader.dead_letters()[0]["reason"]
        assert B not in reader.marks()
        reader.close()
    finally:
        uplink.stop()
        ingester.stop()


@pytest.mark.parametrize("debug", [False, True], ids=["generated", "log_type_debug"])
def test_what_the_broker_log_shows_of_forged_publishes(peers, debug):
    # docs/broker.md: mosquitto 2.0 logs a refused PUBLISH only at log_type debug,
    # which also logs every packet of every client; the generated config leaves it
    # off, and the doc says how to turn it on to investigate.
    with generated_broker(conf_extra="log_type debug\n" if debug else "") as running:
        a = online(peers, running.peer(A, A))
        assert a.publish(topic(B, "up/events"), b"forged").value == NOT_AUTHORIZED
        control = b'{"commands":[{"command":"listClients"}]}'
        assert a.publish("$CONTROL/dynamic-security/v1", control).value == NOT_AUTHORIZED
        assert a.subscribe(topic(B, "down/#"))[0].value == NOT_AUTHORIZED
        assert accepted(a.publish(topic(A, "up/events"), b"marker"))
        a.close()
        log = running.log_path.read_text()  # stderr is unbuffered: every line is there
    assert f"as {A} (p5" in log  # the log works: the connection is there either way
    denied = [ln for ln in log.splitlines() if "Denied PUBLISH" in ln]
    if not debug:
        assert denied == [], denied
        return
    assert len(denied) == 2, denied
    assert f"from {A}" in denied[0] and f"'{topic(B, 'up/events')}'" in denied[0]
    assert "'$CONTROL/dynamic-security/v1'" in denied[1]
    # A refused SUBSCRIBE leaves no trace even then (its SUBACK line has no reason code).
    assert not [ln for ln in log.splitlines() if "denied" in ln.lower() and "SUBSCRIBE" in ln]
