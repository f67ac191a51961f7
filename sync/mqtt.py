"""The MQTT client both ends use: paho 2, MQTT v5, persistent session, bounded reconnects."""

from __future__ import annotations

import socket

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties


def make_client(
    client_id: str,
    *,
    username: str | None,
    password: str | None,
    tls: bool,
    ca_file: str | None,
    manual_ack: bool = False,
    nodelay: bool = False,
) -> mqtt.Client:
    """A v5 client with credentials, optional TLS and reconnect backoff 1–30 s."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv5,
        manual_ack=manual_ack,
    )
    if username:
        client.username_pw_set(username, password)
    if tls:
        client.tls_set(ca_certs=ca_file or None)
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    if nodelay:
        # Small request/reply traffic: with Nagle on, a reply written right after its
        # PUBACK waits for the peer's delayed ACK (40 ms on Linux) at each hop.
        client.on_socket_open = _no_delay
    return client


def _no_delay(client: mqtt.Client, userdata: object, sock: socket.socket) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def connect_persistent(
    client: mqtt.Client,
    host: str,
    port: int,
    *,
    keepalive_s: int,
    session_expiry_s: int,
    receive_maximum: int | None = None,
) -> None:
    """Connect in the background with clean_start=False, so the broker keeps our session."""
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = session_expiry_s
    if receive_maximum:
        props.ReceiveMaximum = receive_maximum
    client.connect_async(host, port, keepalive=keepalive_s, clean_start=False, properties=props)
    client.loop_start()


def connect_clean(client: mqtt.Client, host: str, port: int, *, keepalive_s: int) -> None:
    """Connect in the background with a clean session that ends with the connection.

    For request/reply traffic (recognition lookups): nothing is queued for a client
    that is away, since it would be stale by the time the client came back.
    """
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 0
    client.connect_async(host, port, keepalive=keepalive_s, clean_start=True, properties=props)
    client.loop_start()


def expiring(seconds: int) -> Properties:
    """PUBLISH properties with a message expiry: the broker drops it undelivered after that."""
    props = Properties(PacketTypes.PUBLISH)
    props.MessageExpiryInterval = seconds
    return props
