"""Pixie's own state in Redis, beside RQ's: job lifecycle records, the
display's ready queue, the render cache, uploads and display control.

Every key pixie writes is named here, so `redis-cli --scan 'pixie:*'` and
this file tell the same story. Each key lives in one of two Redis servers:

- durable (`r`, `[redis] url`, with an fsynced append-only file): what must
  survive a power cut: accepted jobs, their records and uploads, the ready
  queue, what the display plays, settings;
- volatile (`v`, `[redis] volatile_url`, not persisted): what is written per
  frame or re-created after a restart: heartbeat, live preview, now
  playing, display commands, the render cache. A job whose cached frames
  are gone is rendered again.
"""

import hashlib
import json
import time
from dataclasses import dataclass

import redis
import redis.asyncio

from .vocabulary import PRIORITIES, RANK, TERMINAL, State

RECORD_TTL_S = 24 * 3600
BLOB_TTL_S = 3600
HEARTBEAT_TTL_S = 60

# Durable.
READY = "pixie:ready"
SEQ = "pixie:seq"
ACTIVE = "pixie:display:active"
CLAIMED = "pixie:display:claimed"
BRIGHTNESS = "pixie:brightness"  # the base brightness, shown outside night-mode windows
NIGHT_MODE = "pixie:night"  # night mode's windows (JSON), schedule.py reads them
NIGHT_MODE_OFF = "pixie:night:off"  # set: night mode is off, its windows kept for turning it on again
# A brightness set while a window is open: [value, set at]; it expires as that window closes.
MANUAL_BRIGHTNESS = "pixie:brightness:manual"
# Recent job ids scored by arrival, newest kept: what `GET /api/v1/jobs` lists.
JOBS = "pixie:jobs"
QUEUED = "pixie:queued"  # ids of the API's jobs no worker has started yet (timed ones too)
LOST = "pixie:lost"  # job id -> when recovery's sweep first saw it in no queue
JOBS_MAX = 500
RECORD = "pixie:job:"
# The rotation's apps: name -> definition (JSON: content, dwell_s, enabled, position, rev).
APPS = "pixie:apps"
APPS_REV = "pixie:apps:rev"  # every change of an app takes the next number
PINNED = "pixie:apps:pinned"  # the app held on screen, if any
TRANSITION = "pixie:transition"  # the default transition between what the panel shows (JSON)
POWER = "pixie:power"  # "off" while the panel is switched off (dark; jobs and apps play on unseen)
AWTRIX_SETTINGS = "pixie:awtrix:settings"  # AWTRIX's defaults for what its payloads become (JSON)
# The MQTT bridge's Home Assistant discovery topics it left a config on, retained (JSON list): one gone
# from the next discovery (a progress app's number) is emptied, even after the bridge was away.
DISCOVERED = "pixie:mqtt:discovered"
# The library (library.py): per kind ("font", "icon") an index, name -> its metadata (JSON), and each
# file under library_key(kind, name).
LIBRARY = {"font": "pixie:fonts", "icon": "pixie:icons"}
# What a backup holds besides the apps and the library (service/backup.py): the settings a user made, as
# stored. Not MANUAL_BRIGHTNESS (it ends with its night-mode window), nor DISCOVERED (this broker's).
SETTINGS = (PINNED, BRIGHTNESS, NIGHT_MODE, NIGHT_MODE_OFF, TRANSITION, POWER, AWTRIX_SETTINGS)
# Volatile.
STREAM_INDEX = "pixie:streams"
STREAM_BYTES = "pixie:streams:bytes"
CONTROL = "pixie:display:ctl"
HEARTBEAT = "pixie:display:heartbeat"
NOW_PLAYING = "pixie:display:now"
SCREEN = "pixie:display:screen"
LAST_TEXT = "pixie:text:last"  # the last text job's text (Home Assistant's text entity shows it)
SCHEDULER_WAKE = "pixie:scheduler:wake"  # a timed job was accepted: the scheduler looks again
# Render workers -> when each last said it is alive (worker.py): /healthz's and the overview's
# "alive", so that rq's own worker records in the durable Redis can go a day without a write.
WORKERS = "pixie:workers"
# The appliance's events (a Redis stream: job states, what shows, brightness, power, apps), which
# the front doors push to their clients (MQTT's job and state topics); ids are the stream's.
EVENTS = "pixie:events"
EVENTS_MAX = 1000
# The panel's indicators (AWTRIX's three corner pixels): number -> JSON {color, blink_ms, fade_ms}.
INDICATORS = "pixie:display:indicators"
AWTRIX_MESSAGES = "pixie:awtrix:messages"  # AWTRIX commands received since the volatile Redis started
# Live data in apps (live.py): the last value of each topic the enabled apps name (the MQTT bridge
# writes them), a counter every change of one moves on (an app's frames say which values they show),
# the topics the broker refused to subscribe to (topic -> why), and the apps whose values changed
# (a list the render workers take from: no job in the durable Redis per value).
LIVE_VALUES = "pixie:live:values"
LIVE_SEQ = "pixie:live:seq"
LIVE_REFUSED = "pixie:live:refused"
LIVE_RENDERS = "pixie:live:renders"
# Ready-queue scores: rank * RANK_SCALE + arrival sequence.
RANK_SCALE = 1e13


