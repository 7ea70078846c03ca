"""The display process: the only process that opens the matrix, for its whole life.

It plays ready streams in priority order. A higher-priority job interrupts
the one playing, which resumes where it stopped afterwards. It never renders
a job itself and its playback loop does no Redis I/O: a watcher thread blocks
on Redis for commands (new work, dismiss, brightness), keeps the heartbeat and
the live preview, and wakes the loop.
"""

import json
import logging
import signal
import threading
import time

import redis

from . import config as configuration
from . import render, store
from .backends import open_backend
from .playback import Playback
from .stream import unpack

log = logging.getLogger("pixie.display")
WATCH_INTERVAL_S = 0.05
SCREEN_INTERVAL_S = 0.2


class Player:
    def __init__(self, config: configuration.Config, r: redis.Redis, backend):
        self.config = config
        self.r = r
        self.backend = backend
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.current: Playback | None = None
        self.stack: list[Playback] = []
        self.dismissed: set[str] = set()
        self.waiting_rank: int | None = None
        self.new_brightness: int | None = None
        self.pool = []
        self.front = None
        self.shown: bytes | None = None
        self.idle_frame = bytes(config.panel.width * config.panel.height * 3)
        self.clock_minute: int | None = None

    # -- the playback loop (main thread) -------------------------------------

    def run(self) -> None:
        self._apply_brightness(self._stored_brightness())
        self._recover()
        threading.Thread(target=self._watch, name="watcher", daemon=True).start()
        while not self.stopping.is_set():
            try:
                playback = self._next()
            except redis.RedisError as e:
                log.warning("redis unavailable (%s); retrying", e)
                self.stopping.wait(1)
                continue
            if playback is None:
                self._show_still(self.idle_frame)
                self._wait(1.0)
            else:
                self._play(playback)

    def _next(self) -> Playback | None:
        self._drop_dismissed_stacked()
        store.reclaim(self.r)  # a job taken by a _next that Redis errors interrupted
        while True:
            top = store.top_rank(self.r)
            resumed = bool(self.stack) and (top is None or top >= self.stack[-1].rank)
            if resumed:
                playback = self.stack.pop()
            elif (job_id := store.pop_ready(self.r)) is not None:
                playback = self._load(job_id)
            else:
                return None
            # A Redis error from here on must not strand the job in `playing`: a popped job
            # stays claimed (reclaim() puts it back) until release(), the last step that can fail.
            try:
                started = playback is not None and self._start(playback)
                if started:
                    self.waiting_rank = store.top_rank(self.r)
                store.release(self.r)
            except redis.RedisError:
                if resumed:
                    self.stack.append(playback)
                raise
            if started:
                return playback

    def _load(self, job_id: str) -> Playback | None:
        record = store.get(self.r, job_id)
        blob = store.get_stream(self.r, record.get("stream", ""))
        if blob is None:
            store.set_state(self.r, job_id, "failed", reason="its frames were evicted from the render cache")
            return None
        parsed = unpack(blob)
        return Playback(job_id, record, parsed.frames, parsed.hold_us)

    def _start(self, playback: Playback) -> bool:
        if not store.set_state(self.r, playback.job_id, "playing", started=time.time()):
            return False  # canceled while it waited
        self._prepare(playback)
        self.current = playback
        self._save_active()
        self.r.set(store.NOW_PLAYING, json.dumps({"id": playback.job_id, "priority": playback.priority}))
        log.info("play %s (%s) from frame %d", playback.job_id, playback.priority, playback.index)
        return True

    def _play(self, playback: Playback) -> None:
        deadline = time.monotonic()
        outcome = "done"
        while not playback.finished():
            self._show(playback)
            deadline += playback.hold_us() / 1e6
            outcome = self._wait_until(deadline, playback)
            if outcome != "done":
                break
            playback.advance()
        self.current = None
        if outcome == "stopped":
            return  # still listed as active: played again after the restart
        if outcome == "preempted":
            store.set_state(self.r, playback.job_id, "ready")
            self.stack.append(playback)
            self._save_active()
            return
        self._end(playback.job_id, "canceled" if outcome == "dismissed" else "done")

    def _end(self, job_id: str, state: str) -> None:
        fields = {"reason": "dismissed"} if state == "canceled" else {}
        for attempt in range(30):
            try:
                store.set_state(self.r, job_id, state, finished=time.time(), **fields)
                self.r.delete(store.NOW_PLAYING)
                self._save_active()
                return
            except redis.RedisError as e:
                log.warning("cannot record %s of %s yet (%s)", state, job_id, e)
                self.stopping.wait(min(5, 0.1 * 2**attempt))

    def _wait_until(self, deadline: float, playback: Playback) -> str:
        while (left := deadline - time.monotonic()) > 0:
            if self.wake.wait(left):
                self.wake.clear()
                if self.stopping.is_set():
                    return "stopped"
                if playback.job_id in self.dismissed:
                    self.dismissed.discard(playback.job_id)
                    return "dismissed"
                if self.waiting_rank is not None and self.waiting_rank < playback.rank:
                    return "preempted"
                if self.new_brightness is not None:
                    self._apply_brightness(self.new_brightness)
                    self._prepare(playback)
                    self._show(playback)
        return "done"

    def _wait(self, seconds: float) -> None:
        self.wake.wait(seconds)
        self.wake.clear()
        if self.new_brightness is not None:
            self._apply_brightness(self.new_brightness)
            self.shown = None

    def _drop_dismissed_stacked(self) -> None:
        for playback in [p for p in self.stack if p.job_id in self.dismissed]:
            self.stack.remove(playback)
            self.dismissed.discard(playback.job_id)
            self._end(playback.job_id, "canceled")

    # -- canvases --------------------------------------------------------------

    def _canvases(self, count: int) -> list:
        """`count` canvases, never the one on the panel now. The library cannot
        free a canvas, so the pool only grows, up to display.canvas_pool + 1."""
        count = min(count, self.config.display.canvas_pool)
        while len(self.pool) < count + 1:
            self.pool.append(self.backend.canvas())
        return [c for c in self.pool if c is not self.front][:count]

    def _prepare(self, playback: Playback) -> None:
        playback.canvases = self._canvases(len(playback.frames))
        if len(playback.canvases) == len(playback.frames):
            for canvas, frame in zip(playback.canvases, playback.frames, strict=True):
                self.backend.fill(canvas, frame)

    def _show(self, playback: Playback) -> None:
        frame = playback.frames[playback.index]
        if len(playback.canvases) == len(playback.frames):
            canvas = playback.canvases[playback.index]
        else:  # a long stream: fill a ring of canvases just in time
            canvas = playback.canvases[playback.index % len(playback.canvases)]
            self.backend.fill(canvas, frame)
        if canvas is not self.front:
            self.backend.swap(canvas)
            self.front = canvas
        self.shown = frame

    def _show_still(self, frame: bytes) -> None:
        if frame is not self.shown:
            canvas = self._canvases(1)[0]
            self.backend.fill(canvas, frame)
            self.backend.swap(canvas)
            self.front = canvas
            self.shown = frame

    def _apply_brightness(self, value: int) -> None:
        self.backend.brightness = value
        self.new_brightness = None

    def _stored_brightness(self) -> int:
        try:
            stored = self.r.get(store.BRIGHTNESS)
        except redis.RedisError:
            stored = None
        return int(stored) if stored else self.config.panel.brightness

    # -- state shared with the rest of the appliance -------------------------

    def _save_active(self) -> None:
        active = [(p.job_id, p.priority) for p in [*self.stack, self.current] if p is not None]
        self.r.set(store.ACTIVE, json.dumps(active))

    def _recover(self) -> None:
        """Jobs this process was playing when it died go back to the head of the queue."""
        while True:
            try:
                for job_id, priority in store.get_json(self.r, store.ACTIVE) or []:
                    store.requeue_front(self.r, job_id, priority)
                self.r.delete(store.ACTIVE)
                return
            except redis.RedisError as e:
                log.warning("redis unavailable at start (%s); retrying", e)
                self.stopping.wait(1)

    def _watch(self) -> None:
        published = None
        next_screen = 0.0
        while not self.stopping.is_set():
            try:
                for command in store.take_commands(self.r, WATCH_INTERVAL_S):
                    if "dismiss" in command:
                        self.dismissed.add(command["dismiss"])
                    if "brightness" in command:
                        self.new_brightness = int(command["brightness"])
                    self.wake.set()
                rank = store.top_rank(self.r)
                self.waiting_rank = rank
                current = self.current
                if rank is not None and (current is None or rank < current.rank):
                    self.wake.set()
                now = time.time()
                heartbeat = {"time": now, "playing": current.job_id if current else None}
                self.r.set(store.HEARTBEAT, json.dumps(heartbeat), ex=store.HEARTBEAT_TTL_S)
                if now >= next_screen and self.shown is not published:
                    published = self.shown
                    self.r.set(store.SCREEN, published)
                    next_screen = now + SCREEN_INTERVAL_S
                if self.config.display.idle == "clock" and int(now // 60) != self.clock_minute:
                    self.clock_minute = int(now // 60)
                    self.idle_frame = render.clock(self.config.panel.width, self.config.panel.height, now)
                    self.wake.set()
            except redis.RedisError as e:
                log.warning("watcher: redis unavailable (%s)", e)
                self.stopping.wait(1)

    def stop(self, *_) -> None:
        self.stopping.set()
        self.wake.set()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    config = configuration.load()
    player = Player(config, store.connect(config.redis.url), open_backend(config))
    signal.signal(signal.SIGTERM, player.stop)
    signal.signal(signal.SIGINT, player.stop)
    log.info("display on %s back-end, %dx%d", config.display.backend, config.panel.width, config.panel.height)
    player.run()
