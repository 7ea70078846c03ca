"""Every refusal in the API's one shape, `{"error": reason}`, with its status code.

Domain errors from the job service map to codes here and nowhere else; HTTP's
own refusals (a malformed body, a missing token) are `HTTPProblem`s.
"""

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from .. import errors
from .. import spec as specs

# Most specific first: TooLarge and Unsupported are kinds of Invalid.
STATUS = (
    (errors.TooLarge, 413),
    (errors.Unsupported, 415),
    (errors.Invalid, 422),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.Unavailable, 503),
    (errors.Busy, 429),
)


class Error(BaseModel):
    error: str = Field(description="what was wrong, for a person")


# The refusals a route may answer with, for the OpenAPI document.
RESPONSES = {code: {"model": Error} for code in (400, 401, 403, 404, 409, 413, 415, 422, 429)}


class HTTPProblem(Exception):
    """A refusal that only HTTP has (a body it cannot parse, a missing token)."""

    def __init__(self, status: int, message: str, headers: dict | None = None):
        self.status = status
        self.message = message
        self.headers = headers


def status_of(error: errors.PixieError) -> int:
    return next(code for kind, code in STATUS if isinstance(error, kind))


def install(app: FastAPI, routers: list[APIRouter]) -> None:
    """The handlers; `routers` are the app's, whose routes say which methods a path has."""

    @app.exception_handler(HTTPProblem)
    async def http_problem(_, exc: HTTPProblem):
        return JSONResponse({"error": exc.message}, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(errors.PixieError)
    async def refused(_, exc: errors.PixieError):
        return JSONResponse({"error": str(exc)}, status_code=status_of(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(_, exc: RequestValidationError):
        # A JSON body's fields are named as they are in it ("brightness", not "body.brightness").
        found = [{**e, "loc": e["loc"][1:] if e["loc"][:1] == ("body",) else e["loc"]} for e in exc.errors()]
        return JSONResponse({"error": specs.SpecError(found).args[0]}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        """Starlette's own 4xx (unknown path, wrong method, unparsable body) in the API's {"error"} shape."""
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # every method the path has, not just those of the first route that matched
            methods = set()
            for route in (route for router in routers for route in router.routes):
                if route.matches(request.scope)[0] != Match.NONE:
                    methods |= getattr(route, "methods", None) or set()
            if methods:
                headers["Allow"] = ", ".join(sorted(methods))
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=headers)
