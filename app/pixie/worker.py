"""`pixie-worker [INSTANCE] [rq worker options]`: a stock `rq worker` with pixie's settings.

It runs rq's own command line (`rq worker …`) in this process, after
importing pixie's job functions, so a job never pays for those imports.
The Redis URL (with its password) travels in the environment as
RQ_REDIS_URL, which rq reads for `--url`: it never shows in `ps`.
"""

import os
import secrets
import socket
import sys
import threading
import time

import redis
from rq import worker_registration
from rq.defaults import DEFAULT_LOGGING_DATE_FORMAT, DEFAULT_LOGGING_FORMAT
from rq.group import Group
from rq.job import JobStatus
from rq.utils import missing_keys, now
from rq.worker import SimpleWorker

from . import config as configuration
from . import jobs, recovery, store
from .scheduler import Scheduler
from .vocabulary import State

QUEUES = ("high", "default", "low")
FORGET_S = 3600  # a worker silent this long died without a word: its beat is dropped


class Worker(SimpleWorker):
    """rq's SimpleWorker (no fork per job) whose maintenance also recovers
    jobs lost between a queue and a worker (see recovery.py), and whose
    `--with-scheduler` runs pixie's scheduler (see scheduler.py).

    Idle, it writes nothing to the durable Redis (each write is an fsync on
    the SD card): it says it is alive in the volatile Redis, renews rq's
    record of it only when that would expire (once a `--worker-ttl`), and
    lets rq's registry maintenance, which takes a lock (a write) even with
    nothing to clean, run only when a read shows it has work.

    Beside rq's loop, a thread draws again the apps whose live values changed
    (store.LIVE_RENDERS, in the volatile Redis: a job per value in the durable
    one would reach the card), one render at a time with rq's jobs.
    """

    LIVE_WAIT_S = 1  # how soon the live thread sees a stop

    def bootstrap(self, *args, **kwargs):
        super().bootstrap(*args, **kwargs)
        self.rendering = threading.Lock()  # a render at a time: a font's FreeType face is not thread-safe
        threading.Thread(target=self.draw_live, name="live", daemon=True).start()

    def execute_job(self, job, queue):
        with self.rendering:
            return super().execute_job(job, queue)

    def draw_live(self) -> None:
        while not self._stop_requested:
            try:
                name = store.take_live_render(self.volatile, self.LIVE_WAIT_S)
                if name is not None:
                    with self.rendering:
                        outcome = jobs.draw_app(self.connection, name)
                    self.log.debug("worker %s: live values of app %s: %s", self.name, name, outcome)
            except redis.RedisError as e:
                self.log.warning("worker %s: live values: redis unavailable (%s)", self.name, e)
                time.sleep(self.LIVE_WAIT_S)
            except Exception:  # a bug in one render must not end the others
                self.log.exception("worker %s: live values: render failed", self.name)

    @property
    def dequeue_timeout(self) -> int:
        # Woken each maintenance interval, not each --worker-ttl: the sweeps and beats keep time.
        return min(self.maintenance_interval, super().dequeue_timeout)

    @property
    def volatile(self):
        return jobs.volatile(self.connection)

    def heartbeat(self, timeout=None, pipeline=None):
        """rq's heartbeat when rq's record would expire before the next one (or rq asks for a
        given TTL, as it does as a job starts); and, always, a beat in the volatile Redis."""
        if timeout is not None or pipeline is not None or self.connection.ttl(self.key) < self.dequeue_timeout + 60:
            super().heartbeat(timeout, pipeline)
        self.beat()

    def beat(self) -> None:
        try:
            store.worker_beat(self.volatile, self.name, forget_s=FORGET_S)
        except redis.RedisError as e:  # the volatile Redis is away: jobs still render
            self.log.warning("worker %s: no beat in the volatile Redis: %s", self.name, e)

    def register_death(self):
        super().register_death()
        try:
            store.worker_gone(self.volatile, self.name)
        except redis.RedisError:
            pass  # then it drops out of the alive ones after silent_max_s

    def clean_registries(self):
        if any(maintenance_due(q) for q in self.queues):
            super().clean_registries()
        else:
            self.last_cleaned_at = now()
        for job_id in recovery.sweep(self.connection, grace_s=self.maintenance_interval):
            self.log.warning("job %s was lost between its queue and a worker: recovered", job_id)

    def clean_group_registries(self):
        if self.connection.exists(Group.REDIS_GROUP_KEY):  # pixie makes no groups: only a lock to take
            super().clean_group_registries()

    def handle_job_failure(self, job, queue, started_job_registry=None, exc_string="", execution=None):
        """rq's, then the job's record says failed and an event says so, as the display's own failures do
        (render_app's have no job record); a job rq retries is queued again, where recovery watches it (a
        worker or Redis dying as it is taken again would otherwise leave it in no queue for good)."""
        super().handle_job_failure(job, queue, started_job_registry, exc_string, execution)
        if not self.connection.exists(store.record_key(job.id)):
            return
        if job.get_status(refresh=False) in (JobStatus.QUEUED, JobStatus.SCHEDULED):
            store.set_state(self.connection, self.volatile, job.id, State.QUEUED)
        else:  # in the record too: a long stream's head may be on the panel, waiting for the rest (frames.Head)
            lines = exc_string.strip().splitlines()
            store.set_state(self.connection, self.volatile, job.id, State.FAILED, reason=lines[-1] if lines else None)

    def _start_scheduler(
        self,
        burst=False,
        logging_level="INFO",
        date_format=DEFAULT_LOGGING_DATE_FORMAT,
        log_format=DEFAULT_LOGGING_FORMAT,
    ):
        """rq 3.0's own start, with pixie's scheduler class (rq has no option for it)."""
        if burst:  # one pass and gone: rq's own does that
            return super()._start_scheduler(burst, logging_level, date_format, log_format)
        self.scheduler = Scheduler(
            self.queues,
            connection=self.connection,
            logging_level=logging_level if logging_level is not None else self.log.level,
            date_format=date_format,
            log_format=log_format,
            serializer=self.serializer,
        )
        self.scheduler.acquire_locks()
        if self.scheduler.acquired_locks:
            self.scheduler.start()
        return None

    def stop_scheduler(self):
        """rq's kills a forked process; pixie's scheduler is a thread (scheduler.py)."""
        self.scheduler.join()


