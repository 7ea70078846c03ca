"""Live data in apps, the bridge's part: the topics the enabled apps' placeholders name (pixie.live)
are subscribed to, and only those; each value is kept in the volatile Redis (store.LIVE_VALUES),
and an app one of whose values changed is drawn again by a render worker (store.ask_live_render):
the first change at once, then at most once per `[apps] live_min_interval_s`, the last value of a
burst at the interval's end. A topic outside `[mqtt] readable_topics` is not subscribed to, and one
the broker refuses (a SUBACK failure) is noted: the app's state says why it has no value (mosquitto's
acl_file never refuses a subscription, it only withholds the messages: hence the device's own list).
Values are QoS 0 (only the last one matters) and a retained one fills the app as the bridge
subscribes, at start and after each reconnect.
"""

import logging
import threading
import time

import paho.mqtt.client as paho
import redis

from .. import live, store

log = logging.getLogger("pixie.mqtt")
MAX_VALUE_BYTES = 16 * 1024  # a larger payload is not kept: the app shows the topic as without a value
REFUSED = "the broker refused the subscription: its ACL does not let the device read this topic"
UNREADABLE = (
    "not among the topics the device's broker lets it read ([mqtt] readable_topics; on the device's own"
    " broker: pixie_common_mqtt_readable_topics)"
)


class Values:
    def __init__(
        self,
        client: paho.Client,
        r: redis.Redis,
        v: redis.Redis,
        interval_s: float,
        own: list[str],
        readable: list[str],
    ):
        self.client, self.r, self.v = client, r, v
        self.interval_s = interval_s
        self.own = own  # the bridge's own topic filters: subscribed anyway, never unsubscribed here
        self.readable = readable
        self.lock = threading.Lock()
        self.readers: dict[str, set[str]] = {}  # topic -> the enabled apps that show it
        self.pending: dict[int, list[str]] = {}  # a SUBSCRIBE's mid -> its topics, until its SUBACK
        self.asked: dict[str, float] = {}  # app -> when its last render was asked for (monotonic)
        self.timers: dict[str, threading.Timer] = {}  # app -> the render due at its interval's end

    def follow(self) -> None:
        """The apps as stored now: subscribe to the topics they name newly, unsubscribe from the others."""
        readers: dict[str, set[str]] = {}
        for name, definition in store.get_apps(self.r).items():
            if definition["enabled"]:
                for topic in live.topics(definition["content"]):
                    readers.setdefault(topic, set()).add(name)
        with self.lock:
            new = [t for t in readers if t not in self.readers]
            gone = [t for t in self.readers if t not in readers]
            self.readers = readers
        if gone:
            if theirs := [t for t in gone if not self._own(t)]:
                self.client.unsubscribe(theirs)
            store.drop_live(self.v, gone)  # an app that names one again gets the retained value afresh
            log.info("live values: unsubscribed from %s", ", ".join(gone))
        if unreadable := {t: UNREADABLE for t in new if not self._readable(t)}:
            log.warning("live values: %s: %s", ", ".join(unreadable), UNREADABLE)
            store.live_subscribed(self.v, unreadable, [])
        if new:
            self.subscribe(new)

    def subscribe(self, topics: list[str] | None = None) -> None:
        """Subscribe to `topics` (default: all the apps name, as after a (re)connection)."""
        with self.lock:
            topics = [t for t in (self.readers if topics is None else topics) if self._readable(t) and not self._own(t)]
            if not topics or not self.client.is_connected():
                return  # the connection's own call subscribes
            result, mid = self.client.subscribe([(t, 0) for t in topics])
            if result == paho.MQTT_ERR_SUCCESS:
                self.pending[mid] = topics
        log.info("live values: subscribing to %s", ", ".join(topics))

    def subscribed(self, mid: int, reason_codes) -> None:
        """A SUBACK: the topics the broker refused are noted, those granted cleared."""
        with self.lock:
            topics = self.pending.pop(mid, None)
        if topics is None:
            return  # the bridge's own subscriptions
        codes = dict(zip(topics, reason_codes, strict=True))
        refused = {t: REFUSED for t, code in codes.items() if code.is_failure}
        for topic in refused:
            log.warning("live values: %s: %s", topic, REFUSED)
        try:
            store.live_subscribed(self.v, refused, [t for t in topics if t not in refused])
        except redis.RedisError as e:
            log.warning("live values: redis unavailable (%s)", e)

    def received(self, topic: str, payload: bytes) -> bool:
        """A message on a topic an app shows: its value kept and, if it changed, the apps drawn again.
        False for any other topic."""
        with self.lock:
            names = sorted(self.readers.get(topic, ()))
        if not names:
            return False
        if len(payload) > MAX_VALUE_BYTES:
            log.warning("live values: %s: %d bytes, at most %d: not kept", topic, len(payload), MAX_VALUE_BYTES)
            return True
        try:
            if store.put_live_value(self.v, topic, payload.decode(errors="replace").strip()):
                for name in names:
                    self._draw(name)
        except redis.RedisError as e:
            log.warning("live values: %s: redis unavailable (%s)", topic, e)
        return True

    def _draw(self, name: str) -> None:
        """Ask for the app's render now, or at its interval's end if one was asked for within it."""
        with self.lock:
            if name in self.timers:
                return  # that render will show this value too
            wait = self.asked.get(name, float("-inf")) + self.interval_s - time.monotonic()
            if wait > 0:
                self.timers[name] = timer = threading.Timer(wait, self._due, [name])
                timer.daemon = True
                timer.start()
                return
            self.asked[name] = time.monotonic()
        store.ask_live_render(self.v, name)

    def _due(self, name: str) -> None:
        with self.lock:
            del self.timers[name]
            self.asked[name] = time.monotonic()
        try:
            store.ask_live_render(self.v, name)
        except redis.RedisError as e:
            log.warning("live values: app %s not drawn again: redis unavailable (%s)", name, e)

    def _own(self, topic: str) -> bool:
        return any(paho.topic_matches_sub(own, topic) for own in self.own)

    def _readable(self, topic: str) -> bool:
        return self._own(topic) or any(paho.topic_matches_sub(f, topic) for f in self.readable)
