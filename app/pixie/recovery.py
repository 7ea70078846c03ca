"""Accepted jobs that fell between Redis and a worker, put back on their queue.

A worker serving several queues (high default low) takes a job with a plain
BLPOP: rq's intermediate queue only guards single-queue workers.  If the
worker, or Redis, dies between the pop and marking the job started, the job
is in no queue and no registry and its record says `queued` for ever.

`sweep` finds such jobs among those the API accepted and no worker started
(store.QUEUED), timed ones too once their scheduler has enqueued them.  A
job must look lost on two sweeps at least `grace_s` apart before anything
is done, so a worker that is just between its pop and its start is never
raced.  Then the job goes back to the front of its queue.
"""

import time

import redis

from . import store
from .queues import Queues
from .vocabulary import State

SUSPECTS = store.LOST
WAITING = (State.QUEUED, State.SCHEDULED)  # no worker has started them


def lost(r: redis.Redis) -> dict[str, str]:
    """Queued jobs that are in no rq queue: job id -> the rq queue they belong in."""
    ids = [job_id.decode() for job_id in r.smembers(store.QUEUED)]
    waiting = [job_id for job_id, state in zip(ids, store.states(r, ids), strict=True) if state in WAITING]
    # Expired, or moved on outside set_state: nothing to watch.
    if gone := set(ids) - set(waiting):
        r.srem(store.QUEUED, *gone)
    return Queues(r).stranded(waiting)  # a timed job still in RQ's scheduled registry is not


def sweep(r: redis.Redis, grace_s: float) -> list[str]:
    """Recover the jobs lost for at least `grace_s`; returns their ids."""
    now = time.time()
    missing = lost(r)
    seen = {k.decode(): float(v) for k, v in r.hgetall(SUSPECTS).items()}
    if stale := [job_id for job_id in seen if job_id not in missing]:
        r.hdel(SUSPECTS, *stale)
    if new := {job_id: now for job_id in missing if job_id not in seen}:
        r.hset(SUSPECTS, mapping=new)
    recovered = []
    queues = Queues(r)
    for job_id, origin in missing.items():
        # HDEL decides which of several sweeping workers acts on a job.
        if job_id in seen and now - seen[job_id] >= grace_s and r.hdel(SUSPECTS, job_id):
            queues.push_front(job_id, origin)
            recovered.append(job_id)
    return recovered
