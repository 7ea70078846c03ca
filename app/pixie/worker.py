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

from rq.defaults import DEFAULT_LOGGING_DATE_FORMAT, DEFAULT_LOGGING_FORMAT
from rq.worker import SimpleWorker

from . import config as configuration
from . import jobs, recovery, store
from .scheduler import Scheduler
from .vocabulary import State

QUEUES = ("high", "default", "low")


class Worker(SimpleWorker):
    """rq's SimpleWorker (no fork per job) whose maintenance also recovers
    jobs lost between a queue and a worker (see recovery.py), and whose
    `--with-scheduler` runs pixie's scheduler (see scheduler.py)."""

    def clean_registries(self):
        super().clean_registries()
        for job_id in recovery.sweep(self.connection, grace_s=self.maintenance_interval):
            self.log.warning("job %s was lost between its queue and a worker: recovered", job_id)

    def handle_job_failure(self, job, queue, started_job_registry=None, exc_string="", execution=None):
        """rq's, then the event the display's own failures send too (render_app's have no job record)."""
        super().handle_job_failure(job, queue, started_job_registry, exc_string, execution)
        if self.connection.exists(store.record_key(job.id)):
            lines = exc_string.strip().splitlines()
            store.job_event(jobs.volatile(self.connection), job.id, State.FAILED, lines[-1] if lines else None)

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

    from . import jobs, render

    jobs.settings()
    render.font("sans", None, config.panel.height)  # FreeType's first load costs ~10 ms
    rq(args=argv, prog_name="rq")
