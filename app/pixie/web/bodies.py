"""A job's fields and its file out of an HTTP request: JSON, multipart or a raw upload."""

import json

from fastapi import Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from .problems import HTTPProblem

MEDIA_TYPES = ("image/png", "image/jpeg", "image/bmp", "image/gif", "image/webp", "application/octet-stream")


def content_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPProblem(413, f"body is larger than {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPProblem(413, f"body is larger than {limit} bytes")
    return bytes(body)


async def job_request(request: Request, limit: int) -> tuple[dict, bytes | None]:
    """The job's fields and its file; a JSON body may carry the file as `data_b64` (the service decodes it)."""
    kind = content_type(request)
    body = await read_body(request, limit)
    if kind == "application/json":
        try:
            data = json.loads(body)
        except ValueError:
            raise HTTPProblem(400, "body is not valid JSON") from None
        if not isinstance(data, dict):
            raise HTTPProblem(400, "body must be a JSON object")
        return data, None
    if kind == "multipart/form-data":
        return await _form(request, body)
    if kind.startswith("image/") or kind == "application/octet-stream":
        return dict(request.query_params), body
    raise HTTPProblem(415, f"send application/json, multipart/form-data or one of {', '.join(MEDIA_TYPES)}")


async def file_request(request: Request, limit: int) -> bytes:
    """An uploaded file: the body itself, or a multipart form's file."""
    body = await read_body(request, limit)
    if content_type(request) != "multipart/form-data":
        return body
    media = (await _form(request, body))[1]
    if media is None:
        raise HTTPProblem(400, "the multipart form has no file")
    return media


async def _form(request: Request, body: bytes) -> tuple[dict, bytes | None]:
    async def replay():
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(request.scope, replay).form(max_files=1, max_fields=32)
    except (MultiPartException, StarletteHTTPException) as e:
        raise HTTPProblem(400, f"malformed multipart body: {getattr(e, 'detail', e)}") from None
    data, media = {}, None
    for key, value in form.multi_items():
        if hasattr(value, "read"):
            media = await value.read()
        elif value != "":
            data[key] = value
    return data, media
