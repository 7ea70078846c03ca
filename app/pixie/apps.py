"""The rotation's apps as the store keeps them: their order, and the frames
the display plays. Shared by the job service and the display's watcher."""

import redis

from . import store
from .rotation import Entry
from .stream import unpack


def ordered(definitions: dict[str, dict]) -> list[tuple[str, dict]]:
    """Rotation order: by position, then by age (rev)."""
    return sorted(definitions.items(), key=lambda item: (item[1]["position"], item[1]["rev"]))


def make_room(others: dict[str, dict], position: int) -> dict[str, dict]:
    """An app placed at `position` goes before the one there: the apps from there on move down one."""
    if all(d["position"] != position for d in others.values()):
        return {}
    return {name: {**d, "position": d["position"] + 1} for name, d in others.items() if d["position"] >= position}


def rotation(r: redis.Redis, v: redis.Redis, default_dwell_s: float) -> tuple[list[Entry], dict[str, int]]:
    """The enabled apps that have frames, in order; and the apps whose newest frames are missing:
    name -> the rev to render (their older frames, if any, play meanwhile). The pin is store.pinned's."""
    enabled = [(name, d) for name, d in ordered(store.get_apps(r)) if d["enabled"]]
    rendered = store.app_frames(v, [name for name, _ in enabled])
    entries, missing = [], {}
    for name, definition in enabled:
        if rendered.get(name, (0,))[0] < definition["rev"]:
            missing[name] = definition["rev"]
        if name in rendered:
            parsed = unpack(rendered[name][1])
            dwell = definition["dwell_s"] or (default_dwell_s if len(parsed.frames) == 1 else None)
            entries.append(Entry(name, rendered[name][0], parsed.frames, parsed.hold_us, dwell))
    return entries, missing
