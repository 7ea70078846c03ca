"""The playback loop of the display process: it plays ready streams on the panel.

It plays ready streams in priority order; a higher-priority job interrupts
the one playing, which resumes where it stopped afterwards. It never renders
a job and never waits on Redis for news: the watcher (display.py) hands it
typed commands through a queue, and it reads them only while it waits for
the next frame's time. Time comes from a `Clock`, so tests can run the loop
on a fake one in milliseconds.
"""

import collections
import json
import logging
import queue
import random
import time
from dataclasses import dataclass

import redis

from .. import config as configuration
from .. import schedule, store, stream
from ..render import indicators, transitions
from ..stream import unpack
from ..vocabulary import RANK, Priority, State
from .playback import Playback
from .rotation import Entry, Rotation

log = logging.getLogger("pixie.display")

# A playback started on its head (frames.Head) reads the rest of its frames from the whole as it goes, a chunk
# at a time, once fewer than REST_AHEAD of what it has are left: a 1,500-frame whole (9 MB) read at once
# held a frame up by 10 ms. A chunk of 25 frames of a 64x32 panel is 150 KB.
REST_AHEAD = 10
REST_CHUNK = 25
REST_POLL_S = 0.005  # how often a head's last frame looks for the whole, not stored yet


@dataclass(frozen=True)
class Dismiss:
    job_id: str


@dataclass(frozen=True)
class Brightness:
    value: int


@dataclass(frozen=True)
class Indicators:
    """The indicators' colours now (render.indicators.colors), drawn over every frame."""

    lit: dict


@dataclass(frozen=True)
class NewWork:
    """Something is ready for the panel; `rank` is the most urgent waiting (0 = high)."""

    rank: int


@dataclass(frozen=True)
class Idle:
    """A new idle screen (the clock's next minute)."""

    frame: bytes


@dataclass(frozen=True)
class Apps:
    """The rotation's apps, rendered; `at_once`: the app on screen changes now, not at its dwell's end;
    `pinned`: the app to hold on screen."""

    entries: list[Entry]
    at_once: bool = False
    pinned: str | None = None
    # the rotation changed by itself, or an app's live values were drawn again: new faces of the same
    # versions are swapped in at once
    refresh: bool = False


@dataclass(frozen=True)
class Skip:
    step: int  # 1: the next app, -1: the previous one
    to: str | None = None  # this app instead


@dataclass(frozen=True)
class Stop:
    pass


@dataclass(frozen=True)
class Transition:
    """The default transition (store.TRANSITION): into every job, and into every app without its own."""

    name: str
    ms: int


@dataclass(frozen=True)
class Streamed:
    """A frame from a live input (inputs/): on the panel now, over the rotation and every job it outranks,
    until none came for inputs.fallback_s; `source` the protocol."""

    frame: bytes
    source: str


Command = Dismiss | Brightness | Indicators | NewWork | Idle | Apps | Skip | Stop | Transition | Streamed


@dataclass(frozen=True)
class Showing:
    """What the panel shows, published for the watcher (heartbeat, live preview) as one value."""

    job_id: str | None = None
    frame: bytes | None = None
    app: str | None = None  # the rotation's app on screen, or under the job that interrupts it
    live: str | None = None  # the live input on screen (its protocol), over the job or app it interrupts


class Clock:
    """Real time; tests give the player a fake one."""

    monotonic = staticmethod(time.monotonic)
    time = staticmethod(time.time)

    @staticmethod
    def get(commands: queue.SimpleQueue, timeout: float) -> Command | None:
        """The next command, waiting up to `timeout` seconds for one."""
        try:
            return commands.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None


