"""Pixie's side of RQ: the one module that knows how jobs sit in RQ.

The render queues are RQ queues named after the priorities, with the JSON
serializer (producers in other projects enqueue plain data). Everything here
goes through RQ's public API; nothing else in pixie reads or writes RQ's
keys.
"""

from rq import Queue, Retry, Worker
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry
from rq.serializers import JSONSerializer

from .vocabulary import PRIORITIES, Kind, State

# The job function that renders each kind, by dotted path (see jobs.py).
FUNCTIONS = {
    Kind.TEXT: "pixie.jobs.show_text",
    Kind.IMAGE: "pixie.jobs.show_image",
    Kind.ANIMATION: "pixie.jobs.show_animation",
    Kind.FILL: "pixie.jobs.show_fill",
    Kind.CLEAR: "pixie.jobs.clear",
    Kind.PATTERN: "pixie.jobs.show_pattern",
    Kind.DEMO: "pixie.jobs.demo",
    Kind.CLOCK: "pixie.jobs.show_clock",
    Kind.COUNTDOWN: "pixie.jobs.show_countdown",
    Kind.DRAW: "pixie.jobs.show_draw",
    Kind.PROGRESS: "pixie.jobs.show_progress",
    Kind.CHART: "pixie.jobs.show_chart",
    Kind.LAYOUT: "pixie.jobs.show_layout",
}
# RQ's statuses in pixie's words; anything later than "started" is pixie's own record's business.
_STATES = {
    JobStatus.QUEUED: State.QUEUED,
    JobStatus.SCHEDULED: State.SCHEDULED,
    JobStatus.DEFERRED: State.QUEUED,
    JobStatus.STARTED: State.RENDERING,
    JobStatus.CANCELED: State.CANCELED,
    JobStatus.STOPPED: State.CANCELED,
    JobStatus.FAILED: State.FAILED,
}


class Queues:
    """The render queues of one Redis, most urgent first."""

    def __init__(self, r, job_timeout_s: int | None = None):
        self.r = r
        self.by_priority = {
            name: Queue(name, connection=r, serializer=JSONSerializer, default_timeout=job_timeout_s)
            for name in PRIORITIES
        }

    def enqueue(self, pipeline, job_id: str, priority: str, kind: str, kwargs: dict, ttl_s: int, at=None) -> None:
        """Queue a render of `kind` inside the caller's MULTI, so pixie's record and RQ's job land together;
        with `at` (a datetime), in RQ's scheduled registry until then."""
        options = {
            "kwargs": kwargs,
            "job_id": job_id,
            "description": f"{kind} job",
            # A worker that dies mid-job gets the job back once, then it fails.
            "retry": Retry(max=1),
            "failure_ttl": ttl_s,
            "result_ttl": ttl_s,
            "pipeline": pipeline,
        }
        queue = self.by_priority[priority]
        if at is None:
            queue.enqueue_call(func=FUNCTIONS[kind], **options)
        else:
            queue.enqueue_at(at, FUNCTIONS[kind], **options)

    def render_app(self, name: str, rev: int, ttl_s: int) -> None:
        """Render a rotation app's version `rev` (apps render at default priority: after the alerts)."""
        self.by_priority["default"].enqueue_call(
            func="pixie.jobs.render_app",
            kwargs={"name": name, "rev": rev},
            description=f"app {name} rev {rev}",
            failure_ttl=ttl_s,
            result_ttl=0,
        )

    def _fetch(self, job_id: str) -> Job | None:
        try:
            return Job.fetch(job_id, connection=self.r, serializer=JSONSerializer)
        except NoSuchJobError:
            return None

    def state(self, job_id: str) -> tuple[str | None, str | None] | None:
        """(state, reason) as RQ sees the job; state None once RQ is done with it; None if RQ has no such job."""
        job = self._fetch(job_id)
        if job is None:
            return None
        state = _STATES.get(job.get_status())
        if state != State.FAILED:
            return state, None
        result = job.latest_result()
        lines = (result.exc_string or "").strip().splitlines() if result else []
        return state, lines[-1] if lines else "failed in the render worker"

    def cancel(self, job_id: str) -> None:
        """Take a job no worker has started off its queue (gone, canceled or taken by a worker meanwhile:
        nothing to do; the caller's record says canceled, and a render that finishes anyway is not shown)."""
        job = self._fetch(job_id)
        if job is not None:
            try:
                job.cancel()
            # ValueError: rq 3.0's "Execution … not found in Redis", when a worker took the job since it was
            # read and ended it while cancel() listed its executions. Either way cancel() committed nothing.
            except (InvalidJobOperation, ValueError):
                pass

    def requeue(self, job_id: str) -> bool:
        """Render a job again; False if RQ no longer has it."""
        job = self._fetch(job_id)
        if job is None:
            return False
        queue = self.by_priority[job.origin]
        try:
            if job.get_status() == JobStatus.FAILED:
                FailedJobRegistry(queue=queue).requeue(job)
            else:  # rendered, but the display failed it (its frames were evicted): render again
                queue.enqueue_job(job)
        except InvalidJobOperation:
            pass  # requeued meanwhile by someone else
        return True

    def waiting(self, count: int) -> dict[str, float]:
        """Up to `count` newest jobs of each queue that no worker has taken: id -> when enqueued."""
        ids = [job_id for q in self.by_priority.values() for job_id in q.get_job_ids(-count, count)]
        return {
            job.id: (job.enqueued_at or job.created_at).timestamp()
            for job in Job.fetch_many(ids, connection=self.r, serializer=JSONSerializer)
            if job is not None
        }

    def depth(self, priority: str) -> int:
        """Jobs of this priority no worker has taken yet: queued, and timed ones not yet due."""
        queue = self.by_priority[priority]
        return queue.count + ScheduledJobRegistry(queue=queue).get_job_count(cleanup=False)

    def counts(self) -> dict[str, dict[str, int]]:
        return {
            name: {
                "queued": q.count,
                "started": StartedJobRegistry(queue=q).count,
                "failed": FailedJobRegistry(queue=q).count,
            }
            for name, q in self.by_priority.items()
        }

    def workers(self, alive: list[str]) -> list[dict]:
        """These workers' states and jobs (RQ's worker set also lists dead ones, for up to a day)."""
        return [
            {"name": w.name, "state": w.get_state(), "job": w.get_current_job_id()}
            for w in Worker.all(connection=self.r)
            if w.name in alive
        ]

    def stranded(self, job_ids: list[str]) -> dict[str, str]:
        """Of these jobs, those RQ says are queued but that are in no queue: id -> the queue they belong in."""
        jobs = Job.fetch_many(job_ids, connection=self.r, serializer=JSONSerializer)
        return {
            job.id: job.origin
            for job in jobs
            if job is not None
            and job.get_status(refresh=False) == JobStatus.QUEUED
            and self.by_priority[job.origin].get_job_position(job.id) is None
        }

    def push_front(self, job_id: str, priority: str) -> None:
        """Put a job back at the head of its queue: the next worker takes it."""
        self.by_priority[priority].push_job_id(job_id, at_front=True)
