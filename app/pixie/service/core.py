"""What every area of the service shares: the connections, held once, and the Redis-down guard."""

import functools
import logging

import redis

from .. import config as configuration
from .. import errors
from ..queues import Queues

# One logger for the whole service: the journal's lines read `pixie.service ...` whichever area wrote them.
log = logging.getLogger("pixie.service")


def available(method):
    """Redis down is the appliance being unavailable, whichever front door asked."""

    @functools.wraps(method)
    def guarded(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except redis.RedisError as e:
            raise errors.Unavailable(f"redis is unavailable: {e}") from e

    return guarded


class Core:
    def __init__(self, r: redis.Redis, config: configuration.Config, v: redis.Redis | None = None):
        """`r` the durable Redis, `v` the volatile one (store.py says which key lives where)."""
        self.r = r
        self.v = r if v is None else v
        self.config = config
        self.queues = Queues(r, config.worker.job_timeout_s)


class Area:
    """One area of the service, over the core the container holds (the same connections for all)."""

    def __init__(self, core: Core):
        self.r, self.v, self.config, self.queues = core.r, core.v, core.config, core.queues
