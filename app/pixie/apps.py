"""The rotation's apps as the store keeps them: their order, and the frames
the display plays. Shared by the job service and the display's watcher."""

import logging
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

import redis

from . import schedule, store
from .display.rotation import Entry
from .render import faces, indicators
from .stream import unpack
from .vocabulary import FACES

log = logging.getLogger("pixie.apps")


def ordered(definitions: dict[str, dict]) -> list[tuple[str, dict]]:
    """Rotation order: by position, then by age (rev)."""
    return sorted(definitions.items(), key=lambda item: (item[1]["position"], item[1]["rev"]))


def make_room(others: dict[str, dict], position: int) -> dict[str, dict]:
    """An app placed at `position` goes before the one there: the apps from there on move down one."""
    if all(d["position"] != position for d in others.values()):
        return {}
    return {name: {**d, "position": d["position"] + 1} for name, d in others.items() if d["position"] >= position}


def expires(definition: dict) -> float | None:
    """When an app with a lifetime deletes itself (epoch), unless it is put again before."""
    lifetime = definition.get("lifetime_s")
    return definition["updated"] + lifetime if lifetime else None


def stale(definition: dict, now: float) -> bool:
    """Its lifetime has ended and it is kept, marked (lifetime_mode "mark")."""
    return definition.get("lifetime_mode") == "mark" and (end := expires(definition)) is not None and end <= now


def current(r: redis.Redis, v: redis.Redis, now: float) -> dict[str, dict]:
    """The apps' definitions, once those whose lifetime ended by `now` are deleted (unless kept marked)."""
    definitions = store.get_apps(r)
    for name, definition in list(definitions.items()):
        if (end := expires(definition)) is not None and end <= now and not stale(definition, now):
            del definitions[name]
            if store.delete_app(r, v, name):
                log.info("app %s deleted: not put again within its lifetime", name)
                store.send(v, apps=name)
    return definitions


def on_schedule(definition: dict, now: datetime, place: schedule.Place | None) -> bool:
    return schedule.is_open(schedule.parse(definition.get("schedule", []), place), now)


def local(now: float) -> datetime:
    return datetime.fromtimestamp(now, schedule.local_zone())


@dataclass(frozen=True)
class Loaded:
    entries: list[Entry]  # the enabled apps on schedule that have frames, in order
    missing: dict[str, int]  # enabled apps whose newest frames are missing: name -> the rev to render
    changes_at: float | None  # when it changes by itself: a face's next (clock, countdown), a window, a lifetime's end


def rotation(
    r: redis.Redis,
    v: redis.Redis,
    panel,
    default_dwell_s: float,
    now: float,
    known: dict[str, Entry] | None = None,
    *,
    place: schedule.Place | None,
) -> Loaded:
    """The rotation as stored at `now` (the older frames of an app whose newest are missing play
    meanwhile; a clock shows the time `now`). The pin is store.pinned's. The frames of the `known`
    entries (the last load's) are taken again where their version and live values have not changed,
    not fetched."""
    known = known or {}
    definitions = current(r, v, now)
    when = local(now)
    enabled = [(name, d) for name, d in ordered(definitions) if d["enabled"]]
    renders = store.app_renders(v, [name for name, _ in enabled])
    entries, missing = [], {}
    moments = [m for d in definitions.values() if (m := expires(d)) is not None and m > now]
    playable = []
    for name, definition in enabled:
        if renders[name].rev < definition["rev"]:
            missing[name] = definition["rev"]
        if windows := schedule.parse(definition.get("schedule", []), place):
            if (boundary := schedule.next_boundary(windows, when)) is not None:
                moments.append(boundary.timestamp())
        if renders[name].rev and schedule.is_open(windows, when):
            playable.append((name, definition))
    fetched = store.app_frames(
        v,
        [
            name
            for name, _ in playable
            if name not in known or (known[name].rev, known[name].live) != (renders[name].rev, renders[name].live)
        ],
    )
    for name, definition in playable:
        if name in fetched:
            rev, live, blob = fetched[name]
            parsed = unpack(blob)
            frames, holds = parsed.frames, parsed.hold_us
        elif name in known:
            rev, live, frames, holds = known[name].rev, known[name].live, known[name].frames, known[name].holds
        else:
            continue  # deleted meanwhile
        if definition["content"]["kind"] in FACES:
            spec = SimpleNamespace(**{"timezone": None, **definition["content"]})  # stored without its Nones
            frame, changes = faces.face(spec, panel.width, panel.height, now)
            frames = [frame]
            moments += [changes] if changes is not None else []
        if stale(definition, now):
            frames = [indicators.stale(frame, panel.width, panel.height) for frame in frames]
        dwell = definition["dwell_s"] or (default_dwell_s if len(frames) == 1 else None)
        transition = (definition.get("transition"), definition.get("transition_ms"))
        entries.append(Entry(name, rev, frames, holds, dwell, live, transition))
    return Loaded(entries, missing, min(moments, default=None))
