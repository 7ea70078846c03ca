"""Library icons: checked when uploaded, scaled by a whole factor to the line they stand beside.

AWTRIX's icons are 8x8 (LaMetric's too): on a 32-row panel they are drawn 3x, pixel for pixel,
never blurred; an animated one keeps its own frame times.
"""

import io
import math

from PIL import Image, ImageSequence

from .. import errors
from . import media
from .frames import STILL_HOLD_US, Frames

# The most of the panel's width an icon is scaled to: the text keeps the rest (AWTRIX's 8 px of 32 is a
# quarter; 3/8 lets an 8x8 icon fill 24 rows of a 64x32 panel).
MAX_WIDTH_SHARE = 3 / 8
GAP = 1  # px between the icon and the text
_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a")

IconFrames = list[tuple[Image.Image, int]]  # RGBA frames, each with its hold time in µs


class IconError(errors.Invalid):
    """A file that cannot be an icon; the message says why, for the person who uploaded it."""


class IconTooLarge(IconError, errors.TooLarge):
    """An icon taller than the panel, or with too many frames."""


class IconUnsupported(IconError, errors.Unsupported):
    """Not a PNG, GIF or WebP."""


def open_icon(data: bytes, limits, max_height: int) -> Image.Image:
    """Check an upload as an icon: a PNG, GIF or WebP (animated or not) at most `max_height` px tall
    (the panel's height), within `limits` (the [render] section's fields: max_image_pixels, max_frames,
    max_animation_s). Returns the image, opened; raises an IconError (or a media.MediaError: corrupt,
    too many pixels, frames or seconds) saying why not."""
    if not (data.startswith(_SIGNATURES) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")):
        raise IconUnsupported("not a PNG, GIF or WebP image")
    image = media.open_media(data, limits)
    width, height = image.size
    if height > max_height:
        raise IconTooLarge(f"icon is {height} px tall, the panel is {max_height}")
    return image


def icon_frames(data: bytes, line_height: int, panel_width: int | None = None) -> IconFrames:
    """The icon's frames (each with its own hold time) scaled by the largest whole factor that fits
    `line_height` and MAX_WIDTH_SHARE of `panel_width`, nearest neighbour: every source pixel a square
    block. An icon that does not fit even unscaled is divided by the smallest whole factor that fits."""
    image = Image.open(io.BytesIO(data))
    width, height = image.size
    max_width = panel_width * MAX_WIDTH_SHARE if panel_width else math.inf
    factor = int(min(max_width // width, line_height // height))
    if factor >= 1:
        size = (width * factor, height * factor)
    else:
        divisor = max(math.ceil(width / max_width), math.ceil(height / line_height))
        size = (max(1, width // divisor), max(1, height // divisor))
    frames = [
        (frame.convert("RGBA").resize(size, Image.Resampling.NEAREST), media.hold_us(frame))
        for frame in ImageSequence.Iterator(image)
    ]
    return frames if len(frames) > 1 else [(frames[0][0], STILL_HOLD_US)]


def line_icon(spec, assets, line_height: int, panel_width: int) -> IconFrames:
    """The frames of the icon a text spec names, for a line `line_height` px tall; [] when it names none
    or `assets` lacks it (an AWTRIX id that could not be fetched: the text plays without it)."""
    data = assets.icons.get(spec.icon) if spec.icon else None
    return icon_frames(data, line_height, panel_width) if data else []


def width(icons: IconFrames) -> int:
    """The icon's width in px (0: no icon)."""
    return icons[0][0].width if icons else 0


def slot(icons: IconFrames) -> int:
    """The px an icon takes at the left of a line, its gap included (0: no icon)."""
    return width(icons) + GAP if icons else 0


def over(image: Image.Image, icons: IconFrames) -> Frames:
    """A still picture with the icon at its left, centred up and down: a frame per icon frame, each held
    as long as that one is (no icon: the picture alone)."""
    if not icons:
        return [(image.tobytes(), STILL_HOLD_US)]
    frames = []
    for icon, hold in icons:
        frame = image.copy()
        frame.paste(icon, (0, (image.height - icon.height) // 2), icon)
        frames.append((frame.tobytes(), hold))
    return frames
