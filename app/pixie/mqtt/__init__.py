"""`pixie-mqtt`: MQTT's front door (bridge.py), a thin adapter over the job service
like the HTTP API; commands.py maps topics to service calls, discovery.py tells
Home Assistant what the device offers."""

import logging
import signal
import sys

from .. import config as configuration
from .. import store
from ..service import Service
from .bridge import Bridge

__all__ = ["Bridge", "main"]


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(name)s %(levelname)s %(message)s")
    config = configuration.load()
    if not config.mqtt.enabled:
        sys.exit("pixie-mqtt: mqtt.enabled is false (PIXIE_MQTT_ENABLED): nothing to do")
    service = Service(store.connect(config.redis.url), config, store.connect_volatile(config.redis))
    bridge = Bridge(config, service)
    signal.signal(signal.SIGTERM, lambda *_: bridge.stop())
    signal.signal(signal.SIGINT, lambda *_: bridge.stop())
    bridge.run()
