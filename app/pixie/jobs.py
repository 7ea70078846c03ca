"""RQ job functions: the render workers' whole job.

Any project can enqueue these by dotted path with plain JSON arguments,
without importing pixie:

    Queue("default", connection=r, serializer=JSONSerializer).enqueue(
        "pixie.jobs.show_text", text="hello", color="#ff8800")

The queue is the priority (`high`, `default`, `low`). A job renders its
frames (or finds them in the cache), stores the stream and hands it to the
display process; its RQ result is a small summary.
"""

import base64
import binascii
import functools
import json
import logging
import time

from rq import get_current_job

from . import config as configuration
from . import live, render, store, stream
from . import spec as specs
from .display.playback import play_length
from .render import fonts, kinds
from .render.frames import Frames
from .service import library
from .vocabulary import Kind, State

log = logging.getLogger("pixie.jobs")


@functools.cache
def settings() -> configuration.Config:
    return configuration.load()


@functools.cache
def _volatile(url: str):
    return store.connect(url)


def volatile(r):
    """The volatile Redis (render cache, display commands); `r`, the queues' Redis, if none is set."""
    url = settings().redis.volatile_url
    return _volatile(url) if url else r


def show_text(**options) -> dict:
    return run("text", options)


def show_image(**options) -> dict:
    return run("image", options)


def show_animation(**options) -> dict:
    return run("animation", options)


def show_fill(**options) -> dict:
    return run("fill", options)


def clear(**options) -> dict:
    return run("clear", options)


def show_pattern(**options) -> dict:
    return run("pattern", options)


def demo(**options) -> dict:
    return run("demo", options)


def render_app(name: str, rev: int) -> dict:
    """A rotation app's frames, for the display to swap in; skipped when the app has changed since
    (its newer version has a render of its own on the way: of many quick updates, only the last renders)."""
    return draw_app(get_current_job().connection, name, rev)


def draw_app(r, name: str, rev: int | None = None) -> dict:
    """render_app's work, for version `rev` (None: the app's current one, as a render worker draws an
    app again whose live values changed, worker.py). Its placeholders show the values there are now."""
    definition = store.get_apps(r).get(name)
    if definition is None or (rev is not None and definition["rev"] != rev):
        return {"skipped": "superseded"}
    rev = definition["rev"]
    config = settings()
    v = volatile(r)
    try:
        spec, seq = _filled(v, definition["content"])
    except (live.Invalid, specs.SpecError) as e:  # a number's placeholder shows none that fits: the frames stay
        return _app_failed(v, name, rev, str(e))
    media_bytes = store.get_app_media(r, name) if isinstance(spec, specs.Media) else None
    panel = config.panel
    assets = library.assets(r, spec)
    try:
        rendered = kinds.render(spec, media_bytes, panel.width, panel.height, config.render, time.time(), assets=assets)
    except ValueError as e:  # render's limits; the media was checked when the app was put
        return _app_failed(v, name, rev, str(e))
    blob = stream.pack(panel.width, panel.height, rendered)
    others = sum(x.size for other, x in store.app_renders(v, list(store.get_apps(r))).items() if other != name)
    budget = config.display.apps_max_bytes
    if others + len(blob) > budget:
        reason = (
            f"its {len(rendered)} frames ({len(blob) // 1024} KiB) do not fit: the other apps' take"
            f" {others // 1024} KiB of display.apps_max_bytes ({budget // 1024} KiB)"
        )
        return _app_failed(v, name, rev, reason)
    notes = {"glyphs": glyphs} if (glyphs := _glyphs(spec, panel.height, assets)) else None
    stored = store.put_app_frames(v, name, rev, blob, notes, seq)
    if stored == store.NEW_VERSION:
        store.send(v, apps=name, now=definition["now"])
    elif stored == store.NEW_VALUES:  # swapped in at once, the app keeping its place in its dwell
        store.send(v, apps=name, refresh=True)
        store.event(v, "apps", name=name, live=seq)
    return {"frames": len(rendered)}


def _filled(v, content: dict) -> tuple:
    """The app's spec with its placeholders showing the topics' values now, and LIVE_SEQ as read (0: none).
    Its numbers are filled before it is validated (a progress of 150 is refused as it would be in a job), its
    texts after: the values may make a text longer than one may be written."""
    topics = live.topics(content)
    if not topics:
        return specs.parse(content), 0
    values, seq = store.live_values(v, topics)
    spec = specs.parse(content | live.numbers_filled(content, values))
    changes = live.filled(content, values)
    if isinstance(changes.get("text"), list):
        changes["text"] = [specs.TextPart.model_construct(**part) for part in changes["text"]]
    return spec.model_copy(update=changes), seq


