"""The appliance as a whole: health, what it is, its queues and workers, and the web page."""

from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field

from ...service.system import Inputs, installed_version
from ...vocabulary import KINDS, PRIORITIES
from .. import access
from ..deps import Config, Service

STATIC = Path(__file__).parents[2] / "static"
router = APIRouter()


class Panel(BaseModel):
    width: int
    height: int


class Info(BaseModel):
    version: str
    panel: Panel
    token_required: bool = Field(description="calls that change something need Authorization: Bearer <token>")
    reads_open: bool = Field(description="reads need no token (false: they need one with the read scope)")
    priorities: list[str]
    kinds: list[str]


@router.get("/api/v1/queue")
def queue_state(service: Service):
    return service.system.overview()


@router.get("/healthz", responses={503: {"description": "the appliance cannot show anything"}})
def healthz(service: Service):
    health = service.system.health()
    return JSONResponse(health, status_code=200 if health["ok"] else 503)


@router.get("/api/v1/info", response_model=Info)
def info(config: Config):
    """What the page and the CLI need to know about this appliance."""
    return Info(
        version=installed_version(),
        panel=Panel(width=config.panel.width, height=config.panel.height),
        token_required=bool(config.web.token or config.web.tokens),
        reads_open=not config.web.tokens,
        priorities=list(PRIORITIES),
        kinds=list(KINDS),
    )


class WhoAmI(BaseModel):
    name: str | None = Field(description="the presented token's name; null: none presented, or none known")
    scope: Literal["none", "read", "push", "admin"] = Field(description="what this caller may do")


@router.get("/api/v1/whoami", response_model=WhoAmI)
def whoami(request: Request):
    """The token this call presented and its scope: read (look), push (jobs, apps), admin (everything)."""
    name, scope = access.caller(request)
    return WhoAmI(name=name, scope="none" if scope == access.OPEN else scope.name.lower())


@router.get("/api/v1/inputs", response_model=Inputs)
def inputs(service: Service):
    """The live inputs (FlaschenTaschen, DDP): enabled, where, and what they took and dropped."""
    return service.system.inputs()


@router.get("/", include_in_schema=False)
def page():
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})
