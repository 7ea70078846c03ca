"""The panel: what it shows now, its state, power, brightness and night mode."""

import hashlib
import io
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from PIL import Image
from pydantic import BaseModel, StrictBool

from ...service.panel import NightModeState, PanelState, TransitionState
from ...spec import NightMode, Percent, Transition
from ..deps import Config, Service
from ..problems import RESPONSES

router = APIRouter()


class Brightness(BaseModel):
    brightness: Percent


class Power(BaseModel):
    on: StrictBool


@router.get("/api/v1/screen.png", response_class=Response, responses={200: {"content": {"image/png": {}}}})
def screen(request: Request, config: Config, service: Service, scale: Annotated[int, Query(ge=1, le=32)] = 8):
    """What the panel shows now, scaled up for a person."""
    size = (config.panel.width, config.panel.height)
    raw = service.panel.screen()
    # The same pixels answer 304 before any PNG is encoded: a page polling a still panel costs ~nothing.
    etag = f'"{hashlib.blake2b(raw or b"", digest_size=12).hexdigest()}-{scale}"'
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": "no-cache"})
    image = Image.frombytes("RGB", size, raw) if raw else Image.new("RGB", size)
    out = io.BytesIO()
    image.resize((size[0] * scale, size[1] * scale), Image.Resampling.NEAREST).save(out, "PNG")
    return Response(out.getvalue(), media_type="image/png", headers={"Cache-Control": "no-cache", "ETag": etag})


@router.get("/api/v1/state", response_model=PanelState)
def get_state(service: Service):
    """What the panel does now, in one answer (what MQTT's retained `state` topic carries)."""
    return service.panel.state()


@router.get("/api/v1/power", response_model=Power)
def get_power(service: Service):
    return Power(on=service.panel.power())


@router.put("/api/v1/power", response_model=Power, responses=RESPONSES)
def put_power(body: Power, service: Service):
    """Off: the panel goes dark; jobs and the rotation go on unseen."""
    return Power(on=service.panel.set_power(body.on))


@router.get("/api/v1/brightness", response_model=Brightness)
def get_brightness(service: Service):
    return Brightness(brightness=service.panel.brightness())


@router.put("/api/v1/brightness", response_model=Brightness, responses=RESPONSES)
def put_brightness(body: Brightness, service: Service):
    return Brightness(brightness=service.panel.set_brightness(body.brightness))


@router.get("/api/v1/schedule", response_model=NightModeState)
def get_schedule(service: Service):
    """Night mode: the brightness windows, what applies now and when that changes."""
    return service.panel.night_mode()


@router.put("/api/v1/schedule", response_model=NightModeState, responses=RESPONSES)
def put_schedule(body: NightMode, service: Service):
    """Replace night mode's windows (an empty list turns it off)."""
    return service.panel.set_night_mode(body)


@router.get("/api/v1/transition", response_model=TransitionState)
def get_transition(service: Service):
    """The default transition between what the panel shows (an app's own `transition` wins for it)."""
    return service.panel.transition()


@router.put("/api/v1/transition", response_model=TransitionState, responses=RESPONSES)
def put_transition(body: Transition, service: Service):
    """Set the default transition: into every job, and into every app without its own."""
    return service.panel.set_transition(body)