class Player:
    def __init__(self, config: configuration.Config, r: redis.Redis, backend, clock=None, v=None):
        """`r` the durable Redis, `v` the volatile one (store.py says which key lives where)."""
        self.config = config
        self.r = r
        self.v = r if v is None else v
        self.backend = backend
        self.clock = clock or Clock()
        # SimpleQueue: put() is safe from a signal handler (stop() runs in one).
        self.commands: queue.SimpleQueue = queue.SimpleQueue()
        self.showing = Showing()
        self.stopping = False
        self.pending: collections.deque = collections.deque()  # read while pausing, handled later
        self.stack: list[Playback] = []
        self.rotation = Rotation()
        self.dismissed: set[str] = set()
        self.pool = []
        self.front = None
        self.shown: bytes | None = None
        self.on_screen: tuple[str | None, str | None] | None = None  # (job, app) whose frame shows; None: idle
        self.transition = Transition(transitions.CUT, transitions.DEFAULT_MS)
        self.scratch: list = []  # two canvases for a transition's frames, made at its first
        self.random = random.Random()  # noqa: S311 - which transition `random` plays
        self.live: Streamed | None = None  # a live input's last frame, shown until `live_until`
        self.live_until = 0.0
        self.indicators: dict = {}  # number -> (r, g, b), drawn over every frame
        self.idle_frame = bytes(config.panel.width * config.panel.height * 3)

    def stop(self, *_) -> None:
        self.commands.put(Stop())

    # -- the loop --------------------------------------------------------------------------------

    def run(self) -> None:
        self.start()
        self.loop()

    def start(self) -> None:
        """Before the first frame: the stored brightness, and the jobs a dead predecessor was playing."""
        self._apply_brightness(self.panel_brightness())
        self._recover()

    def loop(self) -> None:
        while not self.stopping:
            try:
                playback = self._next()
            except redis.RedisError as e:
                log.warning("redis unavailable (%s); retrying", e)
                self._pause(1)
                continue
            if playback is not None:
                self._play(playback)
            elif self._live():
                self._stream()
            elif self.rotation:
                self._rotate()
            else:
                self._show_still(self.idle_frame)
                self._idle(1.0)

    def _next(self) -> Playback | None:
        self._drop_dismissed_stacked()
        store.reclaim(self.r, self.v)  # a job taken by a _next that Redis errors interrupted
        while True:
            top = store.top_rank(self.r)
            limit = self.live_rank if self._live() else float("inf")  # a live stream holds back what it outranks
            resumed = bool(self.stack) and (top is None or top >= self.stack[-1].rank) and self.stack[-1].rank < limit
            if resumed:
                playback = self.stack.pop()
            elif top is not None and top < limit and (job_id := store.pop_ready(self.r)) is not None:
                playback = self._load(job_id)
            else:
                return None
            # A Redis error from here on must not strand the job in `playing`: a popped job
            # stays claimed (reclaim() puts it back) until release(), the last step that can fail.
            try:
                started = playback is not None and self._start(playback)
                store.release(self.r)
            except redis.RedisError:
                if resumed:
                    self.stack.append(playback)
                raise
            if started:
                return playback

    def _load(self, job_id: str) -> Playback | None:
        record = store.get(self.r, job_id)
        # A long animation whose head was handed over first: its whole, if rendered by now.
        whole = store.get_stream(self.v, record["rest"]) if record.get("rest") else None
        blob = whole or store.get_stream(self.v, record.get("stream", ""))
        if blob is None:
            self._render_again(job_id)
            return None
        parsed = unpack(blob)
        playback = Playback(job_id, record, parsed.frames, parsed.hold_us)
        playback.rest = None if whole else record.get("rest") or None
        return playback

    def _render_again(self, job_id: str) -> None:
        """Its frames are gone from the volatile render cache (evicted, or its Redis restarted)."""
        from ..queues import Queues  # rq, imported by this process only on the rare day it is needed

        store.reset(self.r, job_id)
        if not Queues(self.r).requeue(job_id):
            reason = "its frames were evicted from the render cache and its render job has expired"
            store.set_state(self.r, self.v, job_id, State.FAILED, reason=reason)
        log.info("render %s again: its frames are no longer cached", job_id)

    def _start(self, playback: Playback) -> bool:
        if playback.job_id in self.dismissed:
            self.dismissed.discard(playback.job_id)
            self._end(playback.job_id, State.CANCELED)
            return False
        # Before its state says playing: "dismiss what plays" finds it as soon as a client sees that state.
        self.v.set(store.NOW_PLAYING, json.dumps({"id": playback.job_id, "priority": playback.priority}))
        if not store.set_state(self.r, self.v, playback.job_id, State.PLAYING, started=self.clock.time()):
            self.v.delete(store.NOW_PLAYING)
            return False  # canceled while it waited
        if playback.wakeup and not self._powered():  # lit while it plays, before its canvases are filled
            self._apply_brightness(self._awake_brightness())
        self._prepare(playback)
        self._save_active(playback)
        log.info("play %s (%s) from frame %d", playback.job_id, playback.priority, playback.index)
        return True

    def _frames(self, playback: Playback) -> str:
        """Show its frames, each for its time, to the end; or until a command says otherwise."""
        deadline = self.clock.monotonic()
        outcome, deadline = self._transition(playback, deadline)
        if outcome != "done":
            return outcome
        while not playback.finished():
            self._show(playback)
            deadline += playback.hold_us() / 1e6
            if playback.rest is not None:
                outcome, deadline = self._rest(playback, deadline)
                if outcome != "done":
                    return outcome
            outcome = self._wait_until(deadline, playback)
            if outcome != "done":
                return outcome
            playback.advance()
        return "done"

    def _rest(self, playback: Playback, deadline: float) -> tuple[str, float]:
        """A playback started on its head: the next chunk of its frames from the whole, read during a frame's
        hold; on the last frame it has, waited for, that frame staying up (then the next one's time counts
        from its arrival). A render that failed or never came, or a whole the render cache dropped after it
        was stored, leaves what it has as all there is."""
        if playback.index < len(playback.frames) - REST_AHEAD:
            return "done", deadline
        panel = self.config.panel
        start, end = stream.frame_span(panel.width, panel.height, len(playback.frames), REST_CHUNK)
        give_up = self.clock.monotonic() + self.config.worker.job_timeout_s
        while (chunk := store.get_stream_range(self.v, playback.rest, start, end)) is None:
            if playback.index < len(playback.frames) - 1:
                return "done", deadline  # more to show first; looked for again at the next frame
            record = store.get(self.r, playback.job_id)
            if self.clock.monotonic() > give_up or record.get("state") == State.FAILED or not record.get("rest"):
                log.warning("%s: the rest of its frames is not there; it plays what it has", playback.job_id)
                playback.rest = None
                return "done", deadline
            if (outcome := self._wait_until(self.clock.monotonic() + REST_POLL_S, playback)) != "done":
                return outcome, deadline
        frames, holds = stream.unpack_frames(chunk, panel.width, panel.height)
        playback.frames, playback.holds = playback.frames + frames, playback.holds + holds
        if len(frames) < REST_CHUNK:
            playback.rest = None  # the whole is in
        return "done", max(deadline, self.clock.monotonic())

    def _transition(self, playback: Playback, deadline: float) -> tuple[str, float]:
        """From what the panel shows to the playback's frame, if it is something else: its transition's
        frames, blended here from the two ready frames, each at its time. The transition's time counts as
        the playback's, so a dwell lasts as long as with a cut; it takes at most half of what remains."""
        name, ms = self._transition_of(playback)
        if playback.duration_us is not None:
            ms = min(ms, (playback.duration_us - playback.played_us) / 2000)
        steps = transitions.progresses(ms)
        if name == transitions.CUT or not steps or self.shown is None or self.on_screen == _identity(playback):
            return "done", deadline
        name = transitions.pick(name, self.random)
        before, after = self.shown, playback.frames[playback.index]
        panel = self.config.panel
        for t in steps:
            self._show_between(transitions.frame(name, before, after, t, panel.width, panel.height), playback)
            deadline += ms / len(steps) / 1000
            if (outcome := self._wait_until(deadline, playback)) != "done":
                return outcome, deadline
        if playback.duration_us is not None:
            playback.played_us += ms * 1000
        return "done", deadline

    def _transition_of(self, playback: Playback) -> tuple[str, float]:
        """An app's own transition, else the setting's (a job's is the setting's)."""
        name, ms = playback.transition
        return name or self.transition.name, self.transition.ms if ms is None else ms

    @property
    def live_rank(self) -> float:
        """A stream outranks every job but, if it yields to them, high ones (RANK: 0 is high)."""
        return RANK[Priority.HIGH] + 0.5 if self.config.inputs.yields_to == "high" else -1

    def _live(self) -> bool:
        return self.live is not None and self.clock.monotonic() < self.live_until

    def _stream(self) -> None:
        """A live input's frames as they come, until none came for inputs.fallback_s (then what it interrupted
        goes on where it stopped), or a job that outranks it waits."""
        shown = None
        while not self.stopping and self._live():
            if self.live is not shown:
                shown = self.live
                self._show_between(shown.frame, None)
                self.on_screen = ("live", shown.source)  # its way out is the next item's transition
            command = self._get(self.live_until - self.clock.monotonic())
            # Frames that queued up while this process waited for a CPU: only the newest is shown.
            while isinstance(command, Streamed) and not self.pending and not self.commands.empty():
                self._handle(command, None)
                command = self._get(0)
            if command is not None:
                self._handle(command, None)
                if isinstance(command, NewWork) and command.rank < self.live_rank:
                    return

    def _rotate(self) -> None:
        """No job waits: the rotation's app on screen, to its dwell's end; a job interrupts it (and it
        resumes afterwards where it was), a skip or a replaced app moves on at once."""
        playback = self.rotation.current()  # its name reaches the heartbeat through `showing`
        self._prepare(playback)
        outcome = self._frames(playback)
        if outcome == "done":
            self.rotation.advance()

    def _play(self, playback: Playback) -> None:
        outcome = self._frames(playback)
        if playback.wakeup:  # back to dark if the panel is off
            self._apply_brightness(self.panel_brightness())
        if outcome == "stopped":
            return  # still listed as active: played again after the restart
        if outcome in ("preempted", "streamed"):
            store.set_state(self.r, self.v, playback.job_id, State.READY)
            self.stack.append(playback)
            self._save_active()
            return
        self._end(playback.job_id, State.CANCELED if outcome == "dismissed" else State.DONE)

    def _end(self, job_id: str, state: State) -> None:
        fields = {"reason": "dismissed"} if state == State.CANCELED else {}
        for attempt in range(30):
            try:
                store.set_state(self.r, self.v, job_id, state, finished=self.clock.time(), **fields)
                self.v.delete(store.NOW_PLAYING)
                self._save_active()
                return
            except redis.RedisError as e:
                log.warning("cannot record %s of %s yet (%s)", state, job_id, e)
                self._pause(min(5, 0.1 * 2**attempt))

    def _drop_dismissed_stacked(self) -> None:
        for playback in [p for p in self.stack if p.job_id in self.dismissed]:
            self.stack.remove(playback)
            self.dismissed.discard(playback.job_id)
            self._end(playback.job_id, State.CANCELED)

    # -- commands --------------------------------------------------------------------------------

    def _get(self, timeout: float) -> Command | None:
        return self.pending.popleft() if self.pending else self.clock.get(self.commands, timeout)

    def _wait_until(self, deadline: float, playback: Playback) -> str:
        """Wait for the next frame's time; or 'stopped', 'dismissed', 'preempted' if a command says so."""
        while (left := deadline - self.clock.monotonic()) > 0:
            command = self._get(left)
            if command is not None and (outcome := self._handle(command, playback)):
                return outcome
        return "done"

    def _idle(self, seconds: float) -> None:
        """Wait with nothing to play, until a command (new work, a new idle screen...) or `seconds`."""
        command = self._get(seconds)
        if command is not None:
            self._handle(command, None)

    def _handle(self, command: Command, playback: Playback | None) -> str | None:
        match command:
            case Stop():
                self.stopping = True
                return "stopped"
            case Dismiss(job_id) if playback is not None and job_id == playback.job_id:
                return "dismissed"
            case Dismiss(job_id):
                self.dismissed.add(job_id)
            case NewWork(rank) if playback is not None and rank < playback.rank and self._outranked(playback):
                return "preempted"
            case Brightness(value):
                self._apply_brightness(value)
                self._redraw(playback)  # the library applies brightness when pixels are set
            case Indicators(lit):
                self.indicators = lit
                self._redraw(playback)
            case Idle(frame):
                self.idle_frame = frame
            case Apps(entries, _, _, True) if self.rotation.same_versions(entries):
                if self.rotation.refresh(entries) and playback is not None and playback.app:
                    self._prepare(playback)
                    self._show(playback)
            case Apps(entries, at_once, pinned, _):
                if self.rotation.update(entries, at_once, pinned) and playback is not None and playback.app:
                    return "replaced"
            case Transition():
                self.transition = command
            case Streamed():
                self.live, self.live_until = command, self.clock.monotonic() + self.config.inputs.fallback_s
                if playback is not None and playback.rank > self.live_rank:
                    return "streamed"
            case Skip(step, to) if self.rotation:
                self.rotation.advance(step, to)
                if playback is not None and playback.app:
                    return "skipped"
        return None

    def _redraw(self, playback: Playback | None) -> None:
        """The frames again, as they are set now: the one on the panel at once."""
        if playback is not None:
            self._prepare(playback)
            self._show(playback)
        else:
            self.shown = None

    def _outranked(self, playback: Playback) -> bool:
        """A more urgent job still waits (the news may be stale: the loop may have taken it already)."""
        try:
            top = store.top_rank(self.r)
        except redis.RedisError:
            return True  # resumed where it stopped once Redis is back: nothing lost
        return top is not None and top < playback.rank

    def _pause(self, seconds: float) -> None:
        """Sleep through a Redis outage; a Stop ends it early, other commands wait their turn."""
        deadline = self.clock.monotonic() + seconds
        while not self.stopping and (left := deadline - self.clock.monotonic()) > 0:
            command = self.clock.get(self.commands, left)
            if isinstance(command, Stop):
                self.stopping = True
            elif command is not None:
                self.pending.append(command)

    # -- canvases --------------------------------------------------------------------------------

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
                self._fill(canvas, frame)

    def _show(self, playback: Playback) -> None:
        frame = playback.frames[playback.index]
        if len(playback.canvases) == len(playback.frames):
            canvas = playback.canvases[playback.index]
        else:  # a long stream: fill a ring of canvases just in time
            canvas = playback.canvases[playback.index % len(playback.canvases)]
            self._fill(canvas, frame)
        if canvas is not self.front:
            self.backend.swap(canvas)
            self.front = canvas
        self.shown = frame
        self.on_screen = _identity(playback)
        self.showing = Showing(playback.job_id, frame, self.rotation.showing())

    def _show_between(self, frame: bytes, playback: Playback | None) -> None:
        """A transition's frame or a live input's (playback None), on one of two canvases of its own (the
        playback's are filled already)."""
        if not self.scratch:
            self.scratch = [self.backend.canvas(), self.backend.canvas()]
        canvas = self.scratch[0] if self.scratch[0] is not self.front else self.scratch[1]
        self._fill(canvas, frame)
        self.backend.swap(canvas)
        self.front = canvas
        self.shown = frame
        live = self.live.source if playback is None else None
        self.showing = Showing(playback and playback.job_id, frame, self.rotation.showing(), live)

    def _fill(self, canvas, frame: bytes) -> None:
        panel = self.config.panel
        self.backend.fill(canvas, indicators.draw(frame, self.indicators, panel.width, panel.height))

    def _show_still(self, frame: bytes) -> None:
        if frame is not self.shown:
            canvas = self._canvases(1)[0]
            self._fill(canvas, frame)
            self.backend.swap(canvas)
            self.front = canvas
            self.shown = frame
        self.on_screen = None
        self.showing = Showing(None, frame, self.rotation.showing())

    def _apply_brightness(self, value: int) -> None:
        self.backend.brightness = value

    def panel_brightness(self) -> int:
        """What the panel should have now: 0 while switched off, else what night mode says."""
        return self._awake_brightness() if self._powered() else 0

    def _powered(self) -> bool:
        try:
            return store.powered(self.r)
        except redis.RedisError:
            return True

    def _awake_brightness(self) -> int:
        """What night mode says, whether the panel is switched on or not (a wakeup job lights it so)."""
        try:
            settings = store.brightness_settings(self.r)
            return schedule.now_brightness(settings, self.config.panel.brightness, self.config.location.place)
        except redis.RedisError:
            return self.config.panel.brightness

    # -- state shared with the rest of the appliance ---------------------------------------------

    def _save_active(self, current: Playback | None = None) -> None:
        active = [(p.job_id, p.priority) for p in [*self.stack, current] if p is not None]
        self.r.set(store.ACTIVE, json.dumps(active))

    def _recover(self) -> None:
        """Jobs this process was playing when it died go back to the head of the queue."""
        while not self.stopping:
            try:
                for job_id, priority in store.get_json(self.r, store.ACTIVE) or []:
                    store.requeue_front(self.r, self.v, job_id, priority)
                self.r.delete(store.ACTIVE)
                return
            except redis.RedisError as e:
                log.warning("redis unavailable at start (%s); retrying", e)
                self._pause(1)


def _identity(playback: Playback) -> tuple[str | None, str | None]:
    """What a transition leads from and to: a job, or an app of the rotation."""
    return playback.job_id, playback.app