def maintenance_due(queue) -> bool:
    """Whether rq's registry maintenance of `queue` has anything to do, asked with reads only:
    expired entries in its registries, jobs waiting to be enqueued or stuck between queues, dead
    workers in its worker set."""
    r, now_s = queue.connection, time.time()
    expiring = (queue.started_job_registry, queue.finished_job_registry, queue.failed_job_registry)
    return bool(
        any(r.zcount(registry.key, 0, now_s) for registry in expiring)
        or r.zcard(queue.ready_job_registry.key)
        or r.llen(queue.intermediate_queue_key)
        or missing_keys(r, list(worker_registration.get_keys(queue)))
    )


def command(config: configuration.Config, instance: str, extra: list[str]) -> list[str]:
    """The `rq` command line, without the program name."""
    # A random suffix: a fixed name is refused for minutes after a power cut.
    name = f"{socket.gethostname()}.w{instance}.{secrets.token_hex(3)}"
    w = config.worker
    return [
        "worker",
        "--serializer",
        "json",
        "--name",
        name,
        "--worker-class",
        w.worker_class,
        "--max-jobs",
        str(w.max_jobs),
        "--worker-ttl",
        str(w.ttl_s),
        "--maintenance-interval",
        str(w.maintenance_interval_s),
        "--job-monitoring-interval",
        str(w.job_monitoring_interval_s),
        *extra,
        *QUEUES,
    ]


def main() -> None:
    args = sys.argv[1:]
    instance = args.pop(0) if args and not args[0].startswith("-") else "1"
    config = configuration.load()
    os.environ.setdefault("RQ_REDIS_URL", config.redis.url)
    argv = command(config, instance, args)
    print("rq", " ".join(argv), flush=True)
    from rq.cli import main as rq

    from . import jobs
    from .render import fonts

    jobs.settings()
    fonts.face("auto", config.panel.height)  # the default font, loaded once and shared by every job
    rq(args=argv, prog_name="rq")
