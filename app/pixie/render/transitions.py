"""Transitions: the frames between what the panel showed and the first frame of what comes next.

Pure functions of two ready frames and the progress `t` (0 < t < 1), computed by the display process
as it plays them (a 64x32 frame is 6 KB; Pillow draws one in tens of microseconds: `make bench`), so a
transition needs no render and no worker. AWTRIX's eleven (its `TEFF` codes 0-10, in that order in
AWTRIX_NAMES) are here with their looks; slide and wipe come in four directions.
"""

import functools
import random

from PIL import Image, ImageChops

CUT = "cut"
RANDOM = "random"
NAMES = (
    CUT,
    "fade",
    "dim",
    "slide-up",
    "slide-down",
    "slide-left",
    "slide-right",
    "wipe-up",
    "wipe-down",
    "wipe-left",
    "wipe-right",
    "zoom",
    "rotate",
    "pixelate",
    "curtain",
    "ripple",
    "blink",
    "reload",
    RANDOM,
)
# AWTRIX's transition effects by their TEFF code (its docs/api.md): what each becomes here.
AWTRIX = {
    "Random": RANDOM,
    "Slide": "slide-up",  # AWTRIX slides its apps up
    "Dim": "dim",
    "Zoom": "zoom",
    "Rotate": "rotate",
    "Pixelate": "pixelate",
    "Curtain": "curtain",
    "Ripple": "ripple",
    "Blink": "blink",
    "Reload": "reload",
    "Fade": "fade",
}
AWTRIX_NAMES = tuple(AWTRIX)
DEFAULT_MS = 400  # AWTRIX's TSPEED is 500 by default; its slides look slow on a 32-pixel-tall panel
FRAME_MS = 20  # a transition's frames come at 50 per second
BLINKS = 3  # blink: on, off, on


def pick(name: str, rng: random.Random) -> str:
    """The transition to play: `random` is one of the others (not a cut) each time, as AWTRIX's is."""
    return rng.choice([n for n in NAMES if n not in (CUT, RANDOM)]) if name == RANDOM else name


def progresses(duration_ms: int) -> list[float]:
    """Each transition frame's `t`, one per FRAME_MS: the middle of its slot, so none is either end."""
    count = round(duration_ms / FRAME_MS)
    return [(k + 0.5) / count for k in range(count)]


def frame(name: str, before: bytes, after: bytes, t: float, width: int, height: int) -> bytes:
    """The frame `t` of the way from `before` to `after` (RGB24 frames of the panel's size)."""
    size = (width, height)
    old, new = Image.frombytes("RGB", size, before), Image.frombytes("RGB", size, after)
    return _DRAW[name](old, new, t).tobytes()


def _fade(old: Image.Image, new: Image.Image, t: float) -> Image.Image:
    return Image.blend(old, new, t)


def _dim(old: Image.Image, new: Image.Image, t: float) -> Image.Image:
    """The old fades to black, then the new rises from it; brightness falls as the square of the time, as
    AWTRIX's does."""
    black = Image.new("RGB", old.size)
    if t < 0.5:
        return Image.blend(black, old, 1 - (2 * t) ** 2)
    return Image.blend(black, new, 1 - (2 * (1 - t)) ** 2)


def _slide(dx: int, dy: int):
    """The new comes in from the edge on the (dx, dy) side and pushes the old out of the opposite one."""

    def draw(old: Image.Image, new: Image.Image, t: float) -> Image.Image:
        w, h = old.size
        step = round(t * (w if dx else h))
        out = Image.new("RGB", old.size)
        out.paste(old, (-dx * step, -dy * step))
        out.paste(new, (dx * ((w if dx else 0) - step), dy * ((h if dy else 0) - step)))
        return out

    return draw


def _wipe(dx: int, dy: int):
    """An edge moving towards (dx, dy) from the opposite side uncovers the new over the old, which stays."""

    def draw(old: Image.Image, new: Image.Image, t: float) -> Image.Image:
        w, h = old.size
        reach = round(t * (w if dx else h))
        box = {
            (-1, 0): (w - reach, 0, w, h),
            (1, 0): (0, 0, reach, h),
            (0, -1): (0, h - reach, w, h),
            (0, 1): (0, 0, w, reach),
        }[(dx, dy)]
        out = old.copy()
        out.paste(new.crop(box), box[:2])
        return out

    return draw


