"""The bridge between an MQTT broker and the job service.

Two threads. paho's network thread takes the commands (QoS 1, acknowledged
only once the service has carried them out, so a bridge that dies before
that gets them again from the broker) and answers a refusal on
`<prefix>/<device>/error`. The event thread follows the appliance's events
(store.event) and publishes each job's state changes on `jobs/<id>` and the
panel's state, retained, on `state` whenever it changed. Each (re)connection
publishes the birth message, the discovery configs and the state again; the
will says `offline` when the bridge is gone. It also subscribes to the topics
the apps' placeholders show (values.py), following the apps as they change.
"""

import json
import logging
import threading
import time

import paho.mqtt.client as paho
import redis
from paho.mqtt.enums import CallbackAPIVersion

from .. import awtrix, errors, store
from .. import config as configuration
from ..service import Service
from ..service.panel import PanelState
from . import commands, discovery
from .values import Values

log = logging.getLogger("pixie.mqtt")
EVENT_WAIT_MS = 1000
STATE_EVERY_S = 10  # health and the waiting count also change without an event


class Bridge:
    def __init__(self, config: configuration.Config, service: Service):
        self.config = config
        self.mqtt = config.mqtt
        self.service = service
        self.base = f"{self.mqtt.prefix}/{self.mqtt.device}"
        self.homes = [self.base] + [f"{self.mqtt.prefix}/group/{g}" for g in self.mqtt.groups]
        # AWTRIX's topics, named after the device as AWTRIX names its own; None: AWTRIX is off.
        self.awtrix = (config.awtrix.mqtt_prefix or f"awtrix_{self.mqtt.device}") if config.awtrix.enabled else None
        self.stopped = threading.Event()
        self.state: dict | None = None  # the last published
        self.discovered: tuple[list[str], list[str]] | None = None  # the apps, progress apps the last discovery offered
        self.current_app: str | None = None  # the last AWTRIX stats/currentApp
        self.filters = [f"{home}/{topic}" for home in self.homes for topic in commands.TOPICS]
        if self.awtrix:
            self.filters += [f"{self.awtrix}/{topic}" for topic in awtrix.MQTT_TOPICS]
        if self.mqtt.discovery_prefix:
            self.filters.append(f"{self.mqtt.discovery_prefix}/status")
        self.client = self._client()
        interval_s = config.apps.live_min_interval_s
        self.values = Values(self.client, service.r, service.v, interval_s, self.filters, self.mqtt.readable_topics)

    def _client(self) -> paho.Client:
        # A persistent session (clean_session false) under a fixed id: QoS 1 commands sent while the
        # bridge was away wait at the broker for it.
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"pixie-{self.mqtt.device}",
            clean_session=False,
            protocol=paho.MQTTv311,
            manual_ack=True,
        )
        if self.mqtt.username:
            client.username_pw_set(self.mqtt.username, self.mqtt.password or None)
        if self.mqtt.tls:
            client.tls_set(ca_certs=self.mqtt.ca_file or None)
        client.will_set(f"{self.base}/availability", "offline", qos=1, retain=True)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._connected
        client.on_disconnect = self._disconnected
        client.on_message = self._message
        client.on_subscribe = lambda _client, _userdata, mid, codes, _properties: self.values.subscribed(mid, codes)
        return client

    # -- the broker --------------------------------------------------------------------------------

    def run(self) -> None:
        self.client.connect_async(self.mqtt.host, self.mqtt.port, keepalive=self.mqtt.keepalive_s)
        self.client.loop_start()
        try:
            self.follow_events()
        finally:
            if self.client.is_connected():  # a goodbye (the will is for going without one)
                self.client.publish(f"{self.base}/availability", "offline", qos=1, retain=True).wait_for_publish(5)
            self.client.disconnect()
            self.client.loop_stop()

    def stop(self) -> None:
        self.stopped.set()

    def _connected(self, client, _userdata, _flags, reason, _properties) -> None:
        if reason.is_failure:
            log.warning("broker %s:%d refused the connection: %s", self.mqtt.host, self.mqtt.port, reason)
            return
        log.info("connected to %s:%d as %s", self.mqtt.host, self.mqtt.port, self.base)
        client.subscribe([(f, 1) for f in self.filters])
        self.values.subscribe()  # their retained values come again
        client.publish(f"{self.base}/availability", "online", qos=1, retain=True)
        self.announce()

    def _disconnected(self, _client, _userdata, _flags, reason, _properties) -> None:
        if not self.stopped.is_set():
            log.warning("broker connection lost (%s): reconnecting", reason)

    def _message(self, client, _userdata, message) -> None:
        try:
            self.values.received(message.topic, message.payload)
            home = next((h for h in self.homes if message.topic.startswith(f"{h}/")), None)
            if message.topic == f"{self.mqtt.discovery_prefix}/status":
                if message.payload == b"online":  # Home Assistant (re)started: tell it again
                    self.announce()
            elif self.awtrix and message.topic.startswith(f"{self.awtrix}/"):
                self._command(message, self.awtrix, self._awtrix)
            elif home is not None:
                self._command(message, home, self._pixie)
            # else an app's value, or a topic no app shows any more (the persistent session kept it)
        finally:
            if message.qos:
                client.ack(message.mid, message.qos)

    def _command(self, message, home: str, carry_out) -> None:
        """A command under `home`, carried out; a refusal is answered on `home`'s (or the device's) error topic."""
        command = message.topic[len(home) + 1 :]
        errors_to = self.awtrix if home == self.awtrix else self.base
        try:
            if (size := len(message.payload)) > self.mqtt.max_payload_bytes:
                limit = self.mqtt.max_payload_bytes
                raise errors.TooLarge(f"payload is {size} bytes; at most {limit} (mqtt.max_payload_bytes)")
            log.info("%s: %s", message.topic, carry_out(command, message.payload))
        except errors.PixieError as e:
            self._refuse(message, str(e), errors_to)
        except Exception:  # a bug must not take the bridge down with it
            log.exception("%s: failed", message.topic)
            self._refuse(message, "internal error (the bridge's log says more)", errors_to)

    def _pixie(self, command: str, payload: bytes):
        return commands.run(self.service, command, payload)

    def _awtrix(self, command: str, payload: bytes):
        answer = awtrix.run(self.service, command, payload)
        if command == "sendscreen":
            self.client.publish(f"{self.awtrix}/screen", json.dumps(answer), qos=0)
            return "screen sent"
        return answer

    def _refuse(self, message, reason: str, errors_to: str) -> None:
        log.info("%s: refused: %s", message.topic, reason)
        answer = {"topic": message.topic, "error": reason}
        command_id = _command_id(message.payload)
        if command_id is not None:
            answer["id"] = command_id
        self.client.publish(f"{errors_to}/error", json.dumps(answer), qos=1)

    # -- what the appliance does -------------------------------------------------------------------

    def announce(self) -> None:
        """Discovery and the state, again (a new connection, or Home Assistant back online). It runs in
        paho's thread, which an error raised here would end for good: it is logged instead."""
        try:
            self.discover(self.service.panel.state())
            self.publish_state(force=True)
        except errors.Unavailable as e:
            log.warning("announce: %s", e)
        except Exception:
            log.exception("announce failed")

    def discover(self, state: PanelState) -> None:
        """Every entity's config, retained, and an empty one (which removes it) for each entity offered before
        and not now: a progress app deleted or showing something else. What was offered is kept in Redis, so
        a bridge started again removes what went while it was away."""
        if not self.mqtt.discovery_prefix:
            return
        offered = (state.apps, sorted(state.progress))
        configs = discovery.configs(self.mqtt, self.config.panel, *offered)
        for topic, payload in configs.items():
            self.client.publish(topic, json.dumps(payload), qos=1, retain=True)
        try:
            before = set(store.get_json(self.service.r, store.DISCOVERED) or [])
            for topic in before - configs.keys():
                self.client.publish(topic, "", qos=1, retain=True)
            if before != configs.keys():
                store.put_json(self.service.r, store.DISCOVERED, sorted(configs))
        except redis.RedisError as e:  # the record is as it was: the next discovery removes them
            log.warning("discovery: entities gone not removed: redis unavailable (%s)", e)
        self.discovered = offered

    def publish_state(self, force: bool = False) -> None:
        try:
            state = self.service.panel.state()
        except errors.Unavailable:
            state = (self.state or {}) | {"health": "redis down"}
        else:
            if self.discovered is not None and (state.apps, sorted(state.progress)) != self.discovered:
                self.discover(state)  # the select offers the new list; a progress app's number comes or goes
            state = state.model_dump()
        if force or state != self.state:
            self.state = state
            self.client.publish(f"{self.base}/state", json.dumps(state), qos=1, retain=True)
            self.publish_stats()

    def publish_stats(self) -> None:
        """AWTRIX's `stats` (as the panel changes, and every STATE_EVERY_S); `stats/currentApp` as the app does."""
        if not self.awtrix:
            return
        try:
            stats = awtrix.stats(self.service)
        except errors.Unavailable:
            return
        self.client.publish(f"{self.awtrix}/stats", json.dumps(stats), qos=0)
        if stats["app"] != self.current_app:
            self.current_app = stats["app"]
            self.client.publish(f"{self.awtrix}/stats/currentApp", stats["app"], qos=0)

    def follow_events(self) -> None:
        """Job events out as they come; the state again after any event, and every STATE_EVERY_S."""
        v = self.service.v
        last = None
        lost = False  # Redis was unavailable
        next_state = 0.0
        while not self.stopped.is_set():
            try:
                if last is None:
                    last = store.last_event_id(v)
                    self.values.follow()
                    if lost:  # a volatile Redis that restarted lost the values: the retained ones come again
                        self.values.subscribe()
                    lost = False
                events = store.events_after(v, last, EVENT_WAIT_MS)
            except redis.RedisError as e:
                log.warning("events: redis unavailable (%s)", e)
                lost = True
                last = None  # a volatile Redis that restarted has a new stream: from its end
                self.publish_state()
                self.stopped.wait(1)
                continue
            apps_changed = False
            for event_id, kind, data in events:
                last = event_id
                if kind == "job":
                    self.client.publish(f"{self.base}/jobs/{data['id']}", json.dumps(data), qos=1)
                apps_changed = apps_changed or (kind == "apps" and "live" not in data)  # live: new values drawn
            periodic = time.monotonic() >= next_state
            if apps_changed or periodic:  # periodic: an app whose lifetime ended is gone without an event
                self.values.follow()
            if [e for e in events if not (e[1] == "apps" and "live" in e[2])] or periodic:
                next_state = time.monotonic() + STATE_EVERY_S if periodic else next_state
                self.publish_state()
                if periodic:
                    self.publish_stats()


def _command_id(payload: bytes):
    try:
        data = json.loads(payload)
    except ValueError:
        return None
    return data.get("id") if isinstance(data, dict) else None
