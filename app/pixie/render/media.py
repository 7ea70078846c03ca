"""Uploaded images and animations: opened and checked against the limits, placed on the panel."""

import io

from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from .. import errors
from .frames import STILL_HOLD_US, Frames, Head, OnHead

FORMATS = ("PNG", "JPEG", "BMP", "GIF", "WEBP")
# Browsers treat GIF delays of 0-10 ms as "unset" and show 100 ms: so do we.
DEFAULT_GIF_DELAY_MS = 100


class MediaError(errors.Invalid):
    """Bytes that are not an image we can show."""


class MediaTooLarge(MediaError, errors.TooLarge):
    """An image or animation over the [render] limits."""


class MediaUnsupported(MediaError, errors.Unsupported):
    """Bytes in no format we read."""


def open_media(data: bytes, limits, decode: bool = True) -> Image.Image:
    """Open and check an upload against the [render] limits before decoding
    more than its headers; then, with `decode`, decode every frame (a truncated
    file is the sender's error, and an animation's length is known only then).
    A render worker passes False: media_frames decodes them next anyway (and
    kinds.render checks the length), and decoding a 300-frame GIF twice was a
    third of its render."""
    max_pixels, max_frames = limits.max_image_pixels, limits.max_frames
    if not data:
        raise MediaError("the file is empty")
    try:
        image = Image.open(io.BytesIO(data), formats=FORMATS)
    except UnidentifiedImageError:
        raise MediaUnsupported(f"not an image in a supported format ({', '.join(FORMATS)})") from None
    except Image.DecompressionBombError as e:
        raise MediaTooLarge(f"image has more than {max_pixels} pixels: {e}") from None
    except (OSError, ValueError, SyntaxError) as e:
        raise MediaError(f"corrupt image: {e}") from None
    width, height = image.size
    if width < 1 or height < 1:
        raise MediaError("image has no pixels")
    if width * height > max_pixels:
        raise MediaTooLarge(f"image is {width}x{height}, more than {max_pixels} pixels")
    frames = getattr(image, "n_frames", 1)
    if frames > max_frames:
        raise MediaTooLarge(f"animation has {frames} frames, more than {max_frames}")
    if frames * width * height > max_pixels * 4:
        raise MediaTooLarge(f"animation has {frames} frames of {width}x{height}: too many pixels to decode")
    if decode:
        try:
            total_us = sum(hold_us(frame) for frame in ImageSequence.Iterator(image) if frame.load() or True)
            image.seek(0)
        except (OSError, ValueError, SyntaxError, EOFError) as e:
            raise MediaError(f"corrupt image: {e}") from None
        if frames > 1 and total_us > limits.max_animation_s * 1e6:
            raise MediaTooLarge(f"animation lasts {total_us / 1e6:.0f} s, more than {limits.max_animation_s:.0f} s")
    return image


def hold_us(frame: Image.Image) -> int:
    delay = frame.info.get("duration") or 0
    return int(delay if delay > 10 else DEFAULT_GIF_DELAY_MS) * 1000


def media_frames(
    image: Image.Image, fit: str, width: int, height: int, animate: bool, on_head: OnHead | None = None
) -> Frames:
    """Its frames on the panel; a long animation's head handed to `on_head` on the way (frames.Head)."""
    try:
        sources = ImageSequence.Iterator(image) if animate else [image]
        head = Head(on_head, getattr(image, "n_frames", 1) if animate else 1)
        frames = []
        for frame in sources:
            frames.append((place(frame, fit, width, height).tobytes(), hold_us(frame) if animate else STILL_HOLD_US))
            head.drawn(frames)
    except (OSError, ValueError, SyntaxError, EOFError) as e:
        raise MediaError(f"corrupt image: {e}") from None
    return frames


def place(frame: Image.Image, fit: str, width: int, height: int) -> Image.Image:
    """Scale one frame onto a black panel-sized canvas."""
    rgba = frame.convert("RGBA")
    if fit == "fill":
        rgba = ImageOps.fit(rgba, (width, height), Image.Resampling.LANCZOS)
    elif fit == "fit":
        rgba = ImageOps.contain(rgba, (width, height), Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", (width, height))
    canvas.paste(rgba, ((width - rgba.width) // 2, (height - rgba.height) // 2), rgba)
    return canvas
