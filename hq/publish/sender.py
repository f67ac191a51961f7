"""Publishes retained downlink messages and waits for every PUBACK (the shell of `hq publish`).

One short-lived MQTT v5 connection with a clean start: `hq publish` needs no session,
and must not pick up the session of an ingester logged in as the same user. At most
`max_inflight` messages wait for their PUBACK at a time, so a chain's worth of parts
never piles up in memory; every wait has a timeout, and a PUBACK whose reason code is a
failure (the broker's access rules, a quota) counts against the topic's store.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

import paho.mqtt.client as mqtt

from sync.mqtt import make_client


class PublishError(RuntimeError):
    """The broker could not be reached, refused us, or stopped answering."""


@dataclass(frozen=True)
class SenderSettings:
    """Where and as whom to publish."""

    client_id: str
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False
    ca_file: str | None = None
    keepalive_s: int = 30
    max_inflight: int = 64
    timeout_s: float = 30.0


class Sender:
    """A connected publisher: `send` retained messages, then `flush` to wait for every PUBACK."""

    def __init__(self, s: SenderSettings) -> None:
        self.s = s
        self.refused: dict[str, str] = {}  # topic -> reason code the broker gave
        self._connected = threading.Event()
        self._connect_error = ""
        # PUBACK failures by message id; set on paho's thread, possibly before `send` returns.
        self._failed: dict[int, str] = {}
        self._window: deque[tuple[mqtt.MQTTMessageInfo, str]] = deque()
        self.client = make_client(
            s.client_id,
            username=s.username,
            password=s.password,
            tls=s.tls,
            ca_file=s.ca_file,
        )
        self.client.max_inflight_messages_set(s.max_inflight)
        self.client.on_connect = self._on_connect
        self.client.on_publish = self._on_publish

    def _on_connect(self, client, userdata, flags, reason, properties) -> None:
        if reason.is_failure:
            self._connect_error = f"broker refused the connection: {reason}"
        self._connected.set()

    def _on_publish(self, client, userdata, mid, reason, properties) -> None:
        if reason.is_failure:
            self._failed[mid] = str(reason)

    def connect(self) -> None:
        """Connect, waiting at most `timeout_s`; raises PublishError."""
        try:
            self.client.connect_async(
                self.s.host, self.s.port, keepalive=self.s.keepalive_s, clean_start=True
            )
        except (OSError, ValueError) as exc:
            raise PublishError(f"cannot connect to {self.s.host}:{self.s.port}: {exc}") from None
        self.client.loop_start()
        if not self._connected.wait(self.s.timeout_s):
            self.close()
            raise PublishError(
                f"no answer from the broker at {self.s.host}:{self.s.port} in {self.s.timeout_s:g} s"
            )
        if self._connect_error:
            self.close()
            raise PublishError(self._connect_error)

    def send(self, topic: str, payload: bytes) -> None:
        """Publish retained at QoS 1 (empty payload: clear the topic); waits while the window is full."""
        while len(self._window) >= self.s.max_inflight:
            self._wait(*self._window.popleft())
        info = self.client.publish(topic, payload, qos=1, retain=True)
        if info.rc != mqtt.MQTT_ERR_SUCCESS and info.rc != mqtt.MQTT_ERR_NO_CONN:
            raise PublishError(f"{topic}: {mqtt.error_string(info.rc)}")
        self._window.append((info, topic))

    def flush(self) -> None:
        """Wait for the PUBACK of everything sent; raises PublishError on a timeout."""
        while self._window:
            self._wait(*self._window.popleft())

    def _wait(self, info: mqtt.MQTTMessageInfo, topic: str) -> None:
        deadline = time.monotonic() + self.s.timeout_s
        try:
            info.wait_for_publish(self.s.timeout_s)
        except (RuntimeError, ValueError) as exc:  # the connection is gone for good
            raise PublishError(f"publishing stopped: {exc}") from None
        if not info.is_published():
            waited = self.s.timeout_s - max(0.0, deadline - time.monotonic())
            raise PublishError(f"{topic}: no PUBACK from the broker within {waited:.0f} s")
        if (reason := self._failed.pop(info.mid, None)) is not None:
            self.refused[topic] = reason

    def close(self) -> None:
        """Disconnect and stop the network thread."""
        self.client.disconnect()
        self.client.loop_stop()
