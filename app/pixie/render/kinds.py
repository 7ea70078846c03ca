"""A job's kind to its frames: the render workers' one entry point."""

import math
import zlib

from PIL import Image

from . import chart, draw, faces, layout, media, patterns, progress, text
from .assets import NONE, Assets
from .frames import STILL_HOLD_US, Frames

# A long animation reaches the display in two steps: its head (the frames that play its first HEAD_S) at
# once, then the whole; the panel starts on the head while the rest renders. A 300-frame GIF renders in
# ~0.02 s on a 2-core x86 machine, ~10 times that on a Pi 3: inside the head's half second. A longer head
# would cover a slower render, but costs its own render before the first frame.
HEAD_MIN_FRAMES = 50
HEAD_S = 0.5


def head(spec, data: bytes | None, width: int, height: int, limits) -> tuple[Frames, int] | None:
    """A long animation's head and its whole frame count; None for anything else (rendered whole at once)."""
    if spec.kind != "animation":
        return None
    image = media.open_media(data, limits, decode=False)
    count = getattr(image, "n_frames", 1)
    if count < HEAD_MIN_FRAMES:
        return None
    return media.media_frames(image, spec.fit, width, height, animate=True, until_us=HEAD_S * 1e6), count


def render(
    spec, data: bytes | None, width: int, height: int, limits, now: float = 0.0, assets: Assets = NONE
) -> Frames:
    """Frames for one job; `limits` is the [render] config section, `now` a clock's time, `assets` the
    library's files it names (uploaded fonts, icons)."""
    kind = spec.kind
    if kind == "text":
        frames = text.text_frames(spec, width, height, assets, limits.max_frames)
    elif kind in ("image", "animation"):
        image = media.open_media(data, limits, decode=False)  # media_frames decodes it, once
        frames = media.media_frames(image, spec.fit, width, height, animate=kind == "animation")
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
