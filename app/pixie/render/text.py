"""Text: still and centred when it fits, else scrolling through from the right."""

import math

from PIL import Image, ImageDraw

from . import fonts
from .frames import MIN_FRAME_US, STILL_HOLD_US, Frames


def text_frames(spec, width: int, height: int) -> Frames:
    face = fonts.font(spec.font, spec.size, height)
    parts = [(spec.text, spec.color)] if isinstance(spec.text, str) else [(p.text, p.color) for p in spec.text]
    if spec.font == "pixel":  # a latin-1 bitmap font: other characters show as "?" instead of failing the job
        parts = [(text.encode("latin-1", "replace").decode("latin-1"), color) for text, color in parts]
    left, top, right, bottom = face.getbbox("".join(text for text, _ in parts))
    text_w, text_h = right - left, bottom - top
    y = (height - text_h) // 2 - top
    scroll = spec.scroll if spec.scroll is not None else text_w > width
    if not scroll:
        image = Image.new("RGB", (width, height), spec.background)
        _draw_parts(ImageDraw.Draw(image), (width - text_w) // 2 - left, y, parts, face)
        return [(image.tobytes(), STILL_HOLD_US)]
    # A strip with a blank panel either side: the text enters right, leaves left.
    strip = Image.new("RGB", (text_w + 2 * width, height), spec.background)
    _draw_parts(ImageDraw.Draw(strip), width - left, y, parts, face)
    step = max(1, math.ceil(spec.speed * MIN_FRAME_US / 1e6))
    hold_us = round(step * 1e6 / spec.speed)
    return [(strip.crop((x, 0, x + width, height)).tobytes(), hold_us) for x in range(0, text_w + width + 1, step)]


def _draw_parts(draw: ImageDraw.ImageDraw, x: float, y: int, parts: list[tuple[str, str]], face) -> None:
    """Coloured parts of one line, one after another."""
    for text, color in parts:
        draw.text((x, y), text, font=face, fill=color)
        x += face.getlength(text)
