"""The rotation's apps as the store keeps them: their order, and the frames
the display plays. Shared by the job service and the display's watcher."""

from dataclasses import dataclass
from types import SimpleNamespace

import redis

from . import render, store
from .rotation import Entry
from .stream import unpack
from .vocabulary import Kind


def ordered(definitions: dict[str, dict]) -> list[tuple[str, dict]]:
    """Rotation order: by position, then by age (rev)."""
    return sorted(definitions.items(), key=lambda item: (item[1]["position"], item[1]["rev"]))


def make_room(others: dict[str, dict], position: int) -> dict[str, dict]:
    """An app placed at `position` goes before the one there: the apps from there on move down one."""
    if all(d["position"] != position for d in others.values()):
        return {}
    return {name: {**d, "position": d["position"] + 1} for name, d in others.items() if d["position"] >= position}


@dataclass(frozen=True)
class Loaded:
    entries: list[Entry]  # the enabled apps that have frames, in order
    missing: dict[str, int]  # apps whose newest frames are missing: name -> the rev to render
    clocks: bool  # a clock among them: its face is drawn again each minute


def rotation(r: redis.Redis, v: redis.Redis, panel, default_dwell_s: float, now: float) -> Loaded:
    """The rotation as stored (the older frames of an app whose newest are missing play meanwhile;
    a clock shows the time `now`). The pin is store.pinned's."""
    enabled = [(name, d) for name, d in ordered(store.get_apps(r)) if d["enabled"]]
    rendered = store.app_frames(v, [name for name, _ in enabled])
    entries, missing, clocks = [], {}, False
    for name, definition in enabled:
        if rendered.get(name, (0,))[0] < definition["rev"]:
            missing[name] = definition["rev"]
        if name not in rendered:
            continue
        parsed = unpack(rendered[name][1])
        frames, holds = parsed.frames, parsed.hold_us
        if definition["content"]["kind"] == Kind.CLOCK:
            face = SimpleNamespace(**{"timezone": None, **definition["content"]})  # stored without its Nones
            frames, clocks = [render.clock_face(face, panel.width, panel.height, now)], True
        dwell = definition["dwell_s"] or (default_dwell_s if len(frames) == 1 else None)
        entries.append(Entry(name, rendered[name][0], frames, holds, dwell))
    return Loaded(entries, missing, clocks)
