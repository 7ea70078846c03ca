"""Backup and restore: everything a user set up, as one JSON document, and back (service/backup.py)."""

import json
import re

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ...service.backup import Document, Restored
from ..bodies import read_body
from ..deps import Auth, Config, Service
from ..problems import RESPONSES, HTTPProblem

router = APIRouter(tags=["backup"])
# A backup holds the apps' files, fonts and icons, each up to its own limit: room for several bodies.
RESTORE_BODIES = 8


@router.get("/api/v1/backup", responses={**RESPONSES, 200: {"model": Document}}, dependencies=[Auth])
def backup(service: Service):
    """Everything set up on this appliance (apps and their files, the pin, night mode, brightness, power, the
    transition, AWTRIX's settings, uploaded fonts and icons) with a manifest: what POST /api/v1/restore takes.
    It holds content: the token guards it as it guards every change."""
    document = service.backup.take()
    manifest = document["manifest"]
    name = re.sub(r"[^A-Za-z0-9._-]", "_", f"pixie-{manifest['device']}-{manifest['created']}.json")
    return JSONResponse(document, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/api/v1/restore", response_model=Restored, responses=RESPONSES, dependencies=[Auth],
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": {"$ref": "#/components/schemas/Document"}}}}})  # fmt: skip
async def restore(request: Request, config: Config, service: Service):
    """Replace the apps, the library and the settings with a backup's, all at once, once every part of it
    passes the checks the API applies to each; refused (nothing changed): not JSON or cut short (400), a newer
    format, a corrupted one or anything invalid in it (422, naming what)."""
    body = await read_body(request, RESTORE_BODIES * config.web.max_body_bytes)
    try:
        document = json.loads(body)
    except ValueError as e:
        raise HTTPProblem(400, f"body is not valid JSON (a backup cut short or corrupted?): {e}") from None
    return await run_in_threadpool(service.backup.restore, document)
