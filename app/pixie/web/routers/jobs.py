"""Display jobs: submit, follow, cancel, requeue, list; and the original appliance's `/pixie/queue`."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from ... import store
from ...service.jobs import Accepted, JobStatus
from ...vocabulary import STATES, Kind
from ..bodies import content_type, job_request
from ..deps import Config, Service
from ..openapi import MULTIPART_JOB
from ..problems import RESPONSES, HTTPProblem

DEMO_RANGE = (1, 999)
router = APIRouter()


class JobList(BaseModel):
    jobs: list[JobStatus] = Field(description="newest first")


@router.post("/api/v1/jobs", status_code=202, response_model=Accepted, responses=RESPONSES,
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": {"$ref": "#/components/schemas/JobSpec"}},
                 "multipart/form-data": {"schema": MULTIPART_JOB},
                 "image/png": {"schema": {"type": "string", "format": "binary"}},
                 "image/gif": {"schema": {"type": "string", "format": "binary"}},
             }}})  # fmt: skip
async def submit(request: Request, config: Config, service: Service):
    """Queue a display job: JSON (`kind` + its fields), a multipart upload
    (`file` + fields) or a raw image body (fields as query parameters)."""
    strict = content_type(request) == "application/json"
    data, media = await job_request(request, config.web.max_body_bytes)
    return await run_in_threadpool(service.jobs.submit, data, media, strict)


@router.api_route("/pixie/queue", methods=["GET", "POST"], status_code=202, response_model=Accepted,
                  responses=RESPONSES)  # fmt: skip
def queue_demo(
    service: Service,
    n: Annotated[str | None, Query(description=f"count down from n, {DEMO_RANGE[0]}..{DEMO_RANGE[1]}")] = None,
):
    """The original appliance's endpoint: queue the built-in countdown demo."""
    if n is None or not n.strip().isdigit() or not DEMO_RANGE[0] <= int(n) <= DEMO_RANGE[1]:
        raise HTTPProblem(400, f"n must be an integer from {DEMO_RANGE[0]} to {DEMO_RANGE[1]}, got {n!r}")
    return service.jobs.submit({"kind": Kind.DEMO, "n": int(n)})


@router.get("/api/v1/jobs/{job_id}", response_model=JobStatus, responses=RESPONSES)
def get_job(job_id: str, service: Service):
    return service.jobs.status(job_id)


@router.delete("/api/v1/jobs/{job_id}", response_model=JobStatus, responses=RESPONSES)
def delete_job(job_id: str, service: Service):
    """Cancel a queued job or dismiss a playing one."""
    return service.jobs.cancel(job_id)


@router.get("/api/v1/jobs", response_model=JobList)
def list_jobs(
    service: Service,
    limit: Annotated[int, Query(ge=1, le=store.JOBS_MAX, description="at most this many")] = 50,
    state: Annotated[Literal[STATES] | None, Query(description="only jobs in this state")] = None,
):
    """Recent jobs (the last day, at most 500) with their states, newest first."""
    return JobList(jobs=service.jobs.recent(limit, state))


@router.post("/api/v1/jobs/{job_id}/requeue", response_model=JobStatus, responses=RESPONSES)
def requeue_job(job_id: str, service: Service):
    """Send a failed job round again: rendered afresh, then played."""
    return service.jobs.requeue(job_id)
