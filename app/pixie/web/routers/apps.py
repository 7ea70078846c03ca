"""The rotation: its apps (create, update in place, delete) and skipping through it."""

import json
from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from ... import spec as specs
from ...service.apps import AppState, Rotation
from ..bodies import read_body
from ..deps import Config, Service
from ..problems import RESPONSES, HTTPProblem

router = APIRouter()
AppName = Annotated[str, Path(min_length=1, max_length=64, pattern=specs.NAME_PATTERN)]


class Deleted(BaseModel):
    deleted: str


class Skipped(BaseModel):
    step: int


@router.get("/api/v1/apps", response_model=Rotation)
def list_apps(service: Service):
    """The apps in rotation order, the one showing and the next."""
    return service.apps.rotation()


@router.get("/api/v1/apps/{name}", response_model=AppState, responses=RESPONSES)
def get_app(name: AppName, service: Service):
    return service.apps.get(name)


@router.put("/api/v1/apps/{name}", response_model=AppState, responses=RESPONSES,
            openapi_extra={"requestBody": {"required": True, "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/App"}}}}})  # fmt: skip
async def put_app(name: AppName, request: Request, config: Config, service: Service):
    """Create an app, or update it in place: its new frames swap in at the end of its dwell (at once with
    `now`), the rotation goes on. An image or animation app carries its file as `content.data_b64`."""
    body = await read_body(request, config.web.max_body_bytes)
    try:
        data = json.loads(body)
    except ValueError:
        raise HTTPProblem(400, "body is not valid JSON") from None
    return await run_in_threadpool(service.apps.put, name, specs.parse_app(data))


@router.delete("/api/v1/apps/{name}", response_model=Deleted, responses=RESPONSES)
def delete_app(name: AppName, service: Service):
    """Remove an app; if it is on screen, the next one shows now."""
    service.apps.delete(name)
    return Deleted(deleted=name)


@router.post("/api/v1/apps/{name}/pin", response_model=Rotation, responses=RESPONSES)
def pin_app(name: AppName, service: Service):
    """Hold this app on screen until it is unpinned (jobs still interrupt it)."""
    return service.apps.pin(name)


@router.delete("/api/v1/apps/{name}/pin", response_model=Rotation, responses=RESPONSES)
def unpin_app(name: AppName, service: Service):
    """The rotation goes on from the pinned app."""
    return service.apps.unpin(name)


@router.post("/api/v1/rotation/next", status_code=202, response_model=Skipped, responses=RESPONSES)  # fmt: skip
def next_app(service: Service):
    """Show the next app now."""
    service.apps.skip(1)
    return Skipped(step=1)


@router.post("/api/v1/rotation/previous", status_code=202, response_model=Skipped, responses=RESPONSES)  # fmt: skip
def previous_app(service: Service):
    """Show the previous app now."""
    service.apps.skip(-1)
    return Skipped(step=-1)
