"""Layouts: Pixlet's widget tree as JSON (spec.Layout), drawn with the other renderers' own code.

Each element is measured in the space it is given (w, h) and painted on a transparent canvas of its size,
which its parent pastes in place: whatever overflows is clipped there. A leaf without a size takes all it
is given (a progress bar: a quarter of the height); a row or column gives each child what the ones before
it left. A layout is a still, but for its marquees: each scrolls by whole pixels at its own pace (as a
text does, effects.scroll_step) and the frames are the moments any of them moves, over the longest one's
loop. An animated icon shows its first frame.
"""

import math
from dataclasses import dataclass, field

from PIL import Image, ImageDraw

from . import chart, draw, effects, fonts, icons, progress
from .assets import NONE, Assets
from .frames import STILL_HOLD_US, Frames

UNBOUNDED = 4096  # px a marquee gives its child along its scroll (spec.MAX_COORD: no element is longer)


@dataclass
class _Context:
    assets: Assets
    t_us: int = 0
    loops: set = field(default_factory=set)  # (steps, µs a step) of each marquee that scrolls


def layout_frames(spec, width: int, height: int, assets: Assets = NONE, max_frames: int | None = None) -> Frames:
    """The layout's children as layers on its background: one frame, or a frame each time a marquee moves."""
    ctx = _Context(assets)
    first = _frame(spec, width, height, ctx)
    if not ctx.loops:
        return [(first, STILL_HOLD_US)]
    length = max(steps * step_us for steps, step_us in ctx.loops)
    times = sorted({t for steps, step_us in ctx.loops for t in range(0, length, step_us)})
    if max_frames is not None and len(times) > max_frames:  # before drawing them
        raise ValueError(f"{len(times)} frames, more than render.max_frames={max_frames}")
    frames = [first]
    for t in times[1:]:
        ctx.t_us = t
        frames.append(_frame(spec, width, height, ctx))
    return [(frame, end - start) for frame, start, end in zip(frames, times, [*times[1:], length], strict=True)]


def _frame(spec, width: int, height: int, ctx: _Context) -> bytes:
    image = Image.new("RGB", (width, height), spec.background)
    layers = _paint(_Stack(spec.children), width, height, ctx)
    image.paste(layers, (0, 0), layers)
    return image.tobytes()


class _Stack:
    """The layout itself: its children are a stack's."""

    kind = "stack"

    def __init__(self, children):
        self.children = children


def size(el, w: int, h: int, ctx: _Context) -> tuple[int, int]:
    """The px (width, height) an element takes of the (w, h) it is given: never more."""
    natural = _SIZES[el.kind](el, w, h, ctx)
    return min(natural[0], w), min(natural[1], h)


def _paint(el, w: int, h: int, ctx: _Context) -> Image.Image:
    """The element on a transparent canvas of its size."""
    cw, ch = size(el, w, h, ctx)
    canvas = Image.new("RGBA", (cw, ch))
    if cw > 0 and ch > 0:
        _PAINTERS[el.kind](el, canvas, ctx)
    return canvas


def _put(canvas: Image.Image, child: Image.Image, x: int, y: int) -> None:
    canvas.paste(child, (x, y), child)


# -- containers ---------------------------------------------------------------------------------------------


def _line_sizes(el, w: int, h: int, ctx: _Context) -> list[tuple[int, int]]:
    """Each child's size, along the line (row: x) first: each given what the ones before it left."""
    horizontal, sizes = el.kind == "row", []
    left = w if horizontal else h
    for child in el.children:
        cw, ch = size(child, left, h, ctx) if horizontal else size(child, w, left, ctx)
        along, across = (cw, ch) if horizontal else (ch, cw)
        sizes.append((along, across))
        left -= along
    return sizes


def _line_size(el, w: int, h: int, ctx: _Context) -> tuple[int, int]:
    sizes = _line_sizes(el, w, h, ctx)
    along = (w if el.kind == "row" else h) if el.expanded else sum(a for a, _ in sizes)
    across = max(c for _, c in sizes)
    return (along, across) if el.kind == "row" else (across, along)