def _zoom(old: Image.Image, new: Image.Image, t: float) -> Image.Image:
    """The old is magnified into its centre pixel, then the new out of its own (AWTRIX's zoom)."""
    picture, scale = (old, 1 - 2 * t) if t < 0.5 else (new, 2 * t - 1)
    w, h = picture.size
    cw, ch = max(1, round(w * scale)), max(1, round(h * scale))
    left, top = (w - cw) // 2, (h - ch) // 2
    return picture.crop((left, top, left + cw, top + ch)).resize(picture.size, Image.Resampling.NEAREST)


def _rotate(old: Image.Image, new: Image.Image, t: float) -> Image.Image:
    """One turn about the centre: the old for the first half of it, the new for the second."""
    picture = old if t < 0.5 else new
    return picture.rotate(-360 * t, Image.Resampling.NEAREST, fillcolor=(0, 0, 0))


def _pixelate(old: Image.Image, new: Image.Image, t: float) -> Image.Image:
    """Pixel by pixel, in a fixed random order, the new takes the old's place (AWTRIX swaps random pixels)."""
    cut = round(t * 256)
    return Image.composite(new, old, _noise(old.size).point(lambda v: 255 if v < cut else 0))


def _curtain(old: Image.Image, new: Image.Image, t: float) -> Image.Image:
    """The new opens from the middle outwards, the old drawn aside to both edges."""
    w, h = old.size
    half = round(t * w / 2)
    out = old.copy()
    box = (w // 2 - half, 0, w // 2 + half, h)
    out.paste(new.crop(box), box[:2])
    return out


def _ripple(old: Image.Image, new: Image.Image, t: float) -> Image.Image:
    """A checkerboard of both: the old on its even squares for the first half, on its odd ones after."""
    board = _checkerboard(old.size)
    return Image.composite(old, new, board if t < 0.5 else ImageChops.invert(board))


def _blink(old: Image.Image, new: Image.Image, t: float) -> Image.Image:
    """On, off, on: the old, black, the new."""
    if int(t * BLINKS) % 2:
        return Image.new("RGB", old.size)
    return old if t < 0.5 else new


def _reload(old: Image.Image, new: Image.Image, t: float) -> Image.Image:
    """The old's columns go dark from the right, then the new's light from the left."""
    picture, share = (old, 1 - 2 * t) if t < 0.5 else (new, 2 * t - 1)
    w, h = picture.size
    out = Image.new("RGB", picture.size)
    visible = round(w * share)
    out.paste(picture.crop((0, 0, visible, h)), (0, 0))
    return out


@functools.cache
def _noise(size: tuple[int, int]) -> Image.Image:
    """The pixels' order for pixelate: the same for a size every time (pictures can be tested)."""
    order = random.Random(f"{size}")  # noqa: S311 - a look, not a secret
    return Image.frombytes("L", size, order.randbytes(size[0] * size[1]))


@functools.cache
def _checkerboard(size: tuple[int, int]) -> Image.Image:
    w, h = size
    return Image.frombytes("L", size, bytes(255 if (x + y) % 2 == 0 else 0 for y in range(h) for x in range(w)))


_DRAW = {
    CUT: lambda old, new, t: new,
    "fade": _fade,
    "dim": _dim,
    "slide-up": _slide(0, 1),
    "slide-down": _slide(0, -1),
    "slide-left": _slide(1, 0),
    "slide-right": _slide(-1, 0),
    "wipe-up": _wipe(0, -1),
    "wipe-down": _wipe(0, 1),
    "wipe-left": _wipe(-1, 0),
    "wipe-right": _wipe(1, 0),
    "zoom": _zoom,
    "rotate": _rotate,
    "pixelate": _pixelate,
    "curtain": _curtain,
    "ripple": _ripple,
    "blink": _blink,
    "reload": _reload,
}
