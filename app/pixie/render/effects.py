"""A text line over time: scrolling, the icon beside it, and AWTRIX's text effects.

The text layout draws the line once (`Line`); `animate` moves it, colours it and puts the icon next to
it frame by frame. Its timeline is the merge of every change: the scroll's steps, the icon's own
frame times, blink's and fade's steps; each frame is held until the next change.

Icon modes (AWTRIX's pushIcon): fixed (0) the icon stays at the left and the text scrolls right of it;
once (1) the line starts with the text beside the icon and pushes it out as it scrolls away; scroll (2)
the icon moves out with the text and slides back in as the text enters again, so the loop is seamless.
"""

import bisect
import colorsys
import math
from dataclasses import dataclass

from PIL import Image, ImageChops

from .. import errors
from . import icons as icon_files
from .frames import MIN_FRAME_US, STILL_HOLD_US, Frames, Head, OnHead

FADE_STEPS = 8  # levels per half period: few frames, still smooth on a panel
COLOR_PERIOD_US = 2_000_000  # rainbow's and gradient's cycle
COLOR_STEPS = 16  # frames per colour cycle of a still text
RAINBOW_SPAN = 12  # letters the spectrum spreads over (a shorter text: the whole spectrum across it)


@dataclass(frozen=True)
class Line:
    """The line the text layout drew (text on its background), for `animate` to place, move and colour."""

    image: Image.Image  # RGB; scrolling: as wide as the text; still: as wide as the panel right of the icon
    top: int  # the panel row the line starts at
    scrolls: bool
    ink: Image.Image | None = None  # L: the glyphs alone (no outline, shadow); None: what is not background
    mask: Image.Image | None = None  # L: what of the line covers the panel below (a chart); None: all of it


def scroll_step(speed: float) -> tuple[int, int]:
    """(px per step, µs per step) of a scroll at `speed` px/s: whole pixels, at most 60 steps a second."""
    step = max(1, math.ceil(speed * MIN_FRAME_US / 1e6))
    return step, round(step * 1e6 / speed)


