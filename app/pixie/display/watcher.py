"""The watcher: the display process's second thread, beside the playback loop (player.py).

The playback loop plays ready streams and does no waiting on Redis. The watcher blocks on Redis
for the display's commands (new work, dismiss, brightness, power, the rotation's
apps and skips, the default transition), hands them to the loop as typed commands, keeps the heartbeat
and the live preview, blinks and fades the indicators, applies night mode
(each second: the brightness schedule.py says for now), draws the idle
clock once a minute, sends the events of what the panel shows and
how bright it is (store.event), and loads the rotation again whenever it
changes by itself (a clock app's next minute, a countdown's next second,
an app's window opening or closing, an app's lifetime ending) or an app's
live values were drawn again (new frames of the same version, swapped in at once).
"""

import json
import logging
import threading
import time

import redis

from .. import apps, store
from .. import config as configuration
from ..render import faces, indicators, transitions
from .player import Apps, Brightness, Dismiss, Idle, Indicators, NewWork, Player, Skip, Transition
from .rotation import Entry

log = logging.getLogger("pixie.display")
WATCH_INTERVAL_S = 0.05
SCREEN_INTERVAL_S = 0.2


class Watcher:
    """Redis → the player's command queue; the player's `showing` → heartbeat and preview."""

    def __init__(self, player: Player, config: configuration.Config, inputs=None):
        """`inputs`: the live inputs' receiver, whose counts go out with the heartbeat."""
        self.player = player
        self.config = config
        self.inputs = inputs
        self.stopped = threading.Event()
        self.reported_rank: int | None = None
        self.published: bytes | None = None
        self.next_screen = 0.0
        self.clock_minute: int | None = None
        self.brightness: int | None = None  # what the player was last told
        self.shown: tuple | None = None  # the (job, app, live input) the last event told
        self.next_brightness = 0.0
        self.apps_loaded = False  # since the last (re)connection to Redis
        self.apps_change_at: float | None = None  # apps.Loaded.changes_at
        self.apps: dict[str, Entry] = {}  # the last load's: their frames are not fetched again
        self.restarting = False
        self.indicators: dict[str, dict] = {}  # store.indicators
        self.lit: dict = {}  # what the player was last told of them

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                self.tick()
            except redis.RedisError as e:
                log.warning("watcher: redis unavailable (%s)", e)
                self.apps_loaded = False  # the volatile Redis may come back empty: render what is missing
                self.stopped.wait(1)

    def tick(self) -> None:
        put = self.player.commands.put
        ready = changed = at_once = refresh = transition = False
        v = self.player.v
        for command in store.take_commands(v, WATCH_INTERVAL_S):
            if "dismiss" in command:
                put(Dismiss(command["dismiss"]))
            if "brightness" in command or "power" in command:
                self.next_brightness = 0  # read what the panel should have now, in this tick
            if "skip" in command:
                put(Skip(int(command["skip"]), command.get("to")))
            if "restart" in command:  # asked for (AWTRIX's reboot): the supervisor starts the display again
                log.info("restarting, as asked")
                self.restarting = True
                self.stopped.set()
                self.player.stop()
                return
            if "indicators" in command:
                self.indicators = store.indicators(v)
            transition = transition or "transition" in command
            ready = ready or "ready" in command
            refresh = refresh or bool(command.get("refresh"))  # an app's live values: the same version
            changed = changed or ("apps" in command and not command.get("refresh"))
            at_once = at_once or bool(command.get("now"))
        if not self.apps_loaded:
            self.indicators = store.indicators(v)
        if transition or not self.apps_loaded:
            setting = store.get_json(self.player.r, store.TRANSITION) or {}
            put(
                Transition(
                    setting.get("transition", transitions.CUT), setting.get("transition_ms", transitions.DEFAULT_MS)
                )
            )
        if changed or not self.apps_loaded:
            self.load_apps(at_once)
        elif refresh:
            self.load_apps(refresh=True)
        rank = store.top_rank(self.player.r)
        if rank is not None and (ready or rank != self.reported_rank):
            put(NewWork(rank))
        self.reported_rank = rank
        showing = self.player.showing
        now = time.time()
        heartbeat = {"time": now, "playing": showing.job_id, "app": showing.app, "live": showing.live}
        if self.inputs:
            heartbeat["inputs"] = self.inputs.state()
        v.set(store.HEARTBEAT, json.dumps(heartbeat), ex=store.HEARTBEAT_TTL_S)
        if (showing.job_id, showing.app, showing.live) != self.shown:
            self.shown = (showing.job_id, showing.app, showing.live)
            store.event(v, "showing", job=showing.job_id, app=showing.app, live=showing.live)
        if now >= self.next_screen and showing.frame is not None and showing.frame is not self.published:
            self.published = showing.frame
            v.set(store.SCREEN, showing.frame)
            self.next_screen = now + SCREEN_INTERVAL_S
        if now >= self.next_brightness:  # night mode: windows open and close, fades move
            self.next_brightness = now + 1
            value = self.player.panel_brightness()
            if value != self.brightness:
                self.brightness = value
                put(Brightness(value))
                store.event(v, "panel", lit=value)
        lit = indicators.colors(self.indicators, now)  # blinks and fades move with the time
        if lit != self.lit:
            self.lit = lit
            put(Indicators(lit))
        if int(now // 60) != self.clock_minute and self.config.display.idle == "clock":
            self.clock_minute = int(now // 60)
            put(Idle(faces.clock(self.config.panel.width, self.config.panel.height, now)))
        if self.apps_change_at is not None and now >= self.apps_change_at:
            self.load_apps(refresh=True)

    def load_apps(self, at_once: bool = False, refresh: bool = False) -> None:
        """The apps' frames to the player; on a first load, a render of any app whose frames are missing."""
        r, v = self.player.r, self.player.v
        config = self.config
        loaded = apps.rotation(
            r, v, config.panel, config.display.default_duration_s, time.time(), self.apps, place=config.location.place
        )
        self.apps = {entry.name: entry for entry in loaded.entries}
        self.apps_change_at = loaded.changes_at
        self.player.commands.put(Apps(loaded.entries, at_once, store.pinned(r), refresh))
        if loaded.missing and not self.apps_loaded:
            from ..queues import Queues  # rq, imported by this process only when frames were lost

            for name, rev in loaded.missing.items():
                Queues(r).render_app(name, rev, store.RECORD_TTL_S)
            log.info("render again: %s", ", ".join(loaded.missing))
        self.apps_loaded = True
