"""The job service: what every front door of the appliance does, in one place.

Submit a job (a spec, optionally with its file), follow it, cancel or
dismiss it, send a failed one round again, list recent jobs, set the
brightness, say what plays and whether the appliance is healthy. It takes a
Redis connection and the config, knows nothing of HTTP or MQTT, and refuses
with the domain errors of `errors.py`, which each front door maps to its own
protocol.
"""

import base64
import functools
import hashlib
import importlib.metadata
import json
import logging
import math
import re
import time
import uuid
from datetime import datetime, timedelta
from datetime import time as dt_time

import redis
from pydantic import BaseModel, Field

from . import apps, errors, schedule, store
from . import config as configuration
from . import spec as specs
from .queues import Queues
from .render.media import open_media
from .scheduler import Scheduler
from .spec import BRIGHTNESS
from .vocabulary import MEDIA_KINDS, ON_DISPLAY, TERMINAL, Kind, State

log = logging.getLogger("pixie.service")
# What RQ accepts as a job id (anything else makes Job.fetch raise ValueError).
JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
APP_NAME = re.compile(specs.NAME_PATTERN)
INDICATORS = (1, 2, 3)  # top right, right, bottom right
LATE_S = 60  # a timed job's `at` this far in the past still plays, at once (clocks differ a little)


class Accepted(BaseModel):
    id: str
    url: str
    state: str


class JobStatus(BaseModel):
    id: str
    state: str = Field(description="scheduled, queued, rendering, ready, playing, done, failed or canceled")
    kind: str | None = None
    priority: str | None = None
    name: str | None = None
    reason: str | None = Field(None, description="why it failed or was canceled")
    frames: int | None = None
    created: float | None = None
    at: float | None = Field(None, description="a timed job: when it is due")
    started: float | None = None
    finished: float | None = None


class NightModeState(BaseModel):
    timezone: str = Field(description="the device's time zone, which the windows' times are in")
    windows: list[specs.NightWindow]
    brightness: int = Field(description="the brightness the panel has now")
    window_open: bool = Field(description="a window decides the brightness now")
    next_change: datetime | None = Field(None, description="when a window opens or closes next")


class PanelState(BaseModel):
    """What the panel does now, in one value (MQTT's retained `state`)."""

    power: bool = Field(description="false: the panel is dark (jobs and apps play on, unseen)")
    brightness: int = Field(description="the brightness it has when on")
    now_playing: str = Field(description="a job's kind and name, the app's name, or idle")
    job: str | None = Field(None, description="the job on the panel")
    app: str | None = Field(None, description="the rotation's app on the panel (or under the job)")
    pinned: str | None = None
    apps: list[str] = Field(description="the apps, in rotation order")
    waiting: int = Field(description="accepted jobs not yet on the panel (timed ones too)")
    health: str = Field(description="ok, or what is wrong")


class AppState(BaseModel):
    name: str
    content: dict = Field(description="what it shows (an image's or animation's file is not repeated here)")
    dwell_s: float | None
    enabled: bool
    position: int
    schedule: list[specs.TimeWindow] = Field(description="the windows it shows in; none: always")
    on_schedule: bool = Field(description="one of its windows is open now (always, without a schedule)")
    lifetime_s: float | None = None
    expires: float | None = Field(None, description="with a lifetime: when it deletes itself unless put again")
    rev: int = Field(description="its version: every change takes a higher number")
    rendered: bool = Field(description="this version's frames are ready (until then the previous ones show)")
    error: str | None = Field(None, description="why this version could not be rendered (the previous frames show)")
    changed: bool | None = Field(None, description="answering a PUT: false if the app was already so")


class Rotation(BaseModel):
    apps: list[AppState] = Field(description="in rotation order")
    showing: str | None = Field(None, description="the app on the panel now (or under a job that interrupts it)")
    next: str | None = Field(None, description="the enabled app on schedule after it")
    pinned: str | None = Field(None, description="the app held on screen until unpinned")


