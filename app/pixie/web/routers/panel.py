"""The panel: what it shows now, and its brightness."""

import hashlib
import io
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from PIL import Image
from pydantic import BaseModel, BeforeValidator, Field

from ...service import BRIGHTNESS
from ..deps import Auth, Config, Service
from ..problems import RESPONSES

router = APIRouter()


def _json_integer(value):
    """An integer as JSON Schema means it (40 or 40.0), never `true` or "40"."""
    if isinstance(value, bool | str | bytes):
        raise ValueError("must be an integer")
    return value


class Brightness(BaseModel):
    brightness: Annotated[int, BeforeValidator(_json_integer)] = Field(ge=BRIGHTNESS[0], le=BRIGHTNESS[1])


@router.get("/api/v1/screen.png", response_class=Response, responses={200: {"content": {"image/png": {}}}})
def screen(request: Request, config: Config, service: Service, scale: Annotated[int, Query(ge=1, le=32)] = 8):
    """What the panel shows now, scaled up for a person."""
    size = (config.panel.width, config.panel.height)
    raw = service.screen()
    # The same pixels answer 304 before any PNG is encoded: a page polling a still panel costs ~nothing.
    etag = f'"{hashlib.blake2b(raw or b"", digest_size=12).hexdigest()}-{scale}"'
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": "no-cache"})
    image = Image.frombytes("RGB", size, raw) if raw else Image.new("RGB", size)
    out = io.BytesIO()
    image.resize((size[0] * scale, size[1] * scale), Image.Resampling.NEAREST).save(out, "PNG")
    return Response(out.getvalue(), media_type="image/png", headers={"Cache-Control": "no-cache", "ETag": etag})


@router.get("/api/v1/brightness", response_model=Brightness)
def get_brightness(service: Service):
    return Brightness(brightness=service.brightness())


@router.put("/api/v1/brightness", response_model=Brightness, responses=RESPONSES, dependencies=[Auth])
def put_brightness(body: Brightness, service: Service):
    return Brightness(brightness=service.set_brightness(body.brightness))
