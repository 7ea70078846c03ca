"""What the routes depend on, in one place: the config, the job service, the token check."""

import hmac
from typing import Annotated

from fastapi import Depends, Request

from .. import config as configuration
from ..service import JobService
from .problems import HTTPProblem


def get_config(request: Request) -> configuration.Config:
    return request.app.state.config


def get_service(request: Request) -> JobService:
    return request.app.state.service


def authorize(request: Request) -> None:
    """Calls that change something need `Authorization: Bearer <token>` when a token is set."""
    token = request.app.state.config.web.token
    if not token:
        return
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        raise HTTPProblem(401, "missing or wrong API token (Authorization: Bearer <token>)")


Config = Annotated[configuration.Config, Depends(get_config)]
Service = Annotated[JobService, Depends(get_service)]
Auth = Depends(authorize)