def _line_paint(el, canvas: Image.Image, ctx: _Context) -> None:
    horizontal = el.kind == "row"
    length, breadth = canvas.size if horizontal else canvas.size[::-1]
    sizes = _line_sizes(el, *canvas.size, ctx)
    n, free = len(sizes), max(0, length - sum(a for a, _ in sizes))
    match el.main_align:
        case "start" | "center" | "end":
            start, gap = {"start": 0, "center": free // 2, "end": free}[el.main_align], 0
        case "space_between":
            start, gap = 0, free / (n - 1) if n > 1 else 0
        case _:  # space_evenly
            start, gap = free / (n + 1), free / (n + 1)
    at = start
    for i, (child, (along, across)) in enumerate(zip(el.children, sizes, strict=True)):
        cross = {"start": 0, "center": (breadth - across) // 2, "end": breadth - across}[el.cross_align]
        pos = round(at) if el.main_align != "space_between" or i < n - 1 else length - along
        image = _paint(child, *((length - pos, breadth) if horizontal else (breadth, length - pos)), ctx)
        _put(canvas, image, *((pos, cross) if horizontal else (cross, pos)))
        at += along + gap


def _stack_size(el, w: int, h: int, ctx: _Context) -> tuple[int, int]:
    sizes = [size(child, w, h, ctx) for child in el.children]
    return max(s[0] for s in sizes), max(s[1] for s in sizes)


def _stack_paint(el, canvas: Image.Image, ctx: _Context) -> None:
    for child in el.children:
        _put(canvas, _paint(child, *canvas.size, ctx), 0, 0)


def _pads(el) -> tuple[int, int, int, int]:
    return (el.pad,) * 4 if isinstance(el.pad, int) else tuple(el.pad)


def _padding_size(el, w: int, h: int, ctx: _Context) -> tuple[int, int]:
    left, top, right, bottom = _pads(el)
    cw, ch = size(el.child, max(0, w - left - right), max(0, h - top - bottom), ctx)
    return cw + left + right, ch + top + bottom


def _padding_paint(el, canvas: Image.Image, ctx: _Context) -> None:
    left, top, right, bottom = _pads(el)
    w, h = canvas.size
    _put(canvas, _paint(el.child, max(0, w - left - right), max(0, h - top - bottom), ctx), left, top)


def _box_paint(el, canvas: Image.Image, ctx: _Context) -> None:
    w, h = canvas.size
    pen = ImageDraw.Draw(canvas)
    if el.color:
        pen.rectangle((0, 0, w - 1, h - 1), fill=el.color)
    if el.child is not None:
        inner = _paint(el.child, max(0, w - 2 * el.padding), max(0, h - 2 * el.padding), ctx)
        _put(canvas, inner, (w - inner.width) // 2, (h - inner.height) // 2)
    if el.outline:
        pen.rectangle((0, 0, w - 1, h - 1), outline=el.outline)


def _marquee_space(el, w: int, h: int, ctx: _Context) -> tuple[int, int]:
    """What a marquee gives its child: no bound along the scroll, unless the child would take all of it
    (a box or chart without a size): then the window."""
    if el.scroll_direction == "horizontal":
        return (w, h) if size(el.child, UNBOUNDED, h, ctx)[0] == UNBOUNDED else (UNBOUNDED, h)
    return (w, h) if size(el.child, w, UNBOUNDED, ctx)[1] == UNBOUNDED else (w, UNBOUNDED)


def _marquee_size(el, w: int, h: int, ctx: _Context) -> tuple[int, int]:
    if el.scroll_direction == "horizontal":
        return el.width or w, el.height or size(el.child, *_marquee_space(el, w, h, ctx), ctx)[1]
    return el.width or size(el.child, *_marquee_space(el, w, h, ctx), ctx)[0], el.height or h


def _marquee_paint(el, canvas: Image.Image, ctx: _Context) -> None:
    """The child from where it stands still, out of the start, then in again from the far edge."""
    w, h = canvas.size
    horizontal = el.scroll_direction == "horizontal"
    child = _paint(el.child, *_marquee_space(el, w, h, ctx), ctx)
    length, window = (child.width, w) if horizontal else (child.height, h)
    offset = 0
    if length > window:
        step, step_us = effects.scroll_step(el.speed)
        steps = math.ceil((length + window) / step)
        ctx.loops.add((steps, step_us))
        travelled = ctx.t_us // step_us % steps * step
        offset = -travelled if travelled < length else window - (travelled - length)
    _put(canvas, child, *((offset, 0) if horizontal else (0, offset)))


# -- leaves: the other renderers' own drawing ---------------------------------------------------------------


def _given(el, w: int, h: int, _ctx=None) -> tuple[int, int]:
    return el.width or w, el.height or h


def _text_face(el, h: int, ctx: _Context) -> tuple[fonts.Face, list]:
    lines = el.text.split("\n")
    face = fonts.face(el.font, max(1, h // len(lines)), ctx.assets, el.size)
    return face, [fonts.runs([(line, el.color)], face) for line in lines]


def _text_size(el, w: int, h: int, ctx: _Context) -> tuple[int, int]:
    face, runs = _text_face(el, h, ctx)
    return max(fonts.width_of(line) for line in runs), face.height * len(runs)


def _text_paint(el, canvas: Image.Image, ctx: _Context) -> None:
    face, runs = _text_face(el, canvas.height, ctx)
    box = (0, 0, max(fonts.width_of(line) for line in runs), canvas.height)
    fonts.draw_lines(canvas, runs, face, box, "center", "top")


def _icon(el, w: int, h: int, ctx: _Context) -> Image.Image | None:
    """Its first frame scaled to fit (w, h) and its height (none: the library lacks it, or no room)."""
    data = ctx.assets.icons.get(el.icon)
    if not data or w <= 0 or h <= 0:
        return None
    return icons.icon_frames(data, min(el.height or h, h), w / icons.MAX_WIDTH_SHARE)[0][0]


def _icon_size(el, w: int, h: int, ctx: _Context) -> tuple[int, int]:
    icon = _icon(el, w, h, ctx)
    return icon.size if icon else (0, 0)


def _icon_paint(el, canvas: Image.Image, ctx: _Context) -> None:
    canvas.paste(_icon(el, *canvas.size, ctx), (0, 0))


def _progress_size(el, w: int, h: int, ctx: _Context) -> tuple[int, int]:
    return el.width or w, el.height or max(1, h // progress.KIND_SHARE)


def _progress_paint(el, canvas: Image.Image, ctx: _Context) -> None:
    progress.draw(canvas, (0, 0, *canvas.size), el.progress, el.progress_color, el.progress_bg)


def _chart_paint(el, canvas: Image.Image, ctx: _Context) -> None:
    chart.draw(canvas, (0, 0, *canvas.size), el)


def _draw_paint(el, canvas: Image.Image, ctx: _Context) -> None:
    draw.draw(canvas, el.draw, ctx.assets)


_SIZES = {
    "row": _line_size,
    "column": _line_size,
    "stack": _stack_size,
    "padding": _padding_size,
    "box": _given,
    "marquee": _marquee_size,
    "text": _text_size,
    "icon": _icon_size,
    "progress": _progress_size,
    "chart": _given,
    "draw": _given,
}
_PAINTERS = {
    "row": _line_paint,
    "column": _line_paint,
    "stack": _stack_paint,
    "padding": _padding_paint,
    "box": _box_paint,
    "marquee": _marquee_paint,
    "text": _text_paint,
    "icon": _icon_paint,
    "progress": _progress_paint,
    "chart": _chart_paint,
    "draw": _draw_paint,
}
