"""Jobs through the service in-process, with no HTTP in between: real Redis, real RQ
queues, no worker (what it queues stays queued). Every front door gets exactly these rules."""

import base64

import pytest
from rq import Queue
from rq.executions import Execution
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from media import animated, png_bomb, still
from pixie import errors, recovery, store
from pixie.queues import Queues
from pixie.vocabulary import State
from pixie.worker import Worker


def test_a_job_is_queued_with_its_record_and_its_rq_job(service):
    accepted = service.jobs.submit({"kind": "text", "text": "hi", "priority": "high"})
    assert (accepted.state, accepted.url) == ("queued", f"/api/v1/jobs/{accepted.id}")
    status = service.jobs.status(accepted.id)
    assert (status.state, status.kind, status.priority) == ("queued", "text", "high")
    assert Queues(service.r).by_priority["high"].get_job_ids() == [accepted.id]


@pytest.mark.parametrize(
    "data,media,kind,message",
    [
        ({"kind": "text", "text": "hi", "color": "nope"}, None, errors.Invalid, "color: "),
        ({"kind": "text"}, None, errors.Invalid, "text: Field required"),
        ({"kind": "hologram"}, None, errors.Invalid, "hologram"),
        ({"kind": "image"}, None, errors.Invalid, "needs a file"),
        ({"kind": "text", "text": "hi"}, still(), errors.Invalid, "takes no file"),
        ({"kind": "image", "data_b64": "###"}, None, errors.Invalid, "data_b64 is not valid base64"),
        ({}, b"not an image", errors.Unsupported, "not an image in a supported format"),
        ({}, png_bomb(), errors.TooLarge, "pixels"),
        ({"kind": "fill", "color": "red", "duration_s": 1, "repeat": 2}, None, errors.Invalid, "not both"),
    ],
)
def test_bad_jobs_are_refused_with_a_reason_and_nothing_is_queued(service, data, media, kind, message):
    with pytest.raises(kind, match=message):
        service.jobs.submit(data, media)
    assert Queues(service.r).counts()["default"]["queued"] == 0
    assert store.recent(service.r) == []


def test_a_file_decides_between_image_and_animation(service):
    image = service.jobs.submit({}, still())
    gif = service.jobs.submit({"data_b64": base64.b64encode(animated()).decode()})
    assert (service.jobs.status(image.id).kind, service.jobs.status(gif.id).kind) == ("image", "animation")


def test_cancel_a_waiting_job_then_it_has_ended(service):
    job = service.jobs.submit({"kind": "clear"})
    canceled = service.jobs.cancel(job.id)
    assert (canceled.state, canceled.reason) == ("canceled", None)  # it never showed: nothing more to say
    assert Queues(service.r).by_priority["default"].get_job_ids() == []
    with pytest.raises(errors.Conflict, match="already ended"):
        service.jobs.cancel(job.id)
    with pytest.raises(errors.Conflict, match="only a failed job"):
        service.jobs.requeue(job.id)


def test_a_job_ended_twice_keeps_the_first_end_and_tells_it_once(service):
    """A dismissal is ended by the service and by the display, in either order: one record, one event."""
    job = service.jobs.submit({"kind": "clear"}).id
    last = store.last_event_id(service.v)
    assert store.set_state(service.r, service.v, job, State.CANCELED, reason="dismissed")
    assert not store.set_state(service.r, service.v, job, State.CANCELED, reason="replaced by another")
    ends = [data for _, kind, data in store.events_after(service.v, last, 10) if kind == "job"]
    assert ends == [{"id": job, "state": "canceled", "reason": "dismissed"}]
    assert service.jobs.status(job).reason == "dismissed"


def test_cancel_meeting_a_worker_that_takes_and_ends_the_job_is_no_error(service):
    """The instant a DELETE can meet under load: RQ says the job started and its worker has just ended the
    execution (its record gone, its id still listed). rq 3.0's cancel() raised ValueError there: a 500,
    after which uvicorn closed the connection and the client's next request on it was reset."""
    accepted = service.jobs.submit({"kind": "clear"})
    job = Job.fetch(accepted.id, connection=service.r, serializer=JSONSerializer)
    with service.r.pipeline() as p:
        execution = Execution.create(job, ttl=60, pipeline=p)
        job.set_status(JobStatus.STARTED, pipeline=p)
        p.execute()
    service.r.delete(execution.key)
    Queues(service.r).cancel(accepted.id)
    assert job.get_status() == JobStatus.STARTED  # the worker has it: nothing to take off a queue


def test_a_named_job_replaces_the_one_before_it(service):
    first = service.jobs.submit({"kind": "text", "text": "1", "name": "score"})
    second = service.jobs.submit({"kind": "text", "text": "2", "name": "score"})
    assert service.jobs.status(first.id).reason == f"replaced by {second.id}"
    assert service.jobs.status(second.id).state == "queued"


def test_unknown_and_malformed_ids_are_not_found(service):
    for job_id in ("0" * 32, "../etc", "x" * 200):
        with pytest.raises(errors.NotFound):
            service.jobs.status(job_id)


def test_recent_jobs_newest_first_filtered_by_state(service):
    ids = [service.jobs.submit({"kind": "fill", "color": c}).id for c in ("red", "green", "blue")]
    service.jobs.cancel(ids[1])
    assert [j.id for j in service.jobs.recent(10)] == ids[::-1]
    assert [j.id for j in service.jobs.recent(10, "canceled")] == [ids[1]]
    assert [j.id for j in service.jobs.recent(1)] == [ids[2]]


def test_a_job_rq_retries_is_queued_again_where_recovery_watches_it(service):
    """A render that fails is retried once by rq; had its worker (or Redis) died as it took it again, the
    job was in no queue and no longer in the set recovery sweeps: lost for good."""
    accepted = service.jobs.submit({"kind": "clear"})
    queue = Queue("default", connection=service.r, serializer=JSONSerializer)
    assert queue.pop_job_id() == accepted.id  # a worker takes it and starts rendering
    store.set_state(service.r, service.v, accepted.id, State.RENDERING)
    job = Job.fetch(accepted.id, connection=service.r, serializer=JSONSerializer)
    job.set_status(JobStatus.STARTED)
    worker = Worker([queue], connection=service.r, serializer=JSONSerializer)
    worker.handle_job_failure(job, queue, exc_string="Traceback ...\nValueError: boom")
    assert service.jobs.status(accepted.id).state == "queued"
    assert queue.pop_job_id() == accepted.id  # taken again, and its worker dies before starting it
    assert recovery.lost(service.r) == {accepted.id: "default"}
