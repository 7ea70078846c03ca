"""An MQTT client for the tests and the benchmarks, written from the MQTT 3.1.1 specification's terms
(paho-mqtt underneath, not Pixie's bridge): publish, and collect what arrives."""

import json
import threading

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from testsupport.servers import wait_for


class Client:
    def __init__(self, port: int, *filters: str, client_id: str = "", clean: bool = True):
        self.messages: list[paho.MQTTMessage] = []
        self.lock = threading.Lock()
        self.connected = threading.Event()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean)
        self.client.reconnect_delay_set(0.2, 1)
        self.client.on_message = self._got
        self.client.on_connect = self._connected
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.filters = filters
        self.subscribed = threading.Event()
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self.connected.wait(10), "no CONNACK"
        assert not filters or self.subscribed.wait(10), "no SUBACK"

    def _connected(self, client, _userdata, _flags, _reason, _properties) -> None:
        if self.filters:
            client.subscribe([(f, 1) for f in self.filters])
        self.connected.set()

    def _got(self, _client, _userdata, message) -> None:
        with self.lock:
            self.messages.append(message)

    def publish(self, topic: str, payload, qos: int = 1, retain: bool = False):
        data = json.dumps(payload) if isinstance(payload, dict | list) else payload
        info = self.client.publish(topic, data, qos=qos, retain=retain)
        return info

    def on(self, topic: str) -> list[paho.MQTTMessage]:
        with self.lock:
            return [m for m in self.messages if m.topic == topic]

    def json_on(self, topic: str) -> list:
        return [json.loads(m.payload) for m in self.on(topic)]

    def wait(self, predicate, what: str, timeout: float = 20.0):
        return wait_for(predicate, what=what, timeout=timeout)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
