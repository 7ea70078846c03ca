"""The HTTP API: accepts display jobs, answers what the appliance is doing.

It validates everything before anything is queued (a bad request gets a 4xx
with a JSON `error` and changes nothing), stores uploads in Redis and
enqueues `pixie.jobs.*` for the render workers.
"""

import base64
import hashlib
import hmac
import io
import ipaddress
import json
import re
import time
import uuid
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Annotated, Literal

import redis
import uvicorn
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from PIL import Image
from pydantic import BaseModel, BeforeValidator, Field, TypeAdapter
from rq import Queue, Retry, Worker
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry, StartedJobRegistry
from rq.serializers import JSONSerializer
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException
from starlette.routing import Match

from . import config as configuration
from . import render, store
from . import spec as specs

FUNCTIONS = {
    "text": "show_text",
    "image": "show_image",
    "animation": "show_animation",
    "fill": "show_fill",
    "clear": "clear",
    "pattern": "show_pattern",
    "demo": "demo",
}
DEMO_RANGE = (1, 999)
MEDIA_TYPES = ("image/png", "image/jpeg", "image/bmp", "image/gif", "image/webp", "application/octet-stream")
STATIC = Path(__file__).parent / "static"
# What RQ accepts as a job id (anything else makes Job.fetch raise ValueError).
JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


class Error(BaseModel):
    error: str = Field(description="what was wrong, for a person")


class Accepted(BaseModel):
    id: str
    url: str
    state: str


class JobStatus(BaseModel):
    id: str
    state: str = Field(description="queued, rendering, ready, playing, done, failed or canceled")
    kind: str | None = None
    priority: str | None = None
    name: str | None = None
    reason: str | None = Field(None, description="why it failed or was canceled")
    frames: int | None = None
    created: float | None = None
    started: float | None = None
    finished: float | None = None


def _json_integer(value):
    """An integer as JSON Schema means it (40 or 40.0), never `true` or "40"."""
    if isinstance(value, bool | str | bytes):
        raise ValueError("must be an integer")
    return value


class Brightness(BaseModel):
    brightness: Annotated[int, BeforeValidator(_json_integer)] = Field(ge=0, le=100)


class JobList(BaseModel):
    jobs: list[JobStatus] = Field(description="newest first")


class Panel(BaseModel):
    width: int
    height: int


class Info(BaseModel):
    version: str
    panel: Panel
    token_required: bool = Field(description="calls that change something need Authorization: Bearer <token>")
    priorities: list[str]
    kinds: list[str]


class Problem(Exception):
    def __init__(self, status: int, message: str):
        self.status = status
        self.message = message


ERRORS = {code: {"model": Error} for code in (400, 401, 403, 404, 409, 413, 415, 422)}


