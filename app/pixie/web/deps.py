"""What the routes depend on, in one place: the config, the job service, the token check."""

import base64
import hmac
from typing import Annotated

from fastapi import Depends, Request

from .. import config as configuration
from .. import service
from .problems import HTTPProblem


def get_config(request: Request) -> configuration.Config:
    return request.app.state.config


def get_service(request: Request) -> service.Service:
    return request.app.state.service


def authorize(request: Request) -> None:
    """Calls that change something need `Authorization: Bearer <token>` when a token is set."""
    _check(request, basic=False)


def authorize_awtrix(request: Request) -> None:
    """AWTRIX's paths: Bearer too, or HTTP Basic (AWTRIX clients' way) with awtrix.user and the token."""
    _check(request, basic=True)


def _check(request: Request, basic: bool) -> None:
    config = request.app.state.config
    if not config.web.token:
        return
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if basic and scheme.lower() == "basic":
        try:
            user, _, given = base64.b64decode(credentials, validate=True).decode().partition(":")
        except ValueError:
            user = given = ""
        given = given if hmac.compare_digest(user.encode(), config.awtrix.user.encode()) else ""
    else:
        given = header.removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), config.web.token.encode()):
        how = "Authorization: Bearer <token>" + (f", or Basic auth as {config.awtrix.user!r}" if basic else "")
        challenge = {"WWW-Authenticate": 'Basic realm="pixie"'} if basic else None
        raise HTTPProblem(401, f"missing or wrong API token ({how})", challenge)


Config = Annotated[configuration.Config, Depends(get_config)]
Service = Annotated[service.Service, Depends(get_service)]
Auth = Depends(authorize)
AwtrixAuth = Depends(authorize_awtrix)
