"""RQ's scheduler, for timed jobs (`at`, `in_s`), without its once-a-second poll.

Stock, it renews its locks and looks for due jobs every second: each renewal
is a write to the durable Redis, an fsync on the SD card (61 a minute,
measured). This one renews its locks once a minute (they live a minute
longer) and otherwise sleeps until the next timed job is due, or until the
job service says a new one was accepted (a wake-up through the volatile
Redis, store.wake_scheduler). Its bookkeeping (its record, the per-queue
locks) is in the volatile Redis: a lock only says who enqueues, and is
taken again within a minute if that Redis restarts. What it does when a
job is due is RQ's own (`enqueue_scheduled_jobs`), on the durable Redis.

It runs in a thread of its worker, not in a process RQ forks: the fork's
copy-on-write pages came to ~9 MB of PSS (measured after 1,000 jobs) for a
loop that mostly waits. The worker's own signal handlers stop it
(Worker.stop_scheduler).
"""

import threading
import time
from datetime import UTC, datetime

import redis
from rq.scheduler import RQScheduler, run

from . import config as configuration
from . import store

RENEW_S = 60  # how often the locks are renewed when nothing is due
# A stop (SIGTERM) is noticed within this; and under redis-py's 5 s socket timeout, which a longer
# BLPOP would hit.
WAIT_SLICE_S = 2


class Scheduler(RQScheduler):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, interval=RENEW_S, **kwargs)  # RQ's locks live `interval` + 60 s
        self._volatile = None
        self._on_jobs = False  # RQ's own enqueueing runs: the durable Redis

    @property
    def connection(self):
        """The volatile Redis for the scheduler's own keys, the durable one for the jobs."""
        if self._on_jobs:
            return super().connection
        if self._volatile is None:
            self._volatile = store.connect_volatile(configuration.load().redis)
        return self._volatile

    def start(self):
        """RQ's start, in a thread: `_process` is what RQ's worker asks `is_alive()` of, and starts again."""
        self._status = self.Status.STARTED
        self._stop_requested = False
        self._process = threading.Thread(target=run, args=(self,), name="scheduler", daemon=True)
        self._process.start()
        return self._process

    def _install_signal_handlers(self):
        """None: signals go to the main thread, the worker's (Worker.stop_scheduler)."""

    def join(self) -> None:
        """Stop it and wait until it has released its locks (within a wait's slice, or a Redis timeout)."""
        self.request_stop()
        if self._process is not None:
            self._process.join(timeout=WAIT_SLICE_S + 10)

    def acquire_locks(self, auto_start=False):
        try:
            return super().acquire_locks(auto_start)
        except redis.ConnectionError as e:  # the worker's next maintenance tries again
            self.log.warning("scheduler locks not taken: %s", e)
            return set()

    def enqueue_scheduled_jobs(self):
        self._on_jobs = True
        try:
            super().enqueue_scheduled_jobs()
        finally:
            self._on_jobs = False

    def work(self):
        self._install_signal_handlers()
        self.register_birth()
        v = self.connection
        while not self._stop_requested:
            if self.should_reacquire_locks:
                self.acquire_locks()
            self.heartbeat()
            self.enqueue_scheduled_jobs()
            deadline = time.monotonic() + min(RENEW_S, self.until_next_due())
            while not self._stop_requested and (left := deadline - time.monotonic()) > 0:
                try:
                    if store.wait_for_wake(v, min(left, WAIT_SLICE_S)):
                        break  # a new timed job: it may be due before the one we waited for
                except redis.RedisError:
                    time.sleep(min(left, WAIT_SLICE_S))  # the volatile Redis is away: due jobs still go
        self.stop()

    @classmethod
    def running(cls, v: redis.Redis, queue: str) -> bool:
        """A scheduler holds `queue`'s lock (in the volatile Redis `v`): its timed jobs will be enqueued."""
        return bool(v.exists(cls.get_locking_key(queue)))

    def until_next_due(self) -> float:
        """Seconds until the earliest timed job of this scheduler's queues is due (RENEW_S if none)."""
        soonest = RENEW_S
        for registry in self._scheduled_job_registries:  # made by enqueue_scheduled_jobs: durable
            ids = registry.get_job_ids(0, 0)
            if ids:
                due = registry.get_scheduled_time(ids[0])
                soonest = min(soonest, (due - datetime.now(UTC)).total_seconds())
        return max(0.0, soonest)
