"""The private-broker fixture is a real mosquitto: publish, then receive."""

from __future__ import annotations

import queue

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


def test_publish_then_receive(mosquitto):
    received: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
    connected = queue.Queue()
    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="sub", protocol=mqtt.MQTTv5)
    sub.on_connect = lambda c, u, f, rc, p: connected.put(rc)
    sub.on_message = lambda c, u, msg: received.put(msg)
    sub.connect(mosquitto.host, mosquitto.port)
    sub.loop_start()
    try:
        assert not connected.get(timeout=5).is_failure
        result, _mid = sub.subscribe("touchpoint/v1/s1/#", qos=1)
        assert result == mqtt.MQTT_ERR_SUCCESS
        pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="pub", protocol=mqtt.MQTTv5)
        pub.connect(mosquitto.host, mosquitto.port)
        pub.loop_start()
        # Retained, so the message is there even if the subscription lands after it.
        info = pub.publish(
            "touchpoint/v1/s1/up/state", b'{"v":1,"online":true}', qos=1, retain=True
        )
        info.wait_for_publish(timeout=5)
        assert info.is_published()
        msg = received.get(timeout=5)
        assert msg.topic == "touchpoint/v1/s1/up/state"
        assert msg.payload == b'{"v":1,"online":true}'
        pub.loop_stop()
        pub.disconnect()
    finally:
        sub.loop_stop()
        sub.disconnect()


def test_broker_restarts_on_the_same_port(mosquitto):
    port = mosquitto.port
    mosquitto.kill()
    assert not mosquitto.running
    mosquitto.start()
    assert mosquitto.running and mosquitto.port == port
