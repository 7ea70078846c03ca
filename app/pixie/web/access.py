"""Who may do what over HTTP, in one place: the tokens and their scopes, the scope each route needs
(ROUTES), the rate limit on calls that change something, and the audit line each of those leaves.

`guard` runs before every route (an app-wide dependency); `Audit` wraps the whole app (a middleware),
so a refusal by the allow-list, the guard or the route is logged the same way.
"""

import base64
import hashlib
import hmac
import logging
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum

from fastapi import Request
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import BaseRoute

from .. import awtrix
from .. import config as configuration
from .allow import within
from .problems import HTTPProblem

audit_log = logging.getLogger("pixie.audit")


class Scope(IntEnum):
    """What a token may do; each scope lets in what the ones below it do."""

    PUBLIC = 0  # no token needed, ever
    READ = 1
    PUSH = 2
    ADMIN = 3


OPEN, READ, PUSH, ADMIN = Scope.PUBLIC, Scope.READ, Scope.PUSH, Scope.ADMIN
ANY = "*"  # any method (AWTRIX takes some commands on GET too)
# The scope every route needs, by its path as declared and method: the one table (tests/test_security.py
# holds it to the app's routes both ways). A route missing here needs admin.
ROUTES: dict[str, dict[str, Scope]] = {
    "/": {"GET": OPEN},
    "/healthz": {"GET": OPEN},
    "/api/v1/info": {"GET": OPEN},
    "/api/v1/whoami": {"GET": OPEN},
    "/api/v1/queue": {"GET": READ},
    "/api/v1/inputs": {"GET": READ},
    "/api/v1/events": {"GET": READ},
    "/api/v1/jobs": {"GET": READ, "POST": PUSH},
    "/api/v1/jobs/{job_id}": {"GET": READ, "DELETE": PUSH},
    "/api/v1/jobs/{job_id}/requeue": {"POST": PUSH},
    "/pixie/queue": {"GET": PUSH, "POST": PUSH},
    "/api/v1/apps": {"GET": READ},
    # Deleting apps wipes the rotation: admin's.
    "/api/v1/apps/{name}": {"GET": READ, "PUT": PUSH, "DELETE": ADMIN},
    "/api/v1/apps/{name}/pin": {"POST": PUSH, "DELETE": PUSH},
    "/api/v1/rotation/next": {"POST": PUSH},
    "/api/v1/rotation/previous": {"POST": PUSH},
    "/api/v1/screen.png": {"GET": READ},
    "/api/v1/state": {"GET": READ},
    "/api/v1/power": {"GET": READ, "PUT": ADMIN},
    "/api/v1/brightness": {"GET": READ, "PUT": ADMIN},
    "/api/v1/schedule": {"GET": READ, "PUT": ADMIN},
    "/api/v1/transition": {"GET": READ, "PUT": ADMIN},
    "/api/v1/fonts": {"GET": READ},
    "/api/v1/fonts/{name}": {"GET": READ, "PUT": ADMIN, "DELETE": ADMIN},
    "/api/v1/icons": {"GET": READ},
    "/api/v1/icons/{name:path}": {"GET": READ, "PUT": ADMIN, "DELETE": ADMIN},
    # A backup holds every setting and upload; a restore replaces them.
    "/api/v1/backup": {"GET": ADMIN},
    "/api/v1/restore": {"POST": ADMIN},
    # AWTRIX's paths (routers/awtrix.py): its reads, what it shows, and its device's settings.
    **{f"/api/{read}": {"GET": READ} for read in ("stats", "loop", "screen", "effects", "transitions")},
    "/api/settings": {"GET": READ, "POST": ADMIN},
    **{
        f"/api/{command}": {"POST": PUSH}
        for command in ("notify", "custom", "previousapp", "switch", "sound", "rtttl", *awtrix.INDICATORS)
    },
    "/api/notify/dismiss": {ANY: PUSH},
    "/api/nextapp": {ANY: PUSH},
    "/api/power": {"POST": ADMIN},
    "/api/sleep": {"POST": ADMIN},
    "/api/reboot": {ANY: ADMIN},
}
EVENTS = "/api/v1/events"  # EventSource sends no headers: its token may come as ?access_token=
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
MAX_BUCKETS = 10_000  # clients and tokens the rate limit remembers at once (full buckets are forgotten first)


def declared(routes) -> list[tuple[str, str, BaseRoute]]:
    """(method, path as declared with its router's prefix, route) of every API route (not /docs, /static)."""
    found = []
    for context in iter_route_contexts(routes):
        if isinstance(context.original_route, APIRoute):
            found += [(method, context.path, context.original_route) for method in sorted(context.methods)]
    return found


def required(method: str, path: str) -> Scope:
    """The scope a route (its declared path) needs for this method."""
    methods = ROUTES.get(path, {})
    return methods.get("GET" if method == "HEAD" else method, methods.get(ANY, ADMIN))


