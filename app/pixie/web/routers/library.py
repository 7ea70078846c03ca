"""The library: fonts and icons uploaded for text jobs to name (add, list, fetch, delete)."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from ... import spec as specs
from ...service.library import FONT_FORMATS, FontInfo, IconInfo
from ..bodies import file_request
from ..deps import Config, Service
from ..problems import RESPONSES

router = APIRouter(tags=["library"])
FontName = Annotated[str, Path(min_length=1, max_length=specs.MAX_NAME_CHARS, pattern=specs.NAME_PATTERN)]
# No pattern in the schema: fuzzers cannot put its folder's "/" in a path segment; the library checks it.
IconName = Annotated[
    str,
    Path(min_length=1, max_length=specs.MAX_NAME_CHARS, description=f"{specs.ICON_PATTERN}, e.g. sun or 8x8/8544"),
]


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


def _served(*content_types: str) -> dict:
    """The responses of a route that answers with its details, or (`download`) the file in one of these types."""
    return {**RESPONSES, 200: {"content": {kind: {} for kind in content_types}}}


FONT_FILE = _served(*dict.fromkeys(kind for _, _, kind in FONT_FORMATS), "application/octet-stream")
ICON_FILE = _served("image/png", "image/gif", "image/webp")
Download = Annotated[bool, Query(description="the file itself, not its details")]


@router.get("/api/v1/fonts", response_model=Fonts, summary="The fonts: built-in, then uploaded")
def list_fonts(service: Service):
    """Every font a text job may name, with its pixel height, and for an uploaded one its size in bytes and
    how many characters it covers."""
    return Fonts(fonts=service.library.fonts())


@router.get("/api/v1/fonts/{name}", response_model=FontInfo, responses=FONT_FILE, summary="A font, or its file")
def get_font(name: FontName, service: Service, download: Download = False):
    """A font's details; with `download`, an uploaded font's file."""
    return _file(*service.library.font_file(name)) if download else service.library.get_font(name)


@router.put("/api/v1/fonts/{name}", response_model=FontInfo, responses=RESPONSES,
            summary="Upload a font", openapi_extra=_upload_body("BDF, PCF (also gzipped), TTF or OTF"))  # fmt: skip
async def put_font(name: FontName, request: Request, config: Config, service: Service):
    """Add a font under `name` (a text job's `font`), or replace it. Refused: a file that is not a font, a
    bitmap font with no glyphs, a built-in font's name (422); over fonts.max_bytes (413); past fonts.max_count
    fonts (409)."""
    data = await file_request(request, config.web.max_body_bytes)  # read whole: the client hears why
    return await run_in_threadpool(service.library.put_font, name, data)


@router.delete("/api/v1/fonts/{name}", response_model=Deleted, responses=RESPONSES,
               summary="Delete an uploaded font")  # fmt: skip
def delete_font(name: FontName, service: Service):
    """Jobs naming it are refused from now on; those already rendered play on."""
    service.library.delete_font(name)
    return Deleted(deleted=name)


@router.get("/api/v1/icons", response_model=Icons, summary="The icons, by name")
def list_icons(service: Service):
    return Icons(icons=service.library.icons())


@router.get("/api/v1/icons/{name:path}", response_model=IconInfo, responses=ICON_FILE, summary="An icon, or its image")
def get_icon(name: IconName, service: Service, download: Download = False):
    """An icon's details; with `download`, the PNG, GIF or WebP as uploaded (the page's previews)."""
    return _file(*service.library.icon_file(name)) if download else service.library.get_icon(name)


@router.put("/api/v1/icons/{name:path}", response_model=IconInfo, responses=RESPONSES,
            summary="Upload an icon", openapi_extra=_upload_body("PNG, GIF or WebP, at most the panel's height"),
            )  # fmt: skip
async def put_icon(name: IconName, request: Request, config: Config, service: Service):
    """Add an icon under `name` (a text job's `icon`; AWTRIX's "8x8/8544" form too), or replace it: jobs
    naming it render again. Refused: not an image, taller than the panel, over icons.max_frames (422 or 413);
    over icons.max_bytes (413); past icons.max_count icons (409)."""
    data = await file_request(request, config.web.max_body_bytes)
    return await run_in_threadpool(service.library.put_icon, name, data)


@router.delete("/api/v1/icons/{name:path}", response_model=Deleted, responses=RESPONSES,
               summary="Delete an icon")  # fmt: skip
def delete_icon(name: IconName, service: Service):
    service.library.delete_icon(name)
    return Deleted(deleted=name)