def record_key(job_id: str) -> str:
    return f"{RECORD}{job_id}"


def stream_key(digest: str) -> str:
    return f"pixie:stream:{digest}"


def blob_key(digest: str) -> str:
    return f"pixie:blob:{digest}"


def name_key(name: str) -> str:
    return f"pixie:name:{name}"


def app_media_key(name: str) -> str:
    """Durable: an image or animation app's file, kept as long as the app."""
    return f"pixie:app:{name}:media"


def app_frames_key(name: str) -> str:
    """Volatile: an app's rendered stream and the rev it was rendered from (a hash)."""
    return f"pixie:app:{name}:frames"


def library_key(kind: str, name: str) -> str:
    """Durable: a library file's bytes (an icon's name may hold one folder: pixie:icon:8x8/8544)."""
    return f"pixie:{kind}:{name}"


def connect(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, health_check_interval=30)


def connect_volatile(config) -> redis.Redis:
    """The volatile Redis of a `[redis]` config section (the durable one if none is set)."""
    return connect(_volatile_url(config))


def connect_volatile_async(config) -> redis.asyncio.Redis:
    """The same Redis for asyncio: whoever waits on the events without holding a thread (the web's
    stream). No read timeout (redis-py's default is 5 s): its XREADs block as long as they ask."""
    return redis.asyncio.Redis.from_url(_volatile_url(config), health_check_interval=30, socket_timeout=None)


def _volatile_url(config) -> str:
    return config.volatile_url or config.url


# A state change that never leaves a terminal state (a job canceled while it
# rendered stays canceled; ended twice, as a dismissal is by the service and
# the display, only the first counts: one record, one event) and, with a
# score, queues the job for display; a
# job queued again (rq retrying it) is watched by recovery again.
# A job done or canceled lets its upload go (the last job using it frees it), in the same script so that a
# new upload of the same file cannot slip between the count and the delete. Not on failing: a failed job may
# be requeued. The upload's keys come from the record, not KEYS: one Redis, never a cluster.
# KEYS: record, READY, QUEUED; ARGV: state, now, score or "", ttl, field, value...
_SET_STATE = f"""
local current = redis.call('HGET', KEYS[1], 'state')
if {" or ".join(f"current == '{state}'" for state in TERMINAL)} then
  return false
end
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'updated', ARGV[2], unpack(ARGV, 5))
local job_id = string.sub(KEYS[1], {len(RECORD) + 1})
if ARGV[1] ~= '{State.QUEUED}' then
  redis.call('SREM', KEYS[3], job_id)
else
  redis.call('SADD', KEYS[3], job_id)
end
redis.call('EXPIRE', KEYS[1], ARGV[4])
local blob = redis.call('HGET', KEYS[1], 'blob')
if blob and blob ~= '' and (ARGV[1] == '{State.DONE}' or ARGV[1] == '{State.CANCELED}') then
  if redis.call('DECR', '{blob_key("")}' .. blob .. ':refs') <= 0 then
    redis.call('DEL', '{blob_key("")}' .. blob, '{blob_key("")}' .. blob .. ':refs')
  end
end
if ARGV[3] ~= '' then
  redis.call('ZADD', KEYS[2], ARGV[3], job_id)
end
return ARGV[1]
"""

_POP_READY = f"""
local popped = redis.call('ZPOPMIN', KEYS[1])
if #popped == 0 then
  return false
end
redis.call('SET', KEYS[2], cjson.encode({{popped[1], math.floor(tonumber(popped[2]) / {RANK_SCALE:.0f})}}))
return popped[1]
"""

# Keys kept at least ARGV[1] seconds more (a longer time left stays): an upload shared by jobs lives as
# long as the longest-lived of them.
_LIVE_AT_LEAST = """
for _, key in ipairs(KEYS) do
  if redis.call('TTL', key) < tonumber(ARGV[1]) then redis.call('EXPIRE', key, ARGV[1]) end
end
"""

