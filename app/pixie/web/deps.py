"""What the routes depend on, in one place: the config, the job service."""

from typing import Annotated

from fastapi import Depends, Request

from .. import config as configuration
from .. import service
from .access import guard


def get_config(request: Request) -> configuration.Config:
    return request.app.state.config


def get_service(request: Request) -> service.Service:
    return request.app.state.service


Config = Annotated[configuration.Config, Depends(get_config)]
Service = Annotated[service.Service, Depends(get_service)]
# Who may call a route is access.py's (its ROUTES table, checked by the app-wide guard): naming these on a
# route changes nothing (the guard runs once per request).
Auth = AwtrixAuth = Depends(guard)
