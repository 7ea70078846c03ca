"""The HTTP API: a thin front door over the job service.

`create_app` wires it: the service and config in the app's state, one
exception handler per kind of refusal (problems.py), the routers by area
(jobs, apps, panel, library, backup, system, events, AWTRIX's), the OpenAPI
adjustments, the client allow-list, and who may do what (access.py: tokens and scopes, the rate limit,
the audit log).
"""

import logging

import uvicorn
from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from .. import config as configuration
from .. import store
from ..service import Service
from . import access, openapi, problems
from .allow import AllowList
from .routers import apps, awtrix, backup, events, jobs, library, panel, system

__all__ = ["AllowList", "create_app", "main"]


def create_app(config: configuration.Config) -> FastAPI:
    # Every route passes the guard: the scope it needs (access.ROUTES), the token's, the rate limit.
    description = "An LED-matrix display appliance's job queue."
    app = FastAPI(title="Pixie", version="1", description=description, dependencies=[Depends(access.guard)])
    app.state.config = config
    app.state.service = Service(store.connect(config.redis.url), config, store.connect_volatile(config.redis))
    routers = [jobs.router, apps.router, panel.router, library.router, backup.router, events.router, system.router]
    if config.awtrix.enabled:
        routers.append(awtrix.router)
    problems.install(app, routers)
    for router in routers:
        app.include_router(router)
    app.state.access = access.Access(config, app.routes)
    app.mount("/static", StaticFiles(directory=system.STATIC), name="static")
    openapi.install(app, jobs.DEMO_RANGE)
    if config.web.allow:
        app.add_middleware(AllowList, allow=config.web.allow)
    app.add_middleware(access.Audit)  # outermost: the allow-list's refusals are logged too
    return app


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(name)s %(levelname)s %(message)s")
    config = configuration.load()
    cert, key = configuration.tls_files(config.web) or (None, None)
    # No access log: the page polls the live preview several times a second, and every line
    # would be a journal write on the SD card. The job service logs one line per job instead.
    # timeout_graceful_shutdown: an open event stream never ends by itself; without it a stop waits for
    # every page and `pixie wait` to go away (systemd's 90 s, then SIGKILL). They reconnect and resume.
    uvicorn.run(
        create_app(config),
        host=config.web.host,
        port=config.web.port,
        log_level="info",
        access_log=False,
        timeout_graceful_shutdown=2,
        ssl_certfile=cert,  # set: HTTPS only on this port
        ssl_keyfile=key,
    )