# Index a stream just stored (ARGV[1]: its size), then drop least-recently-used ones until the cache fits.
_PUT_STREAM = """
redis.call('ZADD', KEYS[2], ARGV[3], KEYS[1])
redis.call('HSET', KEYS[3], KEYS[1], ARGV[1])
local total = 0
for _, size in ipairs(redis.call('HVALS', KEYS[3])) do total = total + tonumber(size) end
while total > tonumber(ARGV[2]) and redis.call('ZCARD', KEYS[2]) > 1 do
  local oldest = redis.call('ZPOPMIN', KEYS[2])[1]
  if oldest == KEYS[1] then
    redis.call('ZADD', KEYS[2], ARGV[3], KEYS[1])
    break
  end
  total = total - tonumber(redis.call('HGET', KEYS[3], oldest) or 0)
  redis.call('HDEL', KEYS[3], oldest)
  redis.call('DEL', oldest)
end
return total
"""


def _fields(fields: dict) -> list:
    out = []
    for name, value in fields.items():
        out += [name, "" if value is None else str(value)]
    return out


def set_state(r: redis.Redis, v: redis.Redis, job_id: str, state: str, score: float | None = None, **fields) -> bool:
    """Move a job to `state` unless it has already ended; True if it moved (and then an event says so)."""
    args = [state, time.time(), "" if score is None else score, RECORD_TTL_S, *_fields(fields)]
    result = r.eval(_SET_STATE, 3, record_key(job_id), READY, QUEUED, *args)
    moved = (result.decode() if isinstance(result, bytes) else result) == state
    if moved:
        try:
            job_event(v, job_id, state, fields.get("reason"))
        except redis.RedisError:
            pass  # the state has moved all the same: a listener that missed it reads the job's record
    return moved


def job_event(v: redis.Redis, job_id: str, state: str, reason: str | None = None) -> None:
    event(v, "job", id=job_id, state=state, **({"reason": reason} if reason else {}))


def event(v: redis.Redis, kind: str, **data) -> None:
    """Tell whoever listens (volatile: a listener that was away reads the appliance's state instead)."""
    v.xadd(EVENTS, {"kind": kind, "data": json.dumps(data)}, maxlen=EVENTS_MAX, approximate=True)


def events_after(v: redis.Redis, last_id: str, block_ms: int) -> list[tuple[str, str, dict]]:
    """(id, kind, data) of the events after `last_id` ("$": from now), waiting up to `block_ms` for one."""
    return decode_events(v.xread({EVENTS: last_id}, block=block_ms, count=100))


def decode_events(answer) -> list[tuple[str, str, dict]]:
    """An XREAD's answer on EVENTS as (id, kind, data)."""
    return [
        (event_id.decode(), fields[b"kind"].decode(), json.loads(fields[b"data"]))
        for _, entries in answer or []
        for event_id, fields in entries
    ]


def last_event_id(v: redis.Redis) -> str:
    """The newest event's id ("0-0" before any): read from there on to miss nothing after now."""
    last = v.xrevrange(EVENTS, count=1)
    return last[0][0].decode() if last else "0-0"


def create(p: redis.client.Pipeline, job_id: str, delay_s: float | None = None, **fields) -> None:
    """The record of a job the API accepted, queued until a worker takes it (or scheduled, `delay_s`
    until its time): written by the pipeline (MULTI) that enqueues it, so both or neither land."""
    now = time.time()
    scheduled = delay_s is not None
    state = State.SCHEDULED if scheduled else State.QUEUED
    ttl = RECORD_TTL_S + int(delay_s or 0)
    p.hset(record_key(job_id), mapping={"state": state, "created": now, **_mapping(fields)})
    p.expire(record_key(job_id), ttl)
    if fields.get("blob"):  # its upload lives until the job ends (set_state), at most as long as its record
        p.eval(_LIVE_AT_LEAST, 2, blob_key(fields["blob"]), blob_key(fields["blob"]) + ":refs", ttl)
    p.sadd(QUEUED, job_id)  # recovery watches it (a timed one from when its scheduler enqueues it)
    _index(p, job_id, now)


def index(r: redis.Redis, job_id: str, when: float) -> None:
    """List a job among the recent ones (jobs enqueued straight into RQ too); keeps the first time seen."""
    with r.pipeline() as p:
        _index(p, job_id, when)
        p.execute()


def _index(p, job_id: str, when: float) -> None:
    p.zadd(JOBS, {job_id: when}, nx=True)
    p.zremrangebyrank(JOBS, 0, -JOBS_MAX - 1)


