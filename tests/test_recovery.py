"""Accepted jobs lost between Redis and a worker (a worker or Redis dying
right after rq's BLPOP) come back: real Redis, real workers, real web."""

from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry
from rq.serializers import JSONSerializer

from pixie import recovery, store
from pixie.scheduler import Scheduler
from pixie.worker import QUEUES
from testsupport.servers import wait_for


def with_scheduler(appliance):
    """The web, the display and worker 1 running the scheduler, once it holds its locks; the worker."""
    appliance.start_web()
    appliance.start_display()
    worker = appliance.start_worker("1", "--with-scheduler")
    wait_for(lambda: Scheduler.running(appliance.v, "default"), what="the scheduler")
    return worker


def test_a_job_popped_by_a_worker_that_died_is_played(make_appliance):
    # (an idle worker wakes, and sweeps, every 2 s instead of every 30 s)
    appliance = make_appliance(worker_maintenance_interval_s=2)
    appliance.start_web()
    appliance.start_display()
    job = appliance.submit(kind="fill", color="red", duration_s=0.1)
    # What a worker that dies right after its BLPOP leaves: the job in no queue.
    assert appliance.r.lrem("rq:queue:default", 1, job) == 1
    appliance.start_worker("1")
    assert appliance.wait_state(job, "done", "failed", timeout=60)["state"] == "done"


def test_a_timed_job_enqueued_by_its_scheduler_then_popped_by_a_worker_that_died_is_played(make_appliance):
    appliance = make_appliance(worker_maintenance_interval_s=2)
    worker = with_scheduler(appliance)
    job = appliance.submit(kind="fill", color="red", duration_s=0.1, in_s=3600)
    worker.kill()
    worker.wait(10)
    assert recovery.lost(appliance.r) == {}  # waiting for its time: not lost
    # What its scheduler enqueueing it, then a worker dying right after its BLPOP, leaves (RQ's own calls):
    ScheduledJobRegistry("default", connection=appliance.r).remove(job)
    Job.fetch(job, connection=appliance.r, serializer=JSONSerializer).set_status(JobStatus.QUEUED)
    assert recovery.lost(appliance.r) == {job: "default"}
    appliance.start_worker("1")
    assert appliance.wait_state(job, "done", "failed", timeout=60)["state"] == "done"


def test_a_worker_stopped_lets_its_schedulers_locks_go_and_the_next_one_plays_the_timed_job(make_appliance):
    """The scheduler is a thread of its worker (scheduler.py): a stop (systemd's SIGTERM) ends it with its
    locks released, so the worker started next schedules at once instead of after the locks expire."""
    appliance = make_appliance()
    worker = with_scheduler(appliance)
    job = appliance.submit(kind="fill", color="red", duration_s=0.1, in_s=5)
    worker.terminate()
    assert worker.wait(30) == 0
    assert not any(Scheduler.running(appliance.v, queue) for queue in QUEUES)
    appliance.start_worker("1", "--with-scheduler")
    assert appliance.wait_state(job, "done", "failed", timeout=60)["state"] == "done"


def test_a_job_is_recovered_only_after_two_sweeps_a_grace_apart(make_appliance):
    """A worker between its pop and the job's start must not be raced."""
    appliance = make_appliance()
    appliance.start_web()
    job = appliance.submit(kind="fill", color="red")
    r = appliance.r
    assert recovery.sweep(r, grace_s=0) == []  # in its queue: not lost
    r.lrem("rq:queue:default", 1, job)
    assert recovery.lost(r) == {job: "default"}
    assert recovery.sweep(r, grace_s=3600) == []  # first seen now
    assert recovery.sweep(r, grace_s=3600) == []  # not long enough
    assert r.llen("rq:queue:default") == 0
    assert recovery.sweep(r, grace_s=0) == [job]
    assert r.lrange("rq:queue:default", 0, -1) == [job.encode()]
    assert recovery.sweep(r, grace_s=0) == [], r.hgetall(recovery.SUSPECTS)
    assert not r.exists(recovery.SUSPECTS), r.hgetall(recovery.SUSPECTS)


def test_a_lost_job_is_found_however_many_jobs_came_after_it(make_appliance):
    """The recent-jobs list keeps 500 ids; jobs waiting for a worker are
    watched apart from it, until a worker has them."""
    # (an idle worker wakes, and sweeps, every 2 s instead of every 30 s)
    appliance = make_appliance(worker_maintenance_interval_s=2)
    appliance.start_web()
    appliance.start_display()
    job = appliance.submit(kind="fill", color="red", duration_s=0.05)
    r = appliance.r
    r.delete(store.JOBS)  # as if 500 jobs had arrived since
    r.lrem("rq:queue:default", 1, job)
    assert recovery.lost(r) == {job: "default"}
    appliance.start_worker("1")
    assert appliance.wait_state(job, "done", "failed", timeout=60)["state"] == "done"
    assert not r.sismember(store.QUEUED, job)


def test_a_job_the_display_took_but_never_started_is_played(make_appliance):
    """What a display (or Redis) dying between taking a rendered job and
    starting it leaves: the job off the ready queue, claimed."""
    appliance = make_appliance()
    appliance.start_web()
    appliance.start_worker("1")
    job = appliance.submit(kind="fill", color="red", duration_s=0.1)
    appliance.wait_state(job, "ready")
    assert store.pop_ready(appliance.r) == job
    appliance.start_display()
    assert appliance.wait_state(job, "done", "failed", timeout=30)["state"] == "done"
    assert not appliance.r.exists(store.CLAIMED)
