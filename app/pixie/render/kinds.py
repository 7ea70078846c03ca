"""A job's kind to its frames: the render workers' one entry point."""

import math
import zlib

from PIL import Image

from . import chart, draw, faces, layout, media, patterns, progress, text
from .assets import NONE, Assets
from .frames import STILL_HOLD_US, Frames, OnHead


def render(
    spec,
    data: bytes | None,
    width: int,
    height: int,
    limits,
    now: float = 0.0,
    assets: Assets = NONE,
    on_head: OnHead | None = None,
) -> Frames:
    """Frames for one job; `limits` is the [render] config section, `now` a clock's time, `assets` the
    library's files it names (uploaded fonts, icons); a long animation's or scrolling text's head handed to
    `on_head` as soon as it is drawn (frames.Head), the whole returned."""
    kind = spec.kind
    if kind == "text":  # a drawing or an overlay goes over every frame at the end: none of those have a head
        plain = not spec.draw and not spec.overlay
        frames = text.text_frames(spec, width, height, assets, limits.max_frames, on_head if plain else None)
    elif kind in ("image", "animation"):
        image = media.open_media(data, limits, decode=False)  # media_frames decodes it, once
        frames = media.media_frames(image, spec.fit, width, height, animate=kind == "animation", on_head=on_head)
    elif kind == "fill":
        frames = [(Image.new("RGB", (width, height), spec.color).tobytes(), STILL_HOLD_US)]
    elif kind == "clear":
        frames = [(bytes(width * height * 3), STILL_HOLD_US)]
    elif kind == "pattern":
        frames = [(patterns.pattern(spec.pattern, width, height).tobytes(), STILL_HOLD_US)]
    elif kind == "clock":
        frames = [(faces.clock_face(spec, width, height, now), STILL_HOLD_US)]
    elif kind == "countdown":
        seconds = math.ceil(spec.duration_s or faces.COUNTDOWN_JOB_S)
        seconds = min(limits.max_frames, int(limits.max_animation_s), seconds)
        frames = [(faces.countdown_face(spec, width, height, now + i), 1_000_000) for i in range(seconds)]
    elif kind == "demo":
        frames = [(patterns.countdown(i, spec.n, width, height).tobytes(), 1_000_000) for i in range(spec.n, -1, -1)]
    elif kind == "draw":
        frames = draw.draw_frames(spec, width, height, assets)
    elif kind == "progress":
        frames = progress.progress_frames(spec, width, height, assets)
    elif kind == "chart":
        frames = chart.chart_frames(spec, width, height, assets)
    elif kind == "layout":
        frames = layout.layout_frames(spec, width, height, assets, limits.max_frames)
    else:
        raise TypeError(f"cannot render a {kind!r} job")
    if kind == "text" and spec.draw:  # over everything the text shows
        frames = draw.over(frames, spec.draw, width, height, assets)
    if kind == "text" and spec.overlay:  # the weather over all of it
        from . import backgrounds  # numpy: imported by the workers only when a job needs it (~20 MB each)

        frames = backgrounds.over(frames, spec.overlay, width, height, seed=zlib.crc32(repr(spec.text).encode()))
    if len(frames) > limits.max_frames:
        raise ValueError(f"{len(frames)} frames, more than render.max_frames={limits.max_frames}")
    if sum(hold for _, hold in frames) > limits.max_animation_s * 1e6:
        raise ValueError(f"one pass lasts more than render.max_animation_s={limits.max_animation_s}")
    return frames
