"""The service: what every front door of the appliance does, one module per area.

`jobs` (submit, follow, cancel, requeue), `apps` (the rotation), `panel`
(brightness, night mode, power, indicators, its state), `system` (queues,
health), `library` (fonts, icons) and `backup` (backup and restore), each
over the same connections (core.py). The service takes a Redis connection and
the config, knows nothing of HTTP or MQTT, and refuses with the domain errors
of `errors.py`, which each front door maps to its own protocol.
"""

import redis

from .. import config as configuration
from .apps import Apps
from .backup import Backup
from .core import Core
from .jobs import Jobs
from .library import Library
from .panel import Panel
from .system import System

__all__ = ["Service"]


class Service(Core):
    """The areas, built once over one core; a front door calls the area it needs."""

    def __init__(self, r: redis.Redis, config: configuration.Config, v: redis.Redis | None = None):
        super().__init__(r, config, v)
        self.jobs = Jobs(self)
        self.apps = Apps(self)
        self.system = System(self)
        self.panel = Panel(self, self.system)
        self.library = Library(self)
        self.backup = Backup(self, self.apps, self.library)