def animate(
    spec,
    base: Image.Image,
    line: Line,
    icons: icon_files.IconFrames,
    max_frames: int | None = None,
    backdrop=None,
    on_head: OnHead | None = None,
) -> Frames:
    """The frames of a text line: `base` is the panel without it (background, still parts), `icons` the
    icon's frames (icons.icon_frames; empty: none), `max_frames` the [render] limit; `backdrop` (a
    backgrounds.Background) when the panel without it moves; a long line's head handed to `on_head` on the
    way (frames.Head). Uses spec's speed, icon_mode, blink_ms, fade_ms, rainbow, gradient, background."""
    width = base.width
    slot = icon_files.slot(icons)
    text_w = line.image.width
    mode = spec.icon_mode if icons and line.scrolls else "fixed"
    if line.scrolls:
        step, step_us = scroll_step(spec.speed)
        start = slot if mode == "once" else width
        end = slot - text_w if mode == "fixed" else -text_w  # where the text has just gone
        steps = (start - end) // step + 1
        length_us = steps * step_us
    else:
        step, step_us, start, steps = 0, STILL_HOLD_US, slot, 1
        length_us = _loop_us(spec, icons, backdrop)
    changes = _changes(spec, icons, length_us, colors_change=not line.scrolls)  # scrolling: recoloured each step
    if backdrop:  # a scrolling text's loop is its scroll's: the background jumps where it restarts
        changes.append(backdrop.changes(length_us))
    times = _timeline(length_us, [_every(step_us, length_us) if line.scrolls else [0], *changes])
    if max_frames is not None and len(times) > max_frames:  # before drawing them: each costs a panel's bytes
        raise errors.TooLarge(
            f"the text's scroll, icon and effects make {len(times)} frames, more than render.max_frames={max_frames}"
        )
    colors = _recolor(spec, line) if spec.rainbow or spec.gradient else None
    icon_starts = _starts(icons)
    head = Head(on_head, len(times))
    frames = []
    for t, until in zip(times, [*times[1:], length_us], strict=True):
        x = start - min(t // step_us, steps - 1) * step
        panel = (backdrop.at(t) if backdrop else base).copy()
        left = max(x, slot if mode == "fixed" else 0)  # a fixed icon's slot is never written over
        right = min(width, x + text_w)
        if left < right:
            box = (left - x, 0, right - x, line.image.height)
            text = colors(t, box) if colors else line.image.crop(box)
            level = visibility(spec, t)
            if level < 1:
                under = panel.crop((left, line.top, left + text.width, line.top + text.height))
                text = Image.blend(under, text, level)
            panel.paste(text, (left, line.top), line.mask.crop(box) if line.mask else None)
        if icons:
            icon = icons[bisect.bisect_right(icon_starts, t % icon_starts[-1]) - 1][0]
            icon_x = {"fixed": 0, "once": x - slot, "scroll": min(0, width - x - slot, x - slot)}[mode]
            # centred on the rows below line.top: a progress bar under the line stands beside the icon
            panel.paste(icon, (icon_x, line.top + (base.height - line.top - icon.height) // 2), icon)
        frames.append((panel.tobytes(), until - t))
        head.drawn(frames)
    return frames


def visibility(spec, t_us: int) -> float:
    """The text's level at time t: blink is on for the first half of its period, off for the second;
    fade falls from full to dark over half its period and rises back, FADE_STEPS levels each way."""
    level = 1.0
    if spec.blink_ms:
        period = spec.blink_ms * 1000
        level = 1.0 if t_us % period < period / 2 else 0.0
    if spec.fade_ms:
        k = int(t_us % (spec.fade_ms * 1000) * 2 * FADE_STEPS // (spec.fade_ms * 1000))
        level *= 1 - min(k, 2 * FADE_STEPS - k) / FADE_STEPS
    return level


def letter_colors(spec, letters: int, t_us: int) -> list[tuple[int, int, int]]:
    """Each letter's colour at time t. Rainbow: a hue a letter across the spectrum (or RAINBOW_SPAN
    letters of it), all turning through it once per COLOR_PERIOD_US. Gradient: from the first colour at
    the first letter to the second at the last, travelling along the text and back to its start once
    a period."""
    turn = t_us / COLOR_PERIOD_US
    if spec.rainbow:
        span = min(letters, RAINBOW_SPAN) or 1
        return [_rgb(colorsys.hsv_to_rgb((i / span + turn) % 1, 1, 1)) for i in range(letters)]
    first, last = (_hex(c) for c in spec.gradient)
    colors = []
    for i in range(letters):
        phase = (i / max(letters - 1, 1) / 2 + turn) % 1  # the text spans half a cycle: first -> last
        mix = 1 - abs(1 - 2 * phase)  # 0 -> 1 -> 0 over a cycle
        colors.append(tuple(round(a + (b - a) * mix) for a, b in zip(first, last, strict=True)))
    return colors


def letters(ink: Image.Image) -> list[tuple[int, int]]:
    """The letters of a drawn line, as runs of inked columns: (first x, last x + 1)."""
    columns = ink.point(lambda v: 255 if v else 0).resize((ink.width, 1), Image.Resampling.BOX).tobytes()
    runs, begin = [], None
    for x, inked in enumerate([*columns, 0]):
        if inked and begin is None:
            begin = x
        elif not inked and begin is not None:
            runs.append((begin, x))
            begin = None
    return runs


def _recolor(spec, line: Line):
    """A function of time: the line with its letters in their colours at that time."""
    ink = line.ink if line.ink is not None else _not_background(line.image, spec)
    runs = letters(ink)

    def at(t_us: int, box: tuple[int, int, int, int]) -> Image.Image:
        """The part `box` of the line, coloured as at time t."""
        row, x = [], 0
        for (begin, end), color in zip(runs, letter_colors(spec, len(runs), t_us), strict=True):
            row.append(bytes(3) * (begin - x) + bytes(color) * (end - begin))  # between letters: not drawn
            x = end
        row.append(bytes(3) * (line.image.width - x))
        paint = Image.frombytes("RGB", (line.image.width, 1), b"".join(row)).crop((box[0], 0, box[2], 1))
        paint = paint.resize((box[2] - box[0], box[3] - box[1]), Image.Resampling.NEAREST)
        return Image.composite(paint, line.image.crop(box), ink.crop(box))

    return at


def _not_background(image: Image.Image, spec) -> Image.Image:
    """The glyphs of a line drawn without a separate ink: what is neither background, outline nor shadow
    (exact for the crisp bitmap fonts)."""
    ink = Image.new("L", image.size, 255)
    for other in {spec.background, spec.outline, spec.shadow} - {None}:
        differs = ImageChops.difference(image, Image.new("RGB", image.size, other)).point(lambda v: 255 if v else 0)
        ink = ImageChops.multiply(ink, differs.convert("L").point(lambda v: 255 if v else 0))
    return ink


def _changes(spec, icons, length_us: int, colors_change: bool) -> list[list[int]]:
    """When each thing that changes by itself changes, within [0, length_us)."""
    changes = []
    if len(icons) > 1:
        starts = _starts(icons)
        loops = range(0, length_us, starts[-1])
        changes.append([loop + s for loop in loops for s in starts[:-1] if loop + s < length_us])
    if spec.blink_ms:
        changes.append(_every(spec.blink_ms * 500, length_us))
    if spec.fade_ms:
        changes.append(_every(spec.fade_ms * 1000 / (2 * FADE_STEPS), length_us))
    if colors_change and (spec.rainbow or spec.gradient):
        changes.append(_every(COLOR_PERIOD_US / COLOR_STEPS, length_us))
    return changes


def _loop_us(spec, icons, backdrop=None) -> int:
    """One loop of a still line: every period (icon, blink, fade, colour, background) completes a whole
    number of times; if that is longer than the periods could make frames for, the longest of them."""
    periods = [_starts(icons)[-1]] if len(icons) > 1 else []
    periods += [backdrop.length_us] if backdrop else []
    periods += [ms * 1000 for ms in (spec.blink_ms, spec.fade_ms) if ms]
    if spec.rainbow or spec.gradient:
        periods.append(COLOR_PERIOD_US)
    if not periods:
        return STILL_HOLD_US
    whole = math.lcm(*periods)
    return whole if whole <= 10 * max(periods) else max(periods)


def _timeline(length_us: int, changes: list[list[float]]) -> list[int]:
    """The merged change times in [0, length_us), each once. Kept exact (a scroll step and an icon's
    change a few ms apart make a short frame): the icon's rhythm is its own, not the scroll's."""
    return sorted({0} | {round(t) for ts in changes for t in ts if t < length_us})


def _every(period_us: float, length_us: int) -> list[float]:
    return [k * period_us for k in range(math.ceil(length_us / period_us))]


def _starts(icons) -> list[int]:
    """The icon's frames' start times, and its loop's length last."""
    starts = [0]
    for _, hold in icons:
        starts.append(starts[-1] + hold)
    return starts


def _hex(color: str) -> tuple[int, int, int]:
    return tuple(bytes.fromhex(color[1:7]))


def _rgb(rgb: tuple[float, float, float]) -> tuple[int, int, int]:
    return tuple(round(c * 255) for c in rgb)