def _available(method):
    """Redis down is the appliance being unavailable, whichever front door asked."""

    @functools.wraps(method)
    def guarded(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except redis.RedisError as e:
            raise errors.Unavailable(f"redis is unavailable: {e}") from e

    return guarded


class JobService:
    def __init__(self, r: redis.Redis, config: configuration.Config, v: redis.Redis | None = None):
        """`r` the durable Redis, `v` the volatile one (store.py says which key lives where)."""
        self.r = r
        self.v = r if v is None else v
        self.config = config
        self.queues = Queues(r, config.worker.job_timeout_s)

    # -- jobs ------------------------------------------------------------------------------------

    @_available
    def submit(
        self, data: dict, media: bytes | None = None, strict: bool = True, command_id: str | None = None
    ) -> Accepted:
        """A job from its fields and, for an image or animation, its file (or `data_b64` in the
        fields). `strict`: types as JSON has them; form fields and query strings are lax.
        `command_id`: the sender's id for this command; sent again (a re-delivery after a
        reconnect), it is answered with the job it made the first time, for a day."""
        job_id = uuid.uuid4().hex if command_id is None else _command_job(command_id)
        if command_id is not None and self.r.exists(store.record_key(job_id)):
            return self._accepted(job_id)
        data = dict(data)
        if media is None and isinstance(data.get("data_b64"), str):
            try:
                media = base64.b64decode(data.pop("data_b64"), validate=True)
            except ValueError:  # binascii.Error, or non-ASCII characters in the string
                raise errors.Invalid("data_b64 is not valid base64") from None
        if media is not None:
            image = open_media(media, self.config.render)
            data.setdefault("kind", Kind.ANIMATION if getattr(image, "n_frames", 1) > 1 else Kind.IMAGE)
            if data["kind"] not in MEDIA_KINDS:
                raise errors.Invalid(f"a {data['kind']} job takes no file")
            data["blob"] = store.put_blob(self.r, media)
        elif data.get("kind") in MEDIA_KINDS:
            raise errors.Invalid(f"a {data['kind']} job needs a file: upload it or give data_b64")
        return self._enqueue(job_id, specs.parse(data, strict=strict))

    def _enqueue(self, job_id: str, spec) -> Accepted:
        if spec.name:
            # One atomic swap (SET ... GET): of concurrent jobs with the same name, each replaces exactly one.
            previous = self.r.set(store.name_key(spec.name), job_id, ex=store.RECORD_TTL_S, get=True)
            if previous:
                try:
                    self.cancel(previous.decode(), replaced_by=job_id)
                except (errors.NotFound, errors.Conflict):
                    pass  # it has ended (or expired) meanwhile: nothing to replace
        at = self._when(spec)
        delay_s = None if at is None else max(0.0, at.timestamp() - time.time())
        with self.r.pipeline() as p:
            p.watch(store.record_key(job_id))  # a command sent twice at once: one of them creates the job
            if p.exists(store.record_key(job_id)):
                return self._accepted(job_id)
            p.multi()  # opened explicitly, as rq expects of a caller's pipeline
            due = {"at": at.timestamp()} if at is not None else {}
            store.create(p, job_id, delay_s, kind=spec.kind, priority=spec.priority, name=spec.name, **due)
            kwargs = spec.model_dump(exclude={"kind", "priority", "name", "data_b64", "at", "in_s"}, exclude_none=True)
            self.queues.enqueue(p, job_id, spec.priority, spec.kind, kwargs, store.RECORD_TTL_S, at)
            try:
                p.execute()
            except redis.WatchError:
                return self._accepted(job_id)
        if at is not None:
            store.wake_scheduler(self.v)
        log.info("accepted %s job %s (%s)%s", spec.kind, job_id, spec.priority, f" {spec.name!r}" if spec.name else "")
        state = State.QUEUED if at is None else State.SCHEDULED
        store.job_event(self.v, job_id, state)
        return Accepted(id=job_id, url=f"/api/v1/jobs/{job_id}", state=state)

    def _accepted(self, job_id: str) -> Accepted:
        """The answer to a command sent again: the job it made the first time."""
        return Accepted(id=job_id, url=f"/api/v1/jobs/{job_id}", state=self.status(job_id).state)

    def _when(self, spec) -> datetime | None:
        """A timed job's time (`at` without an offset is the device's local time), checked; None: now."""
        if spec.at is None and spec.in_s is None:
            return None
        now = schedule.local_now()
        at = now + timedelta(seconds=spec.in_s) if spec.in_s is not None else spec.at
        if isinstance(at, dt_time):  # a time of day: its next occurrence
            at = datetime.combine(now.date(), at.replace(tzinfo=None), now.tzinfo)
            at = at if at >= now else at + timedelta(days=1)
        if at.tzinfo is None:
            at = at.replace(tzinfo=now.tzinfo)
        if not now - timedelta(seconds=LATE_S) <= at <= now + timedelta(seconds=specs.MAX_DELAY_S):
            raise errors.Invalid(f"at: {at.isoformat()} is not between now and {specs.MAX_DELAY_S // 3600} h ahead")
        # RQ's scheduled registry counts whole seconds: the next one, so the job is never early.
        at = datetime.fromtimestamp(math.ceil(at.timestamp()), at.tzinfo)
        if not Scheduler.running(self.v, spec.priority):
            raise errors.Conflict(
                "no scheduler runs for timed jobs: a worker --with-scheduler (pixie_workers_scheduler_instance)"
            )
        return at

    @_available
    def status(self, job_id: str) -> JobStatus:
        if not JOB_ID.fullmatch(job_id):
            raise errors.NotFound(f"no job {job_id}")
        record = store.get(self.r, job_id)
        state, reason = record.get("state"), record.get("reason") or None
        if state not in (*ON_DISPLAY, *TERMINAL):
            seen = self.queues.state(job_id)
            if seen is None and not record:
                raise errors.NotFound(f"no job {job_id}")
            if seen is not None:
                state, reason = seen[0] or state or State.READY, seen[1]
        return JobStatus(
            id=job_id,
            state=state,
            kind=record.get("kind") or None,
            priority=record.get("priority") or None,
            name=record.get("name") or None,
            reason=reason,
            frames=int(record["frames"]) if record.get("frames") else None,
            created=_number(record.get("created")),
            at=_number(record.get("at")),
            started=_number(record.get("started")),
            finished=_number(record.get("finished")),
        )

    @_available
    def cancel(self, job_id: str, replaced_by: str | None = None) -> JobStatus:
        """Cancel a job that waits, dismiss one that plays."""
        current = self.status(job_id)
        if current.state in TERMINAL:
            raise errors.Conflict(f"job {job_id} has already ended ({current.state})")
        if current.state in (State.QUEUED, State.SCHEDULED):
            self.queues.cancel(job_id)
        elif current.state in ON_DISPLAY and not store.unready(self.r, job_id):
            # The display has it (playing, or waiting under a preempting job).
            store.send(self.v, dismiss=job_id)
        reason = f"replaced by {replaced_by}" if replaced_by else "canceled"
        store.set_state(self.r, self.v, job_id, State.CANCELED, reason=reason, finished=time.time())
        return self.status(job_id)

    @_available
    def requeue(self, job_id: str) -> JobStatus:
        """Send a failed job round again: rendered afresh, then played."""
        current = self.status(job_id)
        if current.state != State.FAILED:
            raise errors.Conflict(f"only a failed job can be requeued; job {job_id} is {current.state}")
        # The record first: a worker that takes the job at once moves it on from queued.
        store.reset(self.r, job_id)
        if not self.queues.requeue(job_id):
            raise errors.Conflict(f"job {job_id} can no longer be requeued (its RQ job has expired)")
        store.job_event(self.v, job_id, State.QUEUED)
        return self.status(job_id)

    @_available
    def recent(self, limit: int, state: str | None = None) -> list[JobStatus]:
        """Recent jobs (the last day, at most store.JOBS_MAX) with their states, newest first:
        pixie's index, plus jobs waiting in RQ that no worker has seen yet."""
        count = store.JOBS_MAX if state else limit
        listed = dict(store.recent(self.r, count))
        for job_id, arrived in self.queues.waiting(count).items():
            listed.setdefault(job_id, arrived)
        jobs = []
        for job_id, arrived in sorted(listed.items(), key=lambda item: item[1], reverse=True):
            try:
                job = self.status(job_id)
            except errors.NotFound:  # its record and its RQ job have both expired
                store.forget(self.r, job_id)
                continue
            if state is None or job.state == state:
                jobs.append(job if job.created else job.model_copy(update={"created": arrived}))
            if len(jobs) == limit:
                break
        return jobs

    # -- the rotation's apps ---------------------------------------------------------------------

    @_available
    def apps(self) -> Rotation:
        now = time.time()
        ordered = apps.ordered(apps.current(self.r, self.v, now))
        renders = store.app_renders(self.v, [name for name, _ in ordered])
        listed = [self._app_state(name, d, renders[name], now) for name, d in ordered]
        showing = (store.get_json(self.v, store.HEARTBEAT) or {}).get("app")
        playable = [a.name for a in listed if a.enabled and a.on_schedule]
        pinned = store.pinned(self.r)
        following = playable[(playable.index(showing) + 1) % len(playable)] if showing in playable else None
        following = pinned or following or (playable[0] if playable else None)
        return Rotation(apps=listed, showing=showing, next=following, pinned=pinned)

    @_available
    def app(self, name: str) -> AppState:
        now = time.time()
        definition = apps.current(self.r, self.v, now).get(name)
        if definition is None:
            raise errors.NotFound(f"no app {name}")
        return self._app_state(name, definition, store.app_renders(self.v, [name])[name], now)

    @_available
    def put_app(self, name: str, app: specs.App) -> AppState:
        """Create or update an app; it renders off the display and swaps in at its dwell's end (or at once).
        The same app put again changes nothing (`changed` false): nothing is rendered, and nothing is
        written but a lifetime's new start."""
        if not (APP_NAME.match(name) and len(name) <= specs.MAX_NAME_CHARS):
            raise errors.Invalid(f"app name {name!r}: letters, digits and _ . : - only (1-64)")
        now = time.time()
        existing = apps.current(self.r, self.v, now)
        if name not in existing and len(existing) >= self.config.display.max_apps:
            raise errors.Invalid(f"at most {self.config.display.max_apps} apps (display.max_apps); delete one first")
        media = self._app_media(name, app.content, name in existing)
        others = {other: d for other, d in existing.items() if other != name}
        position = app.position if app.position is not None else existing.get(name, {}).get("position")
        if position is None:
            position = max((d["position"] for d in others.values()), default=-1) + 1
        definition = {
            "content": app.content.model_dump(exclude={*specs.JOB_ONLY, "data_b64", "blob"}, exclude_none=True),
            "dwell_s": app.dwell_s,
            "enabled": app.enabled,
            "position": position,
            "schedule": [w.model_dump() for w in app.schedule],
            "lifetime_s": app.lifetime_s,
        }
        stored = existing.get(name)
        if stored and all(stored.get(k) == v for k, v in definition.items()) and media == self._stored_media(name, app):
            if app.lifetime_s:
                stored = store.touch_app(self.r, name, {**stored, "updated": now})
                self._apps_changed(name)
            rendered = store.app_renders(self.v, [name])[name]
            if rendered.failed_rev >= stored["rev"]:  # it may fit now: try again (nothing to write)
                self.queues.render_app(name, stored["rev"], store.RECORD_TTL_S)
            return self._app_state(name, stored, rendered, now, changed=False)
        definition.update(now=app.now, updated=now)
        rev = store.put_app(self.r, name, definition, media, apps.make_room(others, position))
        if not app.enabled:
            store.unpin(self.r, name)
        self.queues.render_app(name, rev, store.RECORD_TTL_S)
        store.event(self.v, "apps", name=name)  # the display hears of it once it is rendered
        log.info("app %s rev %d saved", name, rev)
        return self._app_state(name, {**definition, "rev": rev}, store.AppRender(), now, changed=True)

    def _apps_changed(self, name: str) -> None:
        """The display loads the rotation again; listeners hear of it."""
        store.send(self.v, apps=name)
        store.event(self.v, "apps", name=name)

    def _app_media(self, name: str, content, exists: bool) -> bytes | None:
        """An image or animation app's file: the one sent, or (on an update that leaves it out) the one it has."""
        if not isinstance(content, specs.Media):
            return None
        if content.data_b64 is None:
            media = store.get_app_media(self.r, name) if exists else None
            if media is None:
                raise errors.Invalid(f"content.data_b64: a {content.kind} app needs its file")
            return media
        try:
            media = base64.b64decode(content.data_b64, validate=True)
        except ValueError:
            raise errors.Invalid("content.data_b64 is not valid base64") from None
        open_media(media, self.config.render)  # refused now, not by the worker later
        return media

    def _stored_media(self, name: str, app: specs.App) -> bytes | None:
        return store.get_app_media(self.r, name) if isinstance(app.content, specs.Media) else None

    @_available
    def delete_app(self, name: str) -> None:
        if not store.delete_app(self.r, self.v, name):
            raise errors.NotFound(f"no app {name}")
        self._apps_changed(name)

    @_available
    def skip(self, step: int, to: str | None = None) -> None:
        """The next (1) or previous (-1) app, or the app `to`, now; the rotation goes on from there."""
        if pinned := store.pinned(self.r):
            raise errors.Conflict(f"app {pinned} is pinned: unpin it first")
        if to is not None:
            app = self.app(to)
            if not (app.enabled and app.on_schedule):
                raise errors.Conflict(f"app {to} is not in the rotation now (disabled, or outside its schedule)")
        store.send(self.v, skip=step, **({"to": to} if to else {}))

    @_available
    def pin(self, name: str) -> Rotation:
        """Hold an app on screen (it shows now, turn after turn) until unpinned."""
        if not self.app(name).enabled:
            raise errors.Conflict(f"app {name} is disabled: enable it to pin it")
        self.r.set(store.PINNED, name)
        self._apps_changed(name)
        return self.apps()

    @_available
    def unpin(self, name: str) -> Rotation:
        if not store.unpin(self.r, name):
            raise errors.Conflict(f"app {name} is not pinned")
        self._apps_changed(name)
        return self.apps()

    @staticmethod
    def _app_state(
        name: str, definition: dict, rendered: store.AppRender, now: float, changed: bool | None = None
    ) -> AppState:
        fields = {k: definition[k] for k in ("content", "dwell_s", "enabled", "position", "rev")}
        return AppState(
            name=name,
            schedule=definition.get("schedule", []),
            on_schedule=apps.on_schedule(definition, apps.local(now)),
            lifetime_s=definition.get("lifetime_s"),
            expires=apps.expires(definition),
            rendered=rendered.rev >= definition["rev"],
            error=rendered.error if rendered.failed_rev >= definition["rev"] else None,
            changed=changed,
            **fields,
        )

    # -- the panel -------------------------------------------------------------------------------

    @_available
    def brightness(self) -> int:
        """What the panel shows now: night mode's window, a manual change, or the base brightness."""
        return schedule.now_brightness(store.brightness_settings(self.r), self.config.panel.brightness)

    @_available
    def set_brightness(self, value: int) -> int:
        """Outside night mode's windows: the new base. Inside one: held until that window closes."""
        if not BRIGHTNESS[0] <= value <= BRIGHTNESS[1]:
            raise errors.Invalid(f"brightness must be {BRIGHTNESS[0]}..{BRIGHTNESS[1]}, got {value}")
        _, windows, _ = store.brightness_settings(self.r)
        now = schedule.local_now()
        run = schedule.open_run(schedule.parse(windows), now)
        if run is None:
            self.r.set(store.BRIGHTNESS, value)
        else:
            closes = run[2].timestamp()
            self.r.set(store.MANUAL_BRIGHTNESS, json.dumps([value, now.timestamp()]), exat=int(closes) + 1)
        return self._tell_display()

    @_available
    def night_mode(self) -> NightModeState:
        settings = store.brightness_settings(self.r)
        windows = schedule.parse(settings[1])
        now = schedule.local_now()
        return NightModeState(
            timezone=schedule.zone_name(),
            windows=settings[1],
            brightness=schedule.now_brightness(settings, self.config.panel.brightness, now),
            window_open=schedule.open_run(windows, now) is not None,
            next_change=schedule.next_boundary(windows, now),
        )

    @_available
    def set_night_mode(self, night: specs.NightMode) -> NightModeState:
        windows = [w.model_dump() for w in night.windows]
        with self.r.pipeline() as p:
            p.set(store.NIGHT_MODE, json.dumps(windows))
            p.delete(store.MANUAL_BRIGHTNESS)  # it was held against the old windows
            p.execute()
        self._tell_display()
        return self.night_mode()

    @_available
    def power(self) -> bool:
        return store.powered(self.r)

    @_available
    def set_power(self, on: bool, for_s: float | None = None) -> bool:
        """Off: the panel goes dark, and everything else goes on (jobs play unseen, and are done);
        `for_s`: off for that long, then on again by itself (the key expires, the display's watcher sees it)."""
        if on:
            self.r.delete(store.POWER)
        else:
            self.r.set(store.POWER, "off", ex=math.ceil(for_s) if for_s else None)
        store.send(self.v, power=on)
        store.event(self.v, "panel", power=on)
        return on

    @_available
    def indicators(self) -> dict[str, dict]:
        """The indicators lit: number ("1".."3") -> {color, blink_ms, fade_ms}."""
        return store.indicators(self.v)

    @_available
    def set_indicator(self, number: int, color: str | None, blink_ms: int = 0, fade_ms: int = 0) -> None:
        """Light indicator `number` (a corner pixel over whatever shows), or (None) hide it. Volatile, as
        AWTRIX's are: a reboot clears them."""
        if number not in INDICATORS:
            raise errors.Invalid(f"indicator must be one of {INDICATORS}, got {number}")
        if color is None:
            self.v.hdel(store.INDICATORS, number)
        else:
            try:
                color = specs.color(color)
            except ValueError as e:
                raise errors.Invalid(f"color: {e}") from None
            lit = {"color": color, "blink_ms": blink_ms, "fade_ms": fade_ms}
            self.v.hset(store.INDICATORS, number, json.dumps(lit))
        store.send(self.v, indicators=True)
        store.event(self.v, "panel", indicator=number, color=color)

    @_available
    def restart_display(self) -> None:
        """The display process exits, and its supervisor (systemd, pixie-local) starts it again: what
        played goes back to the head of its queue."""
        store.send(self.v, restart=True)

    @_available
    def dismiss_playing(self) -> JobStatus:
        """Dismiss the job on the panel, whichever it is."""
        playing = store.get_json(self.v, store.NOW_PLAYING)
        if not playing:
            raise errors.Conflict("no job is on the panel")
        return self.cancel(playing["id"])

    @_available
    def state(self) -> PanelState:
        heartbeat = store.get_json(self.v, store.HEARTBEAT) or {}
        job_id, app = heartbeat.get("playing"), heartbeat.get("app")
        if job_id:
            record = store.get(self.r, job_id)
            now_playing = " ".join(filter(None, [record.get("kind", "a"), "job", record.get("name")]))
        else:
            now_playing = app or "idle"
        health = self.health()
        with self.r.pipeline(transaction=False) as p:
            p.scard(store.QUEUED)
            p.zcard(store.READY)
            waiting = sum(p.execute())
        return PanelState(
            power=self.power(),
            brightness=self.brightness(),
            now_playing=now_playing,
            job=job_id,
            app=app,
            pinned=store.pinned(self.r),
            apps=[name for name, _ in apps.ordered(apps.current(self.r, self.v, time.time()))],
            waiting=waiting,
            health="ok" if health["ok"] else _trouble(health),
        )

    def _tell_display(self) -> int:
        """The display applies the brightness at once (its watcher would within a second)."""
        value = self.brightness()
        store.send(self.v, brightness=value)
        store.event(self.v, "panel", brightness=value)
        return value

    @_available
    def screen(self) -> bytes | None:
        """The panel's pixels now (RGB24 rows), as the display last published them."""
        raw = self.v.get(store.SCREEN)
        panel = self.config.panel
        return raw if raw and len(raw) == panel.width * panel.height * 3 else None

    # -- the appliance ---------------------------------------------------------------------------

    @_available
    def overview(self) -> dict:
        """Per queue its counts, the render workers, what waits for the panel and what plays."""
        return {
            "queues": self.queues.counts(),
            "workers": self.queues.workers(self._workers_alive()),
            "ready": [m.decode() for m in self.r.zrange(store.READY, 0, -1)],
            "now_playing": store.get_json(self.v, store.NOW_PLAYING),
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


def _trouble(health: dict) -> str:
    """What /healthz's answer says is wrong, in a word or three."""
    if not health["redis"]:
        return "redis down"
    if not health["workers"]:
        return "no render worker"
    return "display stalled"


def _command_job(command_id: str) -> str:
    """The job id a command id stands for: the same command, the same job."""
    if not isinstance(command_id, str) or not 1 <= len(command_id) <= 128:
        raise errors.Invalid("id: a command's id must be a string of 1 to 128 characters")
    return hashlib.sha256(f"command:{command_id}".encode()).hexdigest()[:32]


def installed_version() -> str:
    try:
        return importlib.metadata.version("pixie")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _number(value: str | None) -> float | None:
    return float(value) if value else None