def digest(token: str) -> str:
    """How `[web] tokens` holds a token: sha256, hex (what `printf %s TOKEN | sha256sum` prints)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Token:
    name: str
    scope: Scope
    sha256: str


class Access:
    """One web process's tokens, and its rate limit's buckets."""

    def __init__(self, config: configuration.Config, routes):
        web = config.web
        # Each route's path with its router's prefix, by the route the request's scope names.
        self.paths = {id(route): path for _, path, route in declared(routes)}
        self.awtrix_user = config.awtrix.user
        named = [configuration.NAMED_TOKEN.fullmatch(entry).groups() for entry in web.tokens]
        self.tokens = [Token(name, Scope[scope.upper()], sha256) for name, scope, sha256 in named]
        if web.token:  # the single token of old: admin
            self.tokens.append(Token("default", ADMIN, digest(web.token)))
        # Reads stay open unless named tokens are set (with web.token alone, as before them).
        self.reads_open = not web.tokens
        self.exempt = configuration.networks(web.rate_exempt)
        self.rate_per_s = web.rate_per_min / 60
        self.burst = web.rate_burst
        self.buckets: dict[str, tuple[float, float]] = {}  # key -> (calls left, when counted)

    def identify(self, request: Request) -> tuple[bool, Token | None]:
        """Whether a token was presented, and the known token it is (None: unknown). Bearer; Basic (AWTRIX
        clients) with awtrix.user or the token's name as the user; for the event stream ?access_token=."""
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        user = None
        if scheme.lower() == "bearer":
            given = credentials.strip()
        elif scheme.lower() == "basic":
            try:
                user, _, given = base64.b64decode(credentials, validate=True).decode().partition(":")
            except ValueError:
                given = ""
        elif scheme:
            given = ""  # a scheme not spoken here: presented, and unknown
        elif self.path(request) == EVENTS:
            given = request.query_params.get("access_token", "")
            if not given:
                return False, None
        else:
            return False, None
        return True, self.known(given, user)

    def path(self, request: Request) -> str:
        """The path the request's route was declared with."""
        route = request.scope["route"]
        return self.paths.get(id(route), route.path)

    def known(self, given: str, user: str | None = None) -> Token | None:
        """The token whose hash `given` has, compared in constant time with every one."""
        found = None
        presented = digest(given).encode()
        for token in self.tokens:
            if hmac.compare_digest(presented, token.sha256.encode()):
                found = token
        if found and user is not None and user not in (self.awtrix_user, found.name):
            return None
        return found

    def limit(self, keys: list[str], client: str | None) -> float:
        """Take one call from each key's bucket; 0.0 if they all had one, else the seconds until they do
        (nothing taken)."""
        if within(client, self.exempt):
            return 0.0
        now = time.monotonic()
        levels = {}
        for key in keys:
            left, then = self.buckets.get(key, (self.burst, now))
            levels[key] = min(self.burst, left + (now - then) * self.rate_per_s)
        waits = [(1 - level) / self.rate_per_s for level in levels.values() if level < 1]
        if waits:
            return max(waits)
        for key, level in levels.items():
            self.buckets[key] = (level - 1, now)
        if len(self.buckets) > MAX_BUCKETS:  # those full again hold nothing worth remembering
            rate = self.rate_per_s
            full = [key for key, (left, then) in self.buckets.items() if left + (now - then) * rate >= self.burst]
            for key in full:
                del self.buckets[key]
        return 0.0


async def guard(request: Request) -> None:
    """Every route's check (in the event loop: the buckets need no lock). 401: a token needed and none, or an
    unknown one, given; 403: a token without the scope; 429: past the rate limit."""
    access: Access = request.app.state.access
    path = access.path(request)
    need = required(request.method, path)
    presented, token = access.identify(request)
    request.state.token = token.name if token else None
    request.state.need = need
    guarded = access.tokens and (need > READ or (need == READ and not access.reads_open))
    if guarded and token is None:
        why = "an unknown API token" if presented else "no API token"
        how = "Authorization: Bearer <token>"
        if _awtrix(path):
            how += f", or Basic auth as {access.awtrix_user!r}"
            challenge = {"WWW-Authenticate": 'Basic realm="pixie"'}
        else:
            challenge = None
        raise HTTPProblem(401, f"missing or wrong API token: {why} ({how})", challenge)
    if guarded and token.scope < need:
        has, needs = token.scope.name.lower(), need.name.lower()
        raise HTTPProblem(403, f"token {token.name!r} has the {has} scope; this needs {needs}")
    if need >= PUSH:
        client = request.client.host if request.client else None
        keys = [f"client {client}"] + ([f"token {token.name}"] if token else [])
        wait = access.limit(keys, client)
        if wait:
            per = f"{request.app.state.config.web.rate_per_min} per minute, bursts of {access.burst}"
            who = f"token {token.name!r} and client {client}" if token else f"client {client}"
            raise HTTPProblem(
                429,
                f"too many calls that change something from {who} ({per}): retry in {math.ceil(wait)} s",
                {"Retry-After": str(math.ceil(wait))},
            )


def _awtrix(path: str) -> bool:
    return path.startswith("/api/") and not path.startswith("/api/v1/")


def caller(request: Request) -> tuple[str | None, Scope]:
    """The presented token's name and what the caller may do (the guard has run)."""
    access: Access = request.app.state.access
    name = request.state.token
    if not access.tokens:
        return None, ADMIN  # nothing configured: everyone may do everything
    if name is not None:
        return name, next(t.scope for t in access.tokens if t.name == name)
    return None, READ if access.reads_open else OPEN


class Audit:
    """ASGI middleware: one line per call that changes something (its route needs push or admin; with no
    route, any method but GET/HEAD/OPTIONS) to the `pixie.audit` logger: time, token name, client, method,
    path (no query: it is no place for secrets, nor is the log), status."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        state = scope.setdefault("state", {})
        status = 500  # what the client gets if the app fails before answering

        async def answering(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, answering)
        finally:
            need = state.get("need")
            if (need is None and scope["method"] not in SAFE_METHODS) or (need is not None and need >= PUSH):
                client = scope.get("client")
                audit_log.info(
                    "time=%s token=%s client=%s method=%s path=%s status=%d",
                    datetime.now(UTC).isoformat(timespec="milliseconds"),
                    state.get("token") or "-",
                    client[0] if client else "-",
                    scope["method"],
                    scope["path"].encode("unicode_escape").decode(),  # one line, whatever the path decoded to
                    status,
                )
