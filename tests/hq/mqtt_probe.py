"""What a broker holds retained, read by a short-lived subscriber (for tests)."""

from __future__ import annotations

import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


def retained(mosquitto, prefix: str) -> dict[str, bytes]:
    """The retained messages under `prefix/#` right now (a probe marks the end of them)."""
    got: dict[str, bytes] = {}
    done, subscribed = threading.Event(), threading.Event()
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="probe", protocol=mqtt.MQTTv5)

    def on_message(client, userdata, msg):
        if msg.topic == f"{prefix}/probe":
            done.set()
        elif msg.retain:
            got[msg.topic] = msg.payload

    c.on_message = on_message
    c.on_subscribe = lambda *a: subscribed.set()
    c.connect(mosquitto.host, mosquitto.port)
    c.loop_start()
    try:
        c.subscribe(f"{prefix}/#", qos=1)
        assert subscribed.wait(5)
        # Retained messages are queued for us at subscribe time, before this one.
        c.publish(f"{prefix}/probe", b"x", qos=1)
        assert done.wait(10)
    finally:
        c.loop_stop()
        c.disconnect()
    return got
