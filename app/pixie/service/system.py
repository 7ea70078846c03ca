"""The appliance as a whole: its queues and workers, its health, its version."""

import importlib.metadata
import time

import redis
from pydantic import BaseModel, Field

from .. import store
from .core import Area, available


class InputState(BaseModel):
    enabled: bool
    port: int
    received: int = Field(0, description="datagrams received since the display started")
    frames: int = Field(0, description="frames they made, handed to the panel")
    dropped: dict[str, int] = Field(default_factory=dict, description="datagrams dropped, by why")


class Inputs(BaseModel):
    """The live inputs (UDP frames straight to the panel) and what they took, as the display counts it."""

    bind: str = Field(description="the address they listen on")
    allow: list[str] = Field(description="the source networks whose datagrams are taken")
    live: str | None = Field(None, description="the input on the panel now, if one streams")
    flaschen_taschen: InputState
    ddp: InputState


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

    @available
    def inputs(self) -> Inputs:
        inputs = self.config.inputs
        heartbeat = store.get_json(self.v, store.HEARTBEAT) or {}
        counted = heartbeat.get("inputs", {})  # the display's counts, by protocol (display/inputs/receiver.py)
        ft, ddp = counted.get("flaschen-taschen", {}), counted.get("ddp", {})
        return Inputs(
            bind=inputs.bind,
            allow=inputs.allow,
            live=heartbeat.get("live"),
            flaschen_taschen=InputState(
                enabled=inputs.flaschen_taschen,
                port=inputs.flaschen_taschen_port,
                **ft,
            ),
            ddp=InputState(enabled=inputs.ddp, port=inputs.ddp_port, **ddp),
        )

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
