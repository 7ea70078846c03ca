"""AWTRIX 3's HTTP API on its own paths (`/api/notify`, `/api/custom?name=`, ...), over awtrix.py.

Left out of the OpenAPI document: AWTRIX's documentation is its contract,
and its bodies are AWTRIX's loose JSON, not Pixie's models.
"""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from ... import awtrix
from ..bodies import read_body
from ..deps import Config, Service

router = APIRouter(prefix="/api", include_in_schema=False)
# AWTRIX takes these on any method (a browser's GET works); the other commands on POST.
ANY_METHOD = ("notify/dismiss", "nextapp", "reboot")
READS = {
    "stats": awtrix.stats,
    "loop": awtrix.loop,
    "screen": awtrix.screen,
    "settings": awtrix.settings,
    "effects": awtrix.effects,
    "transitions": awtrix.transition_names,
}


def _answer(value) -> Response:
    return PlainTextResponse(value) if value == awtrix.OK else JSONResponse(value)


def _command(command: str):
    async def carry_out(request: Request, service: Service, config: Config) -> Response:
        body = await read_body(request, config.web.max_body_bytes)
        name = request.query_params.get("name")
        return _answer(await run_in_threadpool(awtrix.run, service, command, body, name))

    return carry_out


def _read(read):
    def answer(service: Service) -> Response:
        return JSONResponse(read(service))

    return answer


for _name, _read_it in READS.items():
    router.add_api_route(f"/{_name}", _read(_read_it), methods=["GET"])
for _name in ("custom", *(c for c in awtrix.COMMANDS if "<" not in c)):
    _methods = ["GET", "POST", "PUT", "DELETE"] if _name in ANY_METHOD else ["POST"]
    router.add_api_route(f"/{_name}", _command(_name), methods=_methods)