def recent(r: redis.Redis, count: int = JOBS_MAX) -> list[tuple[str, float]]:
    """(job id, arrival time) of the recent jobs, newest first."""
    return [(m.decode(), t) for m, t in r.zrevrange(JOBS, 0, count - 1, withscores=True)]


def forget(r: redis.Redis, job_id: str) -> None:
    r.zrem(JOBS, job_id)


def reset(r: redis.Redis, job_id: str) -> None:
    """A failed job sent round again: queued, its outcome forgotten (leaves a terminal state on purpose)."""
    with r.pipeline() as p:
        p.hset(record_key(job_id), mapping={"state": State.QUEUED, "updated": time.time()})
        p.hdel(record_key(job_id), "reason", "started", "finished", "stream", "frames")
        p.expire(record_key(job_id), RECORD_TTL_S)
        p.sadd(QUEUED, job_id)
        p.execute()


def _mapping(fields: dict) -> dict:
    return {k: "" if v is None else v for k, v in fields.items()}


def get(r: redis.Redis, job_id: str) -> dict:
    return {k.decode(): v.decode() for k, v in r.hgetall(record_key(job_id)).items()}


def states(r: redis.Redis, job_ids: list[str]) -> list[str | None]:
    """The recorded state of each job (None: no record)."""
    with r.pipeline(transaction=False) as p:
        for job_id in job_ids:
            p.hget(record_key(job_id), "state")
        return [state.decode() if state else None for state in p.execute()]


def score(priority: str, seq: int) -> float:
    """Ready-queue order: priority first, then arrival."""
    return RANK[priority] * RANK_SCALE + seq


def make_ready(r: redis.Redis, v: redis.Redis, job_id: str, priority: str, **fields) -> bool:
    """Hand a rendered job to the display, and wake it (it blocks on CONTROL)."""
    moved = set_state(r, v, job_id, State.READY, score(priority, r.incr(SEQ)), **fields)
    if moved:
        send(v, ready=job_id)
    return moved


def requeue_front(r: redis.Redis, v: redis.Redis, job_id: str, priority: str) -> bool:
    """Put a job the display had started back at the head of its priority."""
    return set_state(r, v, job_id, State.READY, score(priority, 0))


def pop_ready(r: redis.Redis) -> str | None:
    """The display's next job, claimed in the same step: until `release` the
    claim keeps it from being lost by a display or Redis dying before it starts."""
    popped = r.eval(_POP_READY, 2, READY, CLAIMED)
    return popped.decode() if popped else None


def release(r: redis.Redis) -> None:
    """The claimed job has started (it is in ACTIVE) or has ended."""
    r.delete(CLAIMED)


def reclaim(r: redis.Redis, v: redis.Redis) -> None:
    """A claim left by an interrupted start: the job goes back to the head of its priority."""
    if claimed := get_json(r, CLAIMED):
        job_id, rank = claimed
        requeue_front(r, v, job_id, PRIORITIES[rank])
        release(r)


