"""A paho-mqtt 2 (MQTT v5) test client that records CONNACK, SUBACK, PUBACK and messages.

Every wait has a timeout; the broker's reason codes are returned so tests assert them.
"""

from __future__ import annotations

import queue
import socket
import ssl
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

WAIT_S = 5.0


class Peer:
    """One MQTT v5 client on a background loop thread."""

    def __init__(
        self,
        port: int,
        username: str | None,
        password: str | None,
        client_id: str,
        *,
        ca_file: str | None = None,
        clean_start: bool = True,
        session_expiry_s: int = 0,
        will_topic: str | None = None,
    ) -> None:
        self.port = port
        self.clean_start = clean_start
        self.session_expiry_s = session_expiry_s
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
        )
        if username is not None:
            self.client.username_pw_set(username, password)
        if ca_file:
            self.client.tls_set(ca_certs=ca_file, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        if will_topic:
            self.client.will_set(will_topic, b"offline", qos=1)
        # A refused client must not keep retrying in the background.
        self.client.reconnect_delay_set(min_delay=60, max_delay=60)
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.connack: queue.Queue[tuple[ReasonCode, bool]] = queue.Queue()
        self.disconnects: list[ReasonCode] = []
        self._acks: dict[int, object] = {}
        self._acked = threading.Condition()
        self.client.on_connect = self._on_connect
        self.client.on_message = lambda _c, _u, msg: self.messages.put(msg)
        self.client.on_publish = self._on_ack
        self.client.on_subscribe = self._on_ack
        self.client.on_disconnect = lambda _c, _u, _f, rc, _p: self.disconnects.append(rc)

    def _on_connect(self, client, _u, flags, reason_code, _props) -> None:
        if reason_code.is_failure:
            # Stop here: otherwise the loop thread sleeps in a reconnect back-off.
            client.disconnect()
        self.connack.put((reason_code, flags.session_present))

    def _on_ack(self, _c, _u, mid, reason, _props) -> None:
        with self._acked:
            self._acks[mid] = reason
            self._acked.notify_all()

    def connect(self, timeout: float = WAIT_S) -> tuple[ReasonCode, bool]:
        """Connect and return (CONNACK reason code, session present)."""
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.session_expiry_s
        self.client.connect(
            "127.0.0.1", self.port, keepalive=30, clean_start=self.clean_start, properties=props
        )
        self.client.loop_start()
        return self.connack.get(timeout=timeout)

    def _wait_ack(self, mid: int, timeout: float):
        with self._acked:
            if not self._acked.wait_for(lambda: mid in self._acks, timeout=timeout):
                raise TimeoutError(f"no ack for message id {mid} within {timeout}s")
            return self._acks.pop(mid)

    def publish(
        self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False
    ) -> ReasonCode | None:
        """Publish; for QoS 1 return the PUBACK reason code (None for QoS 0)."""
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        if qos == 0:
            info.wait_for_publish(timeout=WAIT_S)
            return None
        return self._wait_ack(info.mid, WAIT_S)

    def subscribe(self, topic: str, qos: int = 1) -> list[ReasonCode]:
        """Subscribe and return the SUBACK reason codes."""
        result, mid = self.client.subscribe(topic, qos=qos)
        assert result == mqtt.MQTT_ERR_SUCCESS, result
        return self._wait_ack(mid, WAIT_S)

    def next_message(self, timeout: float = WAIT_S) -> mqtt.MQTTMessage:
        """The next message received, or queue.Empty after `timeout`."""
        return self.messages.get(timeout=timeout)

    def drain(self) -> list[mqtt.MQTTMessage]:
        """Every message received and not yet taken."""
        found = []
        while True:
            try:
                found.append(self.messages.get_nowait())
            except queue.Empty:
                return found

    def close(self) -> None:
        """Disconnect cleanly (a no-op for a refused client) and stop the loop thread."""
        self.client.disconnect()
        self.client.loop_stop()

    def drop(self) -> None:
        """Cut the TCP connection without DISCONNECT, so the broker sends the will."""
        sock = self.client.socket()
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)
        # The socket is already dead, so this sends nothing; it only stops paho from
        # sleeping in its reconnect back-off.
        self.client.disconnect()
        self.client.loop_stop()