class AllowList:
    """ASGI middleware: only clients from the allowed networks get an answer other than 403 (`[web] allow`)."""

    def __init__(self, app, allow: list[str]):
        self.app = app
        self.networks = configuration.networks(allow)

    def allowed(self, host: str | None) -> bool:
        try:
            address = ipaddress.ip_address((host or "").split("%")[0])
        except ValueError:
            return False  # a unix socket or an unknown peer: not on the list
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        return any(address in network for network in self.networks)

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            client = scope.get("client")
            host = client[0] if client else None
            if not self.allowed(host):
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                reason = f"client {host} is not in the allowed networks ([web] allow)"
                await JSONResponse({"error": reason}, status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_app(config: configuration.Config) -> FastAPI:
    app = FastAPI(title="Pixie", version="1", description="An LED-matrix display appliance's job queue.")
    r = store.connect(config.redis.url)
    queues = {
        name: Queue(name, connection=r, serializer=JSONSerializer, default_timeout=config.worker.job_timeout_s)
        for name in specs.PRIORITIES
    }

    @app.exception_handler(Problem)
    async def problem(_, exc: Problem):
        return JSONResponse({"error": exc.message}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def invalid(_, exc: RequestValidationError):
        return JSONResponse({"error": specs.SpecError(list(exc.errors())).args[0]}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        """Starlette's own 4xx (unknown path, wrong method, unparsable body) in the API's {"error"} shape."""
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # every method the path has, not just those of the first route that matched
            methods = set()
            for route in app.router.routes:
                if route.matches(request.scope)[0] != Match.NONE:
                    methods |= getattr(route, "methods", None) or set()
            if methods:
                headers["Allow"] = ", ".join(sorted(methods))
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=headers)

    @app.exception_handler(redis.RedisError)
    async def redis_down(_, exc):
        return JSONResponse({"error": f"redis is unavailable: {exc}"}, status_code=503)

    def authorize(request: Request) -> None:
        if not config.web.token:
            return
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), config.web.token.encode()):
            raise Problem(401, "missing or wrong API token (Authorization: Bearer <token>)")

    Auth = Depends(authorize)

    def enqueue(spec) -> Accepted:
        job_id = uuid.uuid4().hex
        if spec.name:
            # One atomic swap (SET ... GET): of concurrent jobs with the same name, each replaces exactly one.
            previous = r.set(store.name_key(spec.name), job_id, ex=store.RECORD_TTL_S, get=True)
            if previous:
                try:
                    cancel(previous.decode(), replaced_by=job_id)
                except Problem:
                    pass  # it has ended (or expired) meanwhile: nothing to replace
        with r.pipeline() as p:
            p.multi()  # opened explicitly, as rq expects of a caller's pipeline
            store.create(p, job_id, kind=spec.kind, priority=spec.priority, name=spec.name)
            queues[spec.priority].enqueue_call(
                func=f"pixie.jobs.{FUNCTIONS[spec.kind]}",
                kwargs=spec.model_dump(exclude={"kind", "priority", "name", "data_b64"}, exclude_none=True),
                job_id=job_id,
                description=f"{spec.kind} job",
                # A worker that dies mid-job gets the job back once, then it fails.
                retry=Retry(max=1),
                failure_ttl=store.RECORD_TTL_S,
                result_ttl=store.RECORD_TTL_S,
                pipeline=p,
            )
            p.execute()
        return Accepted(id=job_id, url=f"/api/v1/jobs/{job_id}", state="queued")

    def status(job_id: str) -> JobStatus:
        if not JOB_ID.fullmatch(job_id):
            raise Problem(404, f"no job {job_id}")
        record = store.get(r, job_id)
        state, reason = record.get("state"), record.get("reason") or None
        if state not in ("ready", "playing", "done", "failed", "canceled"):
            try:
                job = Job.fetch(job_id, connection=r, serializer=JSONSerializer)
            except NoSuchJobError:
                if not record:
                    raise Problem(404, f"no job {job_id}") from None
            else:
                state, reason = _rq_state(job, state)
        return JobStatus(
            id=job_id,
            state=state,
            kind=record.get("kind") or None,
            priority=record.get("priority") or None,
            name=record.get("name") or None,
            reason=reason,
            frames=int(record["frames"]) if record.get("frames") else None,
            created=float(record["created"]) if record.get("created") else None,
            started=float(record["started"]) if record.get("started") else None,
            finished=float(record["finished"]) if record.get("finished") else None,
        )

    def cancel(job_id: str, replaced_by: str | None = None) -> JobStatus:
        current = status(job_id)
        if current.state in store.TERMINAL:
            raise Problem(409, f"job {job_id} has already ended ({current.state})")
        reason = f"replaced by {replaced_by}" if replaced_by else "canceled"
        if current.state == "queued":
            try:
                Job.fetch(job_id, connection=r, serializer=JSONSerializer).cancel()
            except (NoSuchJobError, InvalidJobOperation):
                pass  # gone, or canceled by a concurrent request
        elif current.state in ("ready", "playing") and not store.unready(r, job_id):
            # The display has it (playing, or waiting under a preempting job).
            store.send(r, dismiss=job_id)
        store.set_state(r, job_id, "canceled", reason=reason, finished=time.time())
        return status(job_id)

    async def read_body(request: Request) -> bytes:
        limit = config.web.max_body_bytes
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise Problem(413, f"body is larger than {limit} bytes")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise Problem(413, f"body is larger than {limit} bytes")
        return bytes(body)

    async def job_request(request: Request) -> tuple[dict, bytes | None]:
        """The job's fields and its media, from JSON, multipart or a raw upload."""
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        body = await read_body(request)
        if content_type == "application/json":
            try:
                data = json.loads(body)
            except ValueError:
                raise Problem(400, "body is not valid JSON") from None
            if not isinstance(data, dict):
                raise Problem(400, "body must be a JSON object")
            media = None
            if isinstance(data.get("data_b64"), str):
                try:
                    media = base64.b64decode(data.pop("data_b64"), validate=True)
                except ValueError:  # binascii.Error, or non-ASCII characters in the string
                    raise Problem(422, "data_b64 is not valid base64") from None
            return data, media
        if content_type == "multipart/form-data":

            async def replay():
                return {"type": "http.request", "body": body, "more_body": False}

            try:
                form = await Request(request.scope, replay).form(max_files=1, max_fields=32)
            except (MultiPartException, StarletteHTTPException) as e:
                raise Problem(400, f"malformed multipart body: {getattr(e, 'detail', e)}") from None
            data, media = {}, None
            for key, value in form.multi_items():
                if hasattr(value, "read"):
                    media = await value.read()
                elif value != "":
                    data[key] = value
            return data, media
        if content_type.startswith("image/") or content_type == "application/octet-stream":
            return dict(request.query_params), body
        raise Problem(415, f"send application/json, multipart/form-data or one of {', '.join(MEDIA_TYPES)}")

    def accept(data: dict, media: bytes | None, strict: bool) -> Accepted:
        if media is not None:
            image = render.open_media(media, config.render)
            data.setdefault("kind", "animation" if getattr(image, "n_frames", 1) > 1 else "image")
            if data["kind"] not in ("image", "animation"):
                raise Problem(422, f"a {data['kind']} job takes no file")
            data["blob"] = store.put_blob(r, media)
        elif data.get("kind") in ("image", "animation"):
            raise Problem(422, f"a {data['kind']} job needs a file: upload it or give data_b64")
        return enqueue(specs.parse(data, strict=strict))

    @app.post("/api/v1/jobs", status_code=202, response_model=Accepted, responses=ERRORS, dependencies=[Auth],
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": {"$ref": "#/components/schemas/JobSpec"}},
                  "multipart/form-data": {"schema": {"type": "object", "properties": {
                      "file": {"type": "string", "format": "binary"},
                      "kind": {"type": "string", "enum": ["image", "animation"]},
                      "fit": {"type": "string", "enum": ["fit", "fill", "center"]},
                      "priority": {"type": "string", "enum": list(specs.PRIORITIES)},
                      "duration_s": {"type": "number", "exclusiveMinimum": 0, "maximum": specs.MAX_DURATION_S},
                      "repeat": {"type": "integer", "minimum": 1, "maximum": specs.MAX_REPEAT},
                      "name": {"type": "string", "maxLength": 64, "pattern": r"^[A-Za-z0-9_.:-]*$"}},
                      "required": ["file"]}},
                  "image/png": {"schema": {"type": "string", "format": "binary"}},
                  "image/gif": {"schema": {"type": "string", "format": "binary"}},
              }}})  # fmt: skip
    async def submit(request: Request):
        """Queue a display job: JSON (`kind` + its fields), a multipart upload
        (`file` + fields) or a raw image body (fields as query parameters)."""
        data, media = await job_request(request)
        try:
            strict = request.headers.get("content-type", "").split(";")[0].strip().lower() == "application/json"
            return await run_in_threadpool(accept, data, media, strict)
        except render.MediaError as e:
            raise Problem(e.status, str(e)) from None
        except specs.SpecError as e:
            raise Problem(422, str(e)) from None

    @app.api_route("/pixie/queue", methods=["GET", "POST"], status_code=202, response_model=Accepted,
                   responses=ERRORS, dependencies=[Auth])  # fmt: skip
    def queue_demo(
        n: Annotated[str | None, Query(description=f"count down from n, {DEMO_RANGE[0]}..{DEMO_RANGE[1]}")] = None,
    ):
        """The original appliance's endpoint: queue the built-in countdown demo."""
        if n is None or not n.strip().isdigit() or not DEMO_RANGE[0] <= int(n) <= DEMO_RANGE[1]:
            raise Problem(400, f"n must be an integer from {DEMO_RANGE[0]} to {DEMO_RANGE[1]}, got {n!r}")
        return enqueue(specs.parse({"kind": "demo", "n": int(n)}))

    @app.get("/api/v1/jobs/{job_id}", response_model=JobStatus, responses=ERRORS)
    def get_job(job_id: str):
        return status(job_id)

    @app.delete("/api/v1/jobs/{job_id}", response_model=JobStatus, responses=ERRORS, dependencies=[Auth])
    def delete_job(job_id: str):
        """Cancel a queued job or dismiss a playing one."""
        return cancel(job_id)

    @app.get("/api/v1/queue")
    def queue_state():
        workers = Worker.all(connection=r)
        return {
            "queues": {
                name: {
                    "queued": q.count,
                    "started": StartedJobRegistry(queue=q).count,
                    "failed": FailedJobRegistry(queue=q).count,
                }
                for name, q in queues.items()
            },
            "workers": [{"name": w.name, "state": w.get_state(), "job": w.get_current_job_id()} for w in workers],
            "ready": [m.decode() for m in r.zrange(store.READY, 0, -1)],
            "now_playing": store.get_json(r, store.NOW_PLAYING),
        }

    @app.get("/healthz", responses={503: {"description": "the appliance cannot show anything"}})
    def healthz():
        try:
            r.ping()
            workers = len(Worker.all(connection=r))
            heartbeat = store.get_json(r, store.HEARTBEAT)
        except redis.RedisError as e:
            return JSONResponse({"ok": False, "redis": False, "error": str(e)}, status_code=503)
        age = time.time() - heartbeat["time"] if heartbeat else None
        display_ok = age is not None and age < config.display.heartbeat_max_age_s
        ok = workers > 0 and display_ok
        body = {"ok": ok, "redis": True, "workers": workers, "display_heartbeat_age_s": age}
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get("/api/v1/screen.png", response_class=Response, responses={200: {"content": {"image/png": {}}}})
    def screen(request: Request, scale: Annotated[int, Query(ge=1, le=32)] = 8):
        """What the panel shows now, scaled up for a person."""
        size = (config.panel.width, config.panel.height)
        raw = r.get(store.SCREEN)
        # The same pixels answer 304 before any PNG is encoded: a page polling a still panel costs ~nothing.
        etag = f'"{hashlib.blake2b(raw or b"", digest_size=12).hexdigest()}-{scale}"'
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers={"ETag": etag, "Cache-Control": "no-cache"})
        image = (
            Image.frombytes("RGB", size, raw) if raw and len(raw) == size[0] * size[1] * 3 else Image.new("RGB", size)
        )
        out = io.BytesIO()
        image.resize((size[0] * scale, size[1] * scale), Image.Resampling.NEAREST).save(out, "PNG")
        return Response(out.getvalue(), media_type="image/png", headers={"Cache-Control": "no-cache", "ETag": etag})

    @app.get("/api/v1/brightness", response_model=Brightness)
    def get_brightness():
        stored = r.get(store.BRIGHTNESS)
        return Brightness(brightness=int(stored) if stored else config.panel.brightness)

    @app.put("/api/v1/brightness", response_model=Brightness, responses=ERRORS, dependencies=[Auth])
    def put_brightness(body: Brightness):
        r.set(store.BRIGHTNESS, body.brightness)
        store.send(r, brightness=body.brightness)
        return body

    def recent_ids(count: int) -> list[tuple[str, float]]:
        """Recent jobs, newest first: pixie's index, plus jobs waiting in RQ that no worker has seen yet."""
        listed = dict(store.recent(r, count))
        waiting = [i for q in queues.values() for i in q.get_job_ids(-count, count) if i not in listed]
        for job in Job.fetch_many(waiting, connection=r, serializer=JSONSerializer):
            if job is not None:
                listed[job.id] = (job.enqueued_at or job.created_at).timestamp()
        return sorted(listed.items(), key=lambda item: item[1], reverse=True)

    @app.get("/api/v1/jobs", response_model=JobList)
    def list_jobs(
        limit: Annotated[int, Query(ge=1, le=store.JOBS_MAX, description="at most this many")] = 50,
        state: Annotated[
            Literal["queued", "rendering", "ready", "playing", "done", "failed", "canceled"] | None,
            Query(description="only jobs in this state"),
        ] = None,
    ):
        """Recent jobs (the last day, at most 500) with their states, newest first."""
        jobs = []
        for job_id, arrived in recent_ids(store.JOBS_MAX if state else limit):
            try:
                job = status(job_id)
            except Problem:  # its record and its RQ job have both expired
                store.forget(r, job_id)
                continue
            if state is None or job.state == state:
                jobs.append(job if job.created else job.model_copy(update={"created": arrived}))
            if len(jobs) == limit:
                break
        return JobList(jobs=jobs)

    @app.post("/api/v1/jobs/{job_id}/requeue", response_model=JobStatus, responses=ERRORS, dependencies=[Auth])
    def requeue_job(job_id: str):
        """Send a failed job round again: rendered afresh, then played."""
        current = status(job_id)
        if current.state != "failed":
            raise Problem(409, f"only a failed job can be requeued; job {job_id} is {current.state}")
        try:
            job = Job.fetch(job_id, connection=r, serializer=JSONSerializer)
        except NoSuchJobError:
            raise Problem(409, f"job {job_id} can no longer be requeued (its RQ job has expired)") from None
        # The record first: a worker that takes the job at once moves it on from queued.
        store.reset(r, job_id)
        try:
            if job.get_status() == "failed":
                FailedJobRegistry(queue=queues[job.origin]).requeue(job)
            else:  # rendered, but the display failed it (its frames were evicted): render again
                queues[job.origin].enqueue_job(job)
        except InvalidJobOperation:
            pass  # requeued meanwhile by someone else
        return status(job_id)

    @app.get("/api/v1/info", response_model=Info)
    def info():
        """What the page and the CLI need to know about this appliance."""
        try:
            version = package_version("pixie")
        except PackageNotFoundError:
            version = "unknown"
        return Info(
            version=version,
            panel=Panel(width=config.panel.width, height=config.panel.height),
            token_required=bool(config.web.token),
            priorities=list(specs.PRIORITIES),
            kinds=list(specs.KINDS),
        )

    @app.get("/", include_in_schema=False)
    def page():
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    def openapi():
        if not app.openapi_schema:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            job_spec = TypeAdapter(specs.JobSpec).json_schema(ref_template="#/components/schemas/{model}")
            schema["components"]["schemas"].update(job_spec.pop("$defs"))
            schema["components"]["schemas"]["JobSpec"] = job_spec
            # What the models check in code, said in the schema too (clients and fuzzers read it):
            # duration_s and repeat exclude each other...
            for name in job_spec["discriminator"]["mapping"].values():
                schema["components"]["schemas"][name.rsplit("/", 1)[-1]]["not"] = {
                    "required": ["duration_s", "repeat"],
                    "properties": {"duration_s": {"type": "number"}, "repeat": {"type": "integer"}},
                }
            # ... and the legacy endpoint's n is required, an integer 1..999 (anything else is a 400).
            for operation in schema["paths"]["/pixie/queue"].values():
                for parameter in operation["parameters"]:
                    if parameter["name"] == "n":
                        parameter["required"] = True
                        parameter["schema"] = {"type": "integer", "minimum": DEMO_RANGE[0], "maximum": DEMO_RANGE[1]}
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi
    if config.web.allow:
        app.add_middleware(AllowList, allow=config.web.allow)
    return app


def _rq_state(job: Job, recorded: str | None) -> tuple[str, str | None]:
    rq_status = job.get_status()
    if rq_status in ("queued", "scheduled", "deferred"):
        return "queued", None
    if rq_status == "started":
        return "rendering", None
    if rq_status in ("canceled", "stopped"):
        return "canceled", None
    if rq_status == "failed":
        result = job.latest_result()
        lines = (result.exc_string or "").strip().splitlines() if result else []
        return "failed", lines[-1] if lines else "failed in the render worker"
    return recorded or "ready", None


def main() -> None:
    config = configuration.load()
    uvicorn.run(create_app(config), host=config.web.host, port=config.web.port, log_level="info")