def top_rank(r: redis.Redis) -> int | None:
    top = r.zrange(READY, 0, 0, withscores=True)
    return int(top[0][1] // RANK_SCALE) if top else None


def unready(r: redis.Redis, job_id: str) -> bool:
    """Take a job off the ready queue; True if it was there."""
    return bool(r.zrem(READY, job_id))


def digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()


def put_stream(v: redis.Redis, key: str, blob: bytes, max_bytes: int) -> None:
    # The blob is SET beside the script, in one transaction, not passed to it: every megabyte a script
    # is given is copied into Lua's heap, which the volatile Redis kept (~15 MB more RSS over 100 jobs).
    with v.pipeline() as p:
        p.set(key, blob)
        p.eval(_PUT_STREAM, 3, key, STREAM_INDEX, STREAM_BYTES, len(blob), max_bytes, time.time())
        p.execute()


def touch_stream(v: redis.Redis, key: str) -> bool:
    """Mark a cached stream as just used; False if it is not cached."""
    return bool(v.zadd(STREAM_INDEX, {key: time.time()}, xx=True, ch=True)) and bool(v.exists(key))


def get_stream(v: redis.Redis, key: str) -> bytes | None:
    return v.get(key)


def whole_stored(r: redis.Redis, job_id: str, key: str) -> None:
    """A job started on its head (frames.Head): its whole stream is stored; from now on its absence means the
    render cache dropped it, not that it is still to come."""
    r.hset(record_key(job_id), mapping={"stream": key, "rest": ""})


def get_stream_range(v: redis.Redis, key: str, start: int, end: int) -> bytes | None:
    """Bytes start..end (inclusive) of a cached stream, fewer or none past its end; None: not cached."""
    with v.pipeline(transaction=False) as p:
        p.exists(key)
        p.getrange(key, start, end)
        cached, data = p.execute()
    return data if cached else None


def media_id(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def put_blob(r: redis.Redis, data: bytes) -> str:
    """Keep an upload for the job(s) that will render it; counted per job. Kept until each has ended (the
    render cache is volatile: a job's frames lost before it plays are rendered from it again); an upload
    that became no job goes after BLOB_TTL_S."""
    sha = media_id(data)
    with r.pipeline() as p:
        p.set(blob_key(sha), data, ex=BLOB_TTL_S, nx=True)  # the same file kept for a job keeps its time
        p.incr(blob_key(sha) + ":refs")
        p.eval(_LIVE_AT_LEAST, 2, blob_key(sha), blob_key(sha) + ":refs", BLOB_TTL_S)
        p.execute()
    return sha


def get_blob(r: redis.Redis, sha: str) -> bytes | None:
    return r.get(blob_key(sha))


def send(v: redis.Redis, **command) -> None:
    """A command for the display process (ready, dismiss, brightness)."""
    v.rpush(CONTROL, json.dumps(command))


def take_commands(v: redis.Redis, wait_s: float) -> list[dict]:
    """Commands for the display: block up to `wait_s` for the first, then take all."""
    first = v.blpop([CONTROL], timeout=wait_s)
    if first is None:
        return []
    with v.pipeline() as p:
        p.lrange(CONTROL, 0, -1)
        p.delete(CONTROL)
        rest, _ = p.execute()
    return [json.loads(c) for c in [first[1], *rest]]


def brightness_settings(r: redis.Redis) -> tuple[int | None, list[dict], list | None]:
    """The base brightness (None: the config's), night mode's windows (none while it is off), a manual
    change in a window."""
    base, night, manual, off = r.mget(BRIGHTNESS, NIGHT_MODE, MANUAL_BRIGHTNESS, NIGHT_MODE_OFF)
    windows = json.loads(night) if night and not off else []
    return (int(base) if base else None, windows, json.loads(manual) if manual else None)


def night_mode(r: redis.Redis) -> tuple[list[dict], bool]:
    """Night mode's windows, kept while it is off, and whether it is on."""
    night, off = r.mget(NIGHT_MODE, NIGHT_MODE_OFF)
    return (json.loads(night) if night else [], not off)


def showing(v: redis.Redis) -> tuple[str | None, str | None]:
    """What the display's heartbeat says is on the panel: the job, and the rotation's app (on screen,
    or under the job); neither while the display is silent."""
    heartbeat = get_json(v, HEARTBEAT) or {}
    return heartbeat.get("playing"), heartbeat.get("app")


def powered(r: redis.Redis) -> bool:
    return r.get(POWER) != b"off"


def get_json(r: redis.Redis, key: str):
    raw = r.get(key)
    return json.loads(raw) if raw else None


def put_json(r: redis.Redis, key: str, value) -> None:
    r.set(key, json.dumps(value))


def indicators(v: redis.Redis) -> dict[str, dict]:
    return {n.decode(): json.loads(d) for n, d in v.hgetall(INDICATORS).items()}


# -- apps -----------------------------------------------------------------------------------------


def get_apps(r: redis.Redis) -> dict[str, dict]:
    """Every app's definition, by name."""
    return {name.decode(): json.loads(raw) for name, raw in r.hgetall(APPS).items()}


def put_app(r: redis.Redis, name: str, definition: dict, media: bytes | None, moved: dict[str, dict]) -> int:
    """Store an app (and its file, if it has one) and the apps it `moved` along; returns its new rev."""
    rev = r.incr(APPS_REV)
    with r.pipeline() as p:
        mapping = {other: json.dumps(d) for other, d in moved.items()}
        p.hset(APPS, mapping={**mapping, name: json.dumps({**definition, "rev": rev})})
        if media is None:
            p.delete(app_media_key(name))
        else:
            p.set(app_media_key(name), media)
        p.execute()
    return rev


# The same version again (a lifetime's new start), unless a newer one came meanwhile.
_TOUCH_APP = """
local stored = redis.call('HGET', KEYS[1], ARGV[1])
if not stored or cjson.decode(stored)['rev'] ~= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
"""


def touch_app(r: redis.Redis, name: str, definition: dict) -> dict:
    """Store an app's definition again, the same version (its `updated` moved on)."""
    r.eval(_TOUCH_APP, 1, APPS, name, definition["rev"], json.dumps(definition))
    return definition


def delete_app(r: redis.Redis, v: redis.Redis, name: str) -> bool:
    with r.pipeline() as p:
        p.hdel(APPS, name)
        p.delete(app_media_key(name))
        unpin(p, name)
        deleted, _, _ = p.execute()
    v.delete(app_frames_key(name))
    return bool(deleted)


def get_app_media(r: redis.Redis, name: str) -> bytes | None:
    return r.get(app_media_key(name))


# Older renders finishing late never replace newer frames: a newer version, or the same one with newer
# live values (LIVE_SEQ when read). 1: a new version; 2: new values of the same; 0: refused.
_PUT_APP_FRAMES = """
local rev = tonumber(redis.call('HGET', KEYS[1], 'rev') or '0')
local live = tonumber(redis.call('HGET', KEYS[1], 'live') or '0')
local new_rev, new_live = tonumber(ARGV[1]), tonumber(ARGV[4])
if new_rev < rev or (new_rev == rev and new_live <= live) then return 0 end
redis.call('HSET', KEYS[1], 'rev', ARGV[1], 'stream', ARGV[2], 'notes', ARGV[3], 'live', ARGV[4])
redis.call('HDEL', KEYS[1], 'failed_rev', 'error')
if new_rev == rev then return 2 end
return 1
"""
NEW_VERSION, NEW_VALUES = 1, 2


def put_app_frames(v: redis.Redis, name: str, rev: int, blob: bytes, notes: dict | None = None, live: int = 0) -> int:
    """`notes`: what the render drew otherwise than asked (a job's record has the same); `live`: the
    LIVE_SEQ of the values it shows. NEW_VERSION, NEW_VALUES or 0 (older than what it has)."""
    return v.eval(_PUT_APP_FRAMES, 1, app_frames_key(name), rev, blob, json.dumps(notes) if notes else "", live)


def app_frames(v: redis.Redis, names: list[str]) -> dict[str, tuple[int, int, bytes]]:
    """The rendered (rev, live, stream) of each of these apps that has frames."""
    with v.pipeline(transaction=False) as p:
        for name in names:
            p.hmget(app_frames_key(name), "rev", "live", "stream")
        found = p.execute()
    return {
        name: (int(rev), int(live or 0), blob)
        for name, (rev, live, blob) in zip(names, found, strict=True)
        if rev and blob
    }


@dataclass(frozen=True)
class AppRender:
    rev: int = 0  # the version its frames are of (0: none yet)
    live: int = 0  # the live values they show (LIVE_SEQ when read; 0: none)
    size: int = 0  # their bytes
    failed_rev: int = 0  # the newest version that could not be rendered, and why
    error: str | None = None
    notes: dict | None = None  # what its render drew otherwise than asked (fallback glyphs)


def app_renders(v: redis.Redis, names: list[str]) -> dict[str, AppRender]:
    """What each of these apps has rendered, without its frames."""
    with v.pipeline(transaction=False) as p:
        for name in names:
            p.hmget(app_frames_key(name), "rev", "live", "failed_rev", "error", "notes")
            p.hstrlen(app_frames_key(name), "stream")
        found = p.execute()
    return {
        name: AppRender(
            int(rev or 0), int(live or 0), size, int(failed or 0), _text(error), json.loads(notes) if notes else None
        )
        for name, (rev, live, failed, error, notes), size in zip(names, found[0::2], found[1::2], strict=True)
    }


def _text(value: bytes | None) -> str | None:
    return value.decode() if value else None


def put_app_error(v: redis.Redis, name: str, rev: int, reason: str) -> None:
    """Version `rev` of an app could not be rendered (its older frames, if any, stay)."""
    v.hset(app_frames_key(name), mapping={"failed_rev": rev, "error": reason})


# -- live data in apps (volatile) ----------------------------------------------------------------

# A topic's value, if it changed: LIVE_SEQ moves on with it. KEYS: LIVE_VALUES, LIVE_SEQ; ARGV: topic, value.
_PUT_LIVE_VALUE = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return redis.call('INCR', KEYS[2])
"""


def put_live_value(v: redis.Redis, topic: str, value: str) -> bool:
    """Keep a topic's last value; True if it changed."""
    return bool(v.eval(_PUT_LIVE_VALUE, 2, LIVE_VALUES, LIVE_SEQ, topic, value))


def live_values(v: redis.Redis, topics: list[str]) -> tuple[dict[str, str], int]:
    """These topics' values (those that have one), and LIVE_SEQ as they were read."""
    with v.pipeline() as p:  # MULTI: the counter of these very values
        p.hmget(LIVE_VALUES, topics)
        p.get(LIVE_SEQ)
        found, seq = p.execute()
    return {t: value.decode() for t, value in zip(topics, found, strict=True) if value is not None}, int(seq or 0)


def live_refused(v: redis.Redis, topics: list[str]) -> dict[str, str]:
    """Of these topics, those the broker refused to subscribe to, and why."""
    found = v.hmget(LIVE_REFUSED, topics) if topics else []
    return {t: reason.decode() for t, reason in zip(topics, found, strict=True) if reason is not None}


def live_subscribed(v: redis.Redis, refused: dict[str, str], granted: list[str]) -> None:
    """The broker's answer to subscriptions: these topics `refused` (topic -> why), these `granted`."""
    with v.pipeline() as p:
        if refused:
            p.hset(LIVE_REFUSED, mapping=refused)
        if granted:
            p.hdel(LIVE_REFUSED, *granted)
        p.execute()


def drop_live(v: redis.Redis, topics: list[str]) -> None:
    """No app reads these topics any more: their values and refusals go."""
    if topics:
        with v.pipeline() as p:
            p.hdel(LIVE_VALUES, *topics)
            p.hdel(LIVE_REFUSED, *topics)
            p.execute()


# Ask for an app's render unless it is asked for already. KEYS: LIVE_RENDERS; ARGV: the app's name.
_ASK_LIVE_RENDER = """
if redis.call('LPOS', KEYS[1], ARGV[1]) then return 0 end
return redis.call('RPUSH', KEYS[1], ARGV[1])
"""


def ask_live_render(v: redis.Redis, name: str) -> None:
    """An app's live values changed: a render worker renders it again (worker.py)."""
    v.eval(_ASK_LIVE_RENDER, 1, LIVE_RENDERS, name)


def take_live_render(v: redis.Redis, wait_s: float) -> str | None:
    """The next app whose live values changed, waiting up to `wait_s` for one."""
    taken = v.blpop([LIVE_RENDERS], timeout=wait_s)
    return taken[1].decode() if taken else None


def pinned(r: redis.Redis) -> str | None:
    name = r.get(PINNED)
    return name.decode() if name else None


def unpin(r: redis.Redis, name: str) -> bool:
    """Unpin `name` if it is the pinned app; True if it was."""
    return bool(r.eval("return redis.call('GET', KEYS[1]) == ARGV[1] and redis.call('DEL', KEYS[1])", 1, PINNED, name))


# -- the library ----------------------------------------------------------------------------------

# Store a file and its metadata unless that would make more than ARGV[4] of its kind (replacing one is
# always allowed): 1 added, 2 replaced, 0 full. KEYS: index, file; ARGV: name, metadata, bytes, max.
_PUT_LIBRARY = """
local exists = redis.call('HEXISTS', KEYS[1], ARGV[1])
if exists == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[4]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3])
return exists + 1
"""


def put_library(r: redis.Redis, kind: str, name: str, meta: dict, data: bytes, max_count: int) -> int:
    """Keep a font or icon: 1 added, 2 replaced, 0 refused (`max_count` of its kind already)."""
    return r.eval(_PUT_LIBRARY, 2, LIBRARY[kind], library_key(kind, name), name, json.dumps(meta), data, max_count)


def library(r: redis.Redis, kind: str) -> dict[str, dict]:
    """Every font's or icon's metadata, by name."""
    return {name.decode(): json.loads(meta) for name, meta in r.hgetall(LIBRARY[kind]).items()}


def library_meta(r: redis.Redis, kind: str, name: str) -> dict | None:
    raw = r.hget(LIBRARY[kind], name)
    return json.loads(raw) if raw else None


def library_files(r: redis.Redis, kind: str, names: list[str]) -> dict[str, bytes]:
    """The files of those of `names` the library has."""
    found = r.mget([library_key(kind, name) for name in names]) if names else []
    return {name: data for name, data in zip(names, found, strict=True) if data is not None}


def delete_library(r: redis.Redis, kind: str, name: str) -> bool:
    with r.pipeline() as p:
        p.hdel(LIBRARY[kind], name)
        p.delete(library_key(kind, name))
        deleted, _ = p.execute()
    return bool(deleted)


# -- backup and restore ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    apps: dict[str, dict]  # name -> definition
    media: dict[str, bytes]  # an image's or animation's app -> its file
    library: dict[str, dict[str, bytes]]  # kind -> name -> file
    settings: dict[str, bytes]  # the SETTINGS that are set (POWER only when off for good: an off `for_s` ends)


def snapshot(r: redis.Redis) -> Snapshot:
    """What a backup holds, as of one moment: read again if an app, the library or a setting changed meanwhile."""

    def read(p: redis.client.Pipeline) -> Snapshot:
        apps = {name.decode(): json.loads(raw) for name, raw in p.hgetall(APPS).items()}
        media = dict(zip(apps, p.mget([app_media_key(name) for name in apps]), strict=True)) if apps else {}
        library = {}
        for kind, index in LIBRARY.items():
            names = sorted(name.decode() for name in p.hkeys(index))
            library[kind] = (
                dict(zip(names, p.mget([library_key(kind, n) for n in names]), strict=True)) if names else {}
            )
        held = {key: value for key, value in zip(SETTINGS, p.mget(SETTINGS), strict=True) if value is not None}
        if p.ttl(POWER) >= 0:
            held.pop(POWER, None)
        p.multi()  # an empty transaction: its EXEC fails if a watched key changed since the reads
        return Snapshot(
            apps,
            {name: data for name, data in media.items() if data is not None},
            {kind: {name: data for name, data in files.items() if data is not None} for kind, files in library.items()},
            held,
        )

    return r.transaction(read, APPS, *LIBRARY.values(), *SETTINGS, value_from_callable=True)


def replace_all(
    r: redis.Redis,
    v: redis.Redis,
    apps: dict[str, tuple[dict, bytes | None]],
    library_files: dict[str, dict[str, tuple[dict, bytes]]],
    held: dict[str, bytes | str],
) -> dict[str, int]:
    """Everything a backup holds replaced at once (one MULTI, retried if an app or the library changed
    meanwhile): `apps` name -> (definition, file), `library_files` kind -> name -> (metadata, file), `held`
    the SETTINGS to set (the others are cleared). Returns each app's rev (new numbers: frames of the old
    apps never pass for theirs)."""
    first = r.incrby(APPS_REV, len(apps)) - len(apps) + 1
    revs = {name: first + i for i, name in enumerate(apps)}
    gone: list[str] = []

    def write(p: redis.client.Pipeline) -> None:
        old_apps = [name.decode() for name in p.hkeys(APPS)]
        old_library = {kind: [name.decode() for name in p.hkeys(index)] for kind, index in LIBRARY.items()}
        gone[:] = [name for name in old_apps if name not in apps]
        p.multi()
        p.delete(APPS, *LIBRARY.values(), *SETTINGS, MANUAL_BRIGHTNESS)
        files = [app_media_key(name) for name in old_apps]
        files += [library_key(kind, name) for kind, names in old_library.items() for name in names]
        if files:
            p.delete(*files)
        for name, (definition, media) in apps.items():
            p.hset(APPS, name, json.dumps({**definition, "rev": revs[name]}))
            if media is not None:
                p.set(app_media_key(name), media)
        for kind, files in library_files.items():
            for name, (meta, data) in files.items():
                p.hset(LIBRARY[kind], name, json.dumps(meta))
                p.set(library_key(kind, name), data)
        if held:
            p.mset(held)

    r.transaction(write, APPS, *LIBRARY.values())
    if gone:
        v.delete(*[app_frames_key(name) for name in gone])
    return revs


def worker_beat(v: redis.Redis, name: str, forget_s: float) -> None:
    """Render worker `name` is alive now; those silent for `forget_s` are dropped (died without a word)."""
    now = time.time()
    p = v.pipeline(transaction=False)
    p.zremrangebyscore(WORKERS, "-inf", f"({now - forget_s}")
    p.zadd(WORKERS, {name: now})
    p.execute()


def worker_gone(v: redis.Redis, name: str) -> None:
    v.zrem(WORKERS, name)


def workers_alive(v: redis.Redis, since: float) -> list[str]:
    """The render workers that said they are alive at `since` or later."""
    return [name.decode() for name in v.zrangebyscore(WORKERS, since, "+inf")]


def wake_scheduler(v: redis.Redis) -> None:
    """Tell the scheduler (scheduler.py) a timed job was accepted; one wake-up is enough."""
    with v.pipeline() as p:
        p.lpush(SCHEDULER_WAKE, 1)
        p.ltrim(SCHEDULER_WAKE, 0, 0)
        p.execute()


def wait_for_wake(v: redis.Redis, seconds: float) -> bool:
    """Block up to `seconds` for a wake-up; True if one came."""
    return v.blpop([SCHEDULER_WAKE], timeout=seconds) is not None
