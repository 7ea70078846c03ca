"""Jobs: submit one (a spec, optionally with its file), follow it, cancel or dismiss it, send a
failed one round again, list the recent ones."""

import base64
import hashlib
import json
import math
import re
import time
import uuid
from datetime import datetime, timedelta
from datetime import time as dt_time

import redis
from pydantic import BaseModel, Field

from .. import errors, schedule, store
from .. import spec as specs
from ..render.media import open_media
from ..scheduler import Scheduler
from ..vocabulary import MEDIA_KINDS, ON_DISPLAY, TERMINAL, Kind, State
from . import library
from .core import Area, available, log

# What RQ accepts as a job id (anything else makes Job.fetch raise ValueError).
JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
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
    notes: dict | None = Field(
        None,
        examples=[
            {"glyphs": {"fallback": {"unifont": "日本"}, "missing": "🙂"}, "icon": "icon 2867 could not be fetched"}
        ],
        description="what the render drew otherwise than asked: characters from a fallback font or none"
        " (glyphs), an icon it could not fetch (the job plays without it)",
    )


class Jobs(Area):
    @available
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
        library.check(self.r, self.config, spec)
        # A bound per priority, so one runaway sender cannot bury the rest (checked, then queued: concurrent
        # submissions may pass it by a few).
        cap = self.config.web.max_queued_per_priority
        if self.queues.depth(spec.priority) >= cap:
            raise errors.Busy(f"the {spec.priority} queue is full ({cap} jobs waiting, web.max_queued_per_priority)")
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
            blob = getattr(spec, "blob", None)
            store.create(p, job_id, delay_s, kind=spec.kind, priority=spec.priority, name=spec.name, blob=blob, **due)
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
        if isinstance(spec, specs.Text):  # before the event, whose state (MQTT's) carries it
            self.v.set(store.LAST_TEXT, spec.text if isinstance(spec.text, str) else "".join(p.text for p in spec.text))
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

    @available
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
            notes=json.loads(record["notes"]) if record.get("notes") else None,
        )

    @available
    def cancel(self, job_id: str, replaced_by: str | None = None) -> JobStatus:
        """Cancel a job that waits, dismiss one that plays. Its reason: what replaced it, or "dismissed"
        from the display; none for a job that never showed (its state says it all)."""
        current = self.status(job_id)
        if current.state in TERMINAL:
            raise errors.Conflict(f"job {job_id} has already ended ({current.state})")
        # The display has it (playing, or waiting under a preempting job) unless it was still ready.
        shown = current.state in ON_DISPLAY and not store.unready(self.r, job_id)
        reason = f"replaced by {replaced_by}" if replaced_by else "dismissed" if shown else None
        # Ended here first, then told: the display, ending it too, finds it ended (no second event).
        if store.set_state(self.r, self.v, job_id, State.CANCELED, reason=reason, finished=time.time()):
            if current.state in (State.QUEUED, State.SCHEDULED):
                self.queues.cancel(job_id)
            elif shown:
                store.send(self.v, dismiss=job_id)
        return self.status(job_id)

    @available
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

    @available
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

    @available
    def dismiss_playing(self) -> JobStatus:
        """Dismiss the job on the panel, whichever it is."""
        playing = store.get_json(self.v, store.NOW_PLAYING)
        if not playing:
            raise errors.Conflict("no job is on the panel")
        return self.cancel(playing["id"])


def _command_job(command_id: str) -> str:
    """The job id a command id stands for: the same command, the same job."""
    if not isinstance(command_id, str) or not 1 <= len(command_id) <= 128:
        raise errors.Invalid("id: a command's id must be a string of 1 to 128 characters")
    return hashlib.sha256(f"command:{command_id}".encode()).hexdigest()[:32]


def _number(value: str | None) -> float | None:
    return float(value) if value else None
