"""The library: fonts and icons uploaded for text jobs to name (add, list, fetch, delete)."""

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from ...service.library import FontInfo, IconInfo
from ..bodies import file_request
from ..deps import Auth, Config, Service
from ..problems import RESPONSES

router = APIRouter(tags=["library"])


class Fonts(BaseModel):
    fonts: list[FontInfo]


class Icons(BaseModel):
    icons: list[IconInfo]


class Deleted(BaseModel):
    deleted: str


def _upload_body(formats: str) -> dict:
    """The OpenAPI request body of an upload: the file itself, or a multipart form's `file`."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    form = {"schema": {"type": "object", "properties": {"file": binary["schema"]}, "required": ["file"]}}
    return {
        "requestBody": {
            "required": True,
            "description": formats,
            "content": {"application/octet-stream": binary, "multipart/form-data": form},
        }
    }


def _file(data: bytes, content_type: str) -> Response:
    return Response(data, media_type=content_type, headers={"Cache-Control": "no-cache"})


FILE = {200: {"content": {"application/octet-stream": {}}}, **RESPONSES}


@router.get("/api/v1/fonts", response_model=Fonts, summary="The fonts: built-in, then uploaded")
def list_fonts(service: Service):
    """Every font a text job may name, with its pixel height, and for an uploaded one its size in bytes and
    how many characters it covers."""
    return Fonts(fonts=service.library.fonts())


@router.get("/api/v1/fonts/{name}", response_model=FontInfo, responses=RESPONSES, summary="A font's details")
def get_font(name: str, service: Service):
    return service.library.get_font(name)


@router.get("/api/v1/fonts/{name}/file", response_class=Response, responses=FILE, summary="An uploaded font's file")
def font_file(name: str, service: Service):
    return _file(*service.library.font_file(name))


@router.put("/api/v1/fonts/{name}", response_model=FontInfo, responses=RESPONSES, dependencies=[Auth],
            summary="Upload a font", openapi_extra=_upload_body("BDF, PCF (also gzipped), TTF or OTF"))  # fmt: skip
async def put_font(name: str, request: Request, config: Config, service: Service):
    """Add a font under `name` (a text job's `font`), or replace it. Refused: a file that is not a font, a
    bitmap font with no glyphs, a built-in font's name (422); over fonts.max_bytes (413); past fonts.max_count
    fonts (409)."""
    data = await file_request(request, config.web.max_body_bytes)  # read whole: the client hears why
    return await run_in_threadpool(service.library.put_font, name, data)


@router.delete("/api/v1/fonts/{name}", response_model=Deleted, responses=RESPONSES, dependencies=[Auth],
               summary="Delete an uploaded font")  # fmt: skip
def delete_font(name: str, service: Service):
    """Jobs naming it are refused from now on; those already rendered play on."""
    service.library.delete_font(name)
    return Deleted(deleted=name)


@router.get("/api/v1/icons", response_model=Icons, summary="The icons, by name")
def list_icons(service: Service):
    return Icons(icons=service.library.icons())


# Before the icon's own path: "{name:path}" would take ".../file" as part of a name.
@router.get("/api/v1/icons/{name:path}/file", response_class=Response, responses=FILE, summary="An icon's image")
def icon_file(name: str, service: Service):
    """The PNG, GIF or WebP as uploaded (the page's previews)."""
    return _file(*service.library.icon_file(name))


@router.get("/api/v1/icons/{name:path}", response_model=IconInfo, responses=RESPONSES, summary="An icon's details")
def get_icon(name: str, service: Service):
    return service.library.get_icon(name)


@router.put("/api/v1/icons/{name:path}", response_model=IconInfo, responses=RESPONSES, dependencies=[Auth],
            summary="Upload an icon", openapi_extra=_upload_body("PNG, GIF or WebP, at most the panel's height"),
            )  # fmt: skip
async def put_icon(name: str, request: Request, config: Config, service: Service):
    """Add an icon under `name` (a text job's `icon`; AWTRIX's "8x8/8544" form too), or replace it: jobs
    naming it render again. Refused: not an image, taller than the panel, over icons.max_frames (422 or 413);
    over icons.max_bytes (413); past icons.max_count icons (409)."""
    data = await file_request(request, config.web.max_body_bytes)
    return await run_in_threadpool(service.library.put_icon, name, data)


@router.delete("/api/v1/icons/{name:path}", response_model=Deleted, responses=RESPONSES, dependencies=[Auth],
               summary="Delete an icon")  # fmt: skip
def delete_icon(name: str, service: Service):
    service.library.delete_icon(name)
    return Deleted(deleted=name)
