"""Text: lines of coloured runs placed on the panel (align, valign, offsets), or a strip scrolling through
from the right; a top_text still above it. The fonts and their fallback are fonts.py's."""

import zlib

from PIL import Image, ImageChops

from . import chart, effects, fonts, icons, progress
from .assets import NONE, Assets
from .frames import Frames, OnHead

Parts = list[tuple[str, str]]  # (text, colour)


def text_frames(
    spec, width: int, height: int, assets: Assets = NONE, max_frames: int | None = None, on_head: OnHead | None = None
) -> Frames:
    """The text drawn once; effects.animate places it beside its icon, scrolls it and applies its effects
    (a long scroll's head handed to `on_head` on the way). A chart is drawn behind it right of the icon, a
    progress bar under it from the icon's right edge."""
    top = height // 2 if spec.top_text else 0
    bar = progress.under_text_rows(height) if spec.progress is not None else 0  # the text keeps the rows above
    icon = icons.line_icon(spec, assets, height - top, width)
    left = icons.slot(icon)  # px kept free on the left: the icon's box
    background = Image.new("RGB", (width, height), spec.background)
    if spec.chart:
        chart.draw(background, (left, 0, width - left, height), spec.chart)
    if bar:
        edge = icons.width(icon)
        progress.draw(
            background, (edge, height - bar, width - edge, bar), spec.progress, spec.progress_color, spec.progress_bg
        )
    if spec.top_text:  # the upper half: a still line, as big as fits
        line = _Block([[(spec.top_text, spec.top_color)]], fonts.face(spec.font, top, assets, spec.size))
        line.draw(background, left, 0, width - left, top, "center", "middle", spec)
    area_w, area_h = width - left, height - top - bar
    parts = [(spec.text, spec.color)] if isinstance(spec.text, str) else [(p.text, p.color) for p in spec.text]
    lines = _lines(parts)
    block = _Block(lines, fonts.face(spec.font, area_h // len(lines), assets, spec.size))
    scroll = (
        spec.scroll
        if spec.scroll is not None
        else (len(lines) == 1 and block.width > area_w and spec.overflow == "clip")
    )
    if not scroll and block.width > area_w:
        if spec.overflow == "shrink":
            block = _Block(lines, fonts.fit(lines, area_w, area_h, block.face))
        elif spec.overflow == "wrap":
            block = _wrapped(lines, block.face, area_w, area_h, auto=spec.font == "auto")
    if not scroll:
        image = Image.new("RGB", (width, height), spec.background)
        block.draw(image, left + spec.offset_x, top + spec.offset_y, area_w, area_h, spec.align, spec.valign, spec)
        image = image.crop((left, top, width, top + area_h))
    else:  # the text and a pixel either side for an outline: it enters right, leaves left
        image = Image.new("RGB", (block.width + 2, area_h), spec.background)
        block.draw(image, 1, spec.offset_y, block.width, area_h, spec.align, spec.valign, spec)
    # the chart or the effect shows between the letters
    mask = _drawn(image, spec.background) if spec.chart or spec.effect else None
    backdrop = _backdrop(spec, background, max_frames) if spec.effect else None
    line = effects.Line(image, top, scrolls=scroll, mask=mask)
    return effects.animate(spec, background, line, icon, max_frames, backdrop, on_head)


def _backdrop(spec, still: Image.Image, max_frames: int | None):
    """The effect behind the text (a backgrounds.Background), what was drawn on the background (a top text,
    a bar) staying over it; seeded by the text, so a job draws the same frames."""
    from . import backgrounds  # numpy: imported by the workers only for a text with an effect (~20 MB each)

    return backgrounds.Background(
        spec.effect,
        still.width,
        still.height,
        seed=zlib.crc32(repr(spec.text).encode()),
        max_frames=max_frames or backgrounds.LOOP_FRAMES,
        speed=spec.effect_speed,
        palette=spec.effect_palette,
        blend=spec.effect_blend,
        still=(still, _drawn(still, spec.background)),
    )


def _drawn(image: Image.Image, background: str) -> Image.Image:
    """L: 255 where the line is not its background colour (the glyphs, their outline and shadow)."""
    differs = ImageChops.difference(image, Image.new("RGB", image.size, background)).convert("L")
    return differs.point(lambda v: 255 if v else 0)


class _Block:
    """Lines in one font (and its fallbacks), as wide as the widest."""

    def __init__(self, lines: list[Parts], face: fonts.Face):
        self.face = face
        self.runs = [fonts.runs(line, face) for line in lines]
        self.width = max(fonts.width_of(line) for line in self.runs)

    def draw(self, image, x: int, y: int, w: int, h: int, align: str, valign: str, spec) -> None:
        fonts.draw_lines(image, self.runs, self.face, (x, y, w, h), align, valign, spec.outline, spec.shadow)


def _lines(parts: Parts) -> list[Parts]:
    """Coloured parts split at each newline."""
    lines: list[Parts] = [[]]
    for text, color in parts:
        first, *rest = text.split("\n")
        lines[-1].append((first, color))
        lines += [[(line, color)] for line in rest]
    return lines


def _wrapped(lines: list[Parts], face: fonts.Face, width: int, height: int, auto: bool) -> _Block:
    """The lines broken to fit `width`; "auto" takes the largest font whose wrapped lines fit `height` too."""
    names = fonts.by_size()
    faces = (fonts.builtin(n) for n in names[names.index(face.name) :]) if auto else [face]
    for f in faces:
        block = _Block([broken for line in lines for broken in _wrap(line, f, width)], f)
        if block.face.height * len(block.runs) <= height:
            break
    return block


def _wrap(line: Parts, face: fonts.Face, width: int) -> list[Parts]:
    """One line broken into lines that fit, at the last space that fits, else after the last letter that does."""
    chars = [(ch, color) for text, color in line for ch in text]
    out = []
    while chars:
        n = 1
        while n < len(chars) and fonts.width_of(fonts.runs(chars[: n + 1], face)) <= width:
            n += 1
        if n < len(chars):
            space = max((i for i in range(1, n + 1) if chars[i][0] == " "), default=0)
            n = space or n
        out.append(chars[:n])
        chars = chars[n:]
        while chars and chars[0][0] == " ":
            chars = chars[1:]
    return out or [line]
