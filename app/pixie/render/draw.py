"""Drawing: pixels, lines, rectangles, circles, text and bitmaps on the panel's coordinates.

Primitives are drawn in order, a later one over an earlier, crisp (no anti-aliasing, except in the
"sans" font, which has it by nature); (0, 0) is the top-left pixel. Whatever falls off the panel is
clipped: Pillow draws only what lands on the image (spec.py bounds coordinates and sizes, so nothing
here is unbounded). A `draw` kind is one still frame; a text's `draw` is drawn over each of its frames.
"""

from PIL import Image, ImageDraw

from . import fonts
from .assets import NONE, Assets
from .frames import STILL_HOLD_US, Frames


def draw_frames(spec, width: int, height: int, assets: Assets = NONE) -> Frames:
    """A draw job: its primitives on its background."""
    image = Image.new("RGB", (width, height), spec.background)
    draw(image, spec.draw, assets)
    return [(image.tobytes(), STILL_HOLD_US)]


def over(frames: Frames, primitives, width: int, height: int, assets: Assets = NONE) -> Frames:
    """Each frame with the primitives drawn over it, exactly as on a background of that frame."""
    out = []
    for frame, hold in frames:
        image = Image.frombytes("RGB", (width, height), frame)
        draw(image, primitives, assets)
        out.append((image.tobytes(), hold))
    return out


def draw(image: Image.Image, primitives, assets: Assets = NONE) -> None:
    """Draw the primitives (objects with a spec primitive's fields) on `image`, in order."""
    pen = ImageDraw.Draw(image)
    for p in primitives:
        match p.op:
            case "pixel":
                pen.point((p.x, p.y), fill=p.color)
            case "line":
                pen.line([(p.x0, p.y0), (p.x1, p.y1)], fill=p.color, width=1)
            case "rect" | "filled_rect":
                box = (p.x, p.y, p.x + p.w - 1, p.y + p.h - 1)
                pen.rectangle(box, **{"fill" if p.op == "filled_rect" else "outline": p.color})
            case "circle" | "filled_circle":
                if p.r == 0:  # Pillow fills no pixel for a box that small: the centre alone
                    pen.point((p.x, p.y), fill=p.color)
                else:
                    box = (p.x - p.r, p.y - p.r, p.x + p.r, p.y + p.r)
                    pen.ellipse(box, **{"fill" if p.op == "filled_circle" else "outline": p.color})
            case "text":
                _text(image, p, assets)
            case "bitmap":
                rgb = bytes(c for color in p.pixels for c in (color >> 16, color >> 8 & 0xFF, color & 0xFF))
                image.paste(Image.frombytes("RGB", (p.w, p.h), rgb), (p.x, p.y))
            case _:
                raise TypeError(f"cannot draw a {p.op!r}")


def _text(image: Image.Image, p, assets: Assets) -> None:
    """Its lines from (x, y) down; "auto" is the largest built-in whose height fits from y to the bottom."""
    face = fonts.face(p.font, image.height - max(p.y, 0), assets, p.size)
    for i, line in enumerate(p.text.split("\n")):
        fonts.draw(image, p.x, p.y + i * face.height + face.ascent, fonts.runs([(line, p.color)], face))
