"""The appliance as a whole: its queues and workers, its health, its version."""

import importlib.metadata
import time

import redis

from .. import store
from .core import Area, available


class System(Area):
    @available
    def overview(self) -> dict:
        """Per queue its counts, the render workers, what waits for the panel, the job that plays and
        the rotation's app on the panel (or under the job)."""
        return {
            "queues": self.queues.counts(),
            "workers": self.queues.workers(self._workers_alive()),
            "ready": [m.decode() for m in self.r.zrange(store.READY, 0, -1)],
            "now_playing": store.get_json(self.v, store.NOW_PLAYING),
            "app": store.showing(self.v)[1],
        }

    def _workers_alive(self) -> list[str]:
        return store.workers_alive(self.v, since=time.time() - self.config.worker.silent_max_s)

    def health(self) -> dict:
        """`ok` when Redis answers, a render worker is alive and the display's heartbeat is fresh."""
        try:
            self.r.ping()
            workers = len(self._workers_alive())
            heartbeat = store.get_json(self.v, store.HEARTBEAT)
        except redis.RedisError as e:
            return {"ok": False, "redis": False, "error": str(e)}
        age = time.time() - heartbeat["time"] if heartbeat else None
        display_ok = age is not None and age < self.config.display.heartbeat_max_age_s
        return {"ok": workers > 0 and display_ok, "redis": True, "workers": workers, "display_heartbeat_age_s": age}


def installed_version() -> str:
    try:
        return importlib.metadata.version("pixie")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
