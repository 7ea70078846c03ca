"""Live events: the appliance's events (store.event) as Server-Sent Events.

Each connection reads the Redis stream itself, from a position of its own, a
batch at a time, with redis.asyncio (a blocked read holds no thread): nothing
queues up on the server for a client, and one that does not read holds up
its own connection only. A position the stream no longer holds (trimmed, or a
volatile Redis that restarted) is told as a `missed` event: on connecting,
the stream goes on from now; later (the client fell that far behind) the
stream ends with it, and the client reconnects from its id.
"""

import re
import time
from contextlib import asynccontextmanager
from typing import Annotated, NamedTuple

import redis
from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from ... import errors, store
from ...service.panel import Panel
from ..deps import Service

BATCH = 100  # events read at a time: the most one connection holds
HEALTH_EVERY_S = 5  # health is no event in the stream: each connection looks this often
STREAM_ID = re.compile(r"\d+-\d+")
BEFORE_ANY = "0-0"  # the position in a stream still empty: nothing before it to miss


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.events = store.connect_volatile_async(app.state.config.redis)
    yield
    await app.state.events.aclose()


router = APIRouter(lifespan=lifespan)


class Start(NamedTuple):
    position: str
    missed: str | None  # why the events after the client's last one are not all there


async def start(
    request: Request,
    last_event_id: Annotated[str | None, Header(description="the id of the last event this client got")] = None,
    resume: Annotated[
        str | None, Query(alias="last_event_id", description="the same, for a client without headers")
    ] = None,
) -> Start:
    """Where the connection reads from, fixed before the answer starts (so a client that has its
    answer misses nothing after it): after the client's last event, else from now."""
    v = request.app.state.events
    given = last_event_id or resume
    if given and STREAM_ID.fullmatch(given) and await v.xrange(store.EVENTS, given, given):
        return Start(given, None)
    newest = await _newest(v)
    if given:
        return Start(newest, f"the events after {given} are no longer held (the last {store.EVENTS_MAX} or so are)")
    return Start(newest, None)


@router.get("/api/v1/events", response_class=EventSourceResponse)
async def events(
    request: Request,
    service: Service,
    begin: Annotated[Start, Depends(start)],
    job: Annotated[str | None, Query(description="only this job's `job` events (and `missed`)")] = None,
):
    """What happens on the appliance as it happens (`text/event-stream`): `job`, `showing`, `panel`,
    `apps` (with the stream's ids), `health` as it changes, `missed` when events were lost."""
    v = request.app.state.events
    position = begin.position
    if begin.missed:
        yield _missed(begin.missed, position)
    health = None if job else await run_in_threadpool(_health, service.panel)
    due = time.monotonic() + HEALTH_EVERY_S
    while True:
        try:
            held, batch = await _read(v, position)
        except redis.RedisError as e:
            yield _missed(f"the event stream is unavailable: {e}")
            return
        if not held:
            reason = f"this client fell behind: the events after {position} were dropped before it read them"
            yield _missed(reason, await _newest(v))
            return
        for event_id, kind, data in batch:
            position = event_id
            if job is None or (kind == "job" and data["id"] == job):
                yield ServerSentEvent(id=event_id, event=kind, data=data)
        if health is not None and time.monotonic() >= due:
            due = time.monotonic() + HEALTH_EVERY_S
            now = await run_in_threadpool(_health, service.panel)
            if now != health:
                health = now
                yield ServerSentEvent(event="health", data={"health": health})


async def _read(v, position: str) -> tuple[bool, list[tuple[str, str, dict]]]:
    """Whether the stream still holds `position`, and up to BATCH events after it (waiting up to
    HEALTH_EVERY_S for one), in one round trip."""
    async with v.pipeline(transaction=False) as p:
        p.xrange(store.EVENTS, position, position)
        p.xread({store.EVENTS: position}, block=HEALTH_EVERY_S * 1000, count=BATCH)
        held, answer = await p.execute()
    return position == BEFORE_ANY or bool(held), store.decode_events(answer)


async def _newest(v) -> str:
    last = await v.xrevrange(store.EVENTS, count=1)
    return last[0][0].decode() if last else BEFORE_ANY


def _missed(reason: str, resume_at: str | None = None) -> ServerSentEvent:
    """Events were lost: read the state again. Its id (if any) is where a reconnection goes on from."""
    return ServerSentEvent(id=resume_at, event="missed", data={"reason": reason})


def _health(panel: Panel) -> str:
    """The word GET /api/v1/state and MQTT's state say it in."""
    try:
        return panel.state().health
    except errors.Unavailable:
        return "redis down"