def _app_failed(v, name: str, rev: int, reason: str) -> dict:
    store.put_app_error(v, name, rev, reason)
    log.warning("app %s rev %d not rendered: %s", name, rev, reason)
    return {"failed": reason}


def show_clock(**options) -> dict:
    return run("clock", options)


def show_countdown(**options) -> dict:
    return run("countdown", options)


def show_draw(**options) -> dict:
    return run("draw", options)


def show_progress(**options) -> dict:
    return run("progress", options)


def show_chart(**options) -> dict:
    return run("chart", options)


def show_layout(**options) -> dict:
    return run("layout", options)


def run(kind: str, options: dict) -> dict:
    job = get_current_job()
    r = job.connection
    v = volatile(r)
    store.index(r, job.id, (job.enqueued_at or job.created_at).timestamp())  # jobs sent straight to RQ are listed too
    config = settings()
    spec = specs.parse({"kind": kind, **options, "priority": job.origin})
    if not store.set_state(r, v, job.id, State.RENDERING, kind=kind, priority=job.origin):
        return {"state": State.CANCELED}
    # An upload is known by its hash: cached frames need no trip for the file itself.
    upload = getattr(spec, "blob", None)
    media_bytes = None if upload else media(r, spec)
    media_id = upload or (store.media_id(media_bytes) if media_bytes is not None else "")
    panel = config.panel
    now = time.time()
    notes = {}
    if icon_error := library.fetch_icon(r, config, spec):
        notes["icon"] = icon_error
        spec = spec.model_copy(update={"icon": None})  # it plays without
    assets = library.assets(r, spec)  # its uploaded font and icon: replacing one renders it again
    if glyphs := _glyphs(spec, panel.height, assets):
        notes["glyphs"] = glyphs
    key = store.stream_key(
        store.digest(
            json.dumps(specs.content(spec), sort_keys=True),
            media_id,
            f"{panel.width}x{panel.height}",
            str(render.VERSION),
            assets.digest(),
            # a clock's face is this minute's, a countdown's this second's
            {Kind.CLOCK: str(int(now // 60)), Kind.COUNTDOWN: str(int(now))}.get(spec.kind, ""),
        )
    )
    fields = {"wakeup": 1 if spec.wakeup else None, "notes": json.dumps(notes) if notes else None}

    def ready(frames: int, **streams) -> bool:
        duration_s, repeat = play_length(spec, frames, config.display.default_duration_s)
        return store.make_ready(
            r, v, job.id, job.origin, frames=frames, duration_s=duration_s, repeat=repeat, **streams, **fields
        )

    cached = store.touch_stream(v, key)
    if cached:
        frames = int(v.strlen(key) // (32 + panel.width * panel.height * 3))
        ready(frames, stream=key)
        return {"stream": key, "frames": frames, "cached": cached}
    if upload:
        media_bytes = media(r, spec)
    heads = []  # whether the job took its head: a long stream's, while the rest renders (frames.Head)

    def head(frames: Frames, count: int) -> None:  # the display starts on it; `rest` names the whole, to come
        packed = stream.pack(panel.width, panel.height, frames)
        store.put_stream(v, key + ":head", packed, config.render.cache_max_bytes)
        heads.append(ready(count, stream=key + ":head", rest=key))

    rendered = kinds.render(spec, media_bytes, panel.width, panel.height, config.render, now, assets, head)
    if heads == [False]:  # canceled meanwhile
        return {"state": State.CANCELED}
    store.put_stream(v, key, stream.pack(panel.width, panel.height, rendered), config.render.cache_max_bytes)
    if heads:
        store.whole_stored(r, job.id, key)
    else:
        ready(len(rendered), stream=key)
    return {"stream": key, "frames": len(rendered), "cached": cached}


def _glyphs(spec, height: int, assets) -> dict:
    """A text's characters its font lacks: which fallback font drew them, which none could."""
    if spec.kind != Kind.TEXT:
        return {}
    parts = [spec.text] if isinstance(spec.text, str) else [part.text for part in spec.text]
    return fonts.glyphs("".join([*parts, spec.top_text or ""]), spec.font, height, assets)


def media(r, spec) -> bytes | None:
    if not isinstance(spec, specs.Media):
        return None
    if spec.blob:
        data = store.get_blob(r, spec.blob)
        if data is None:
            raise ValueError("the uploaded file has expired; send it again")
        return data
    if spec.data_b64:
        try:
            return base64.b64decode(spec.data_b64, validate=True)
        except binascii.Error:
            raise ValueError("data_b64 is not valid base64") from None
    raise ValueError(f"a {spec.kind} job needs data_b64 (or an upload through the API)")
