"""Pillow rendering: a job spec in, a list of (RGB24 frame, hold µs) out.

Runs in the render workers (and for the idle clock), never in the display's
playback loop. Every function here is pure: same input, same frames (a
clock's face is the time now: its callers say when that is). It takes
any object with the fields of a `spec` model and does not import pydantic, so
the display process stays small.
"""

import io
import math
import time
from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from PIL import Image, ImageColor, ImageDraw, ImageFont, ImageOps, ImageSequence, UnidentifiedImageError

from . import errors

# Bump when a change alters the pixels produced for the same spec: cached
# streams are keyed on it.
VERSION = 1
FORMATS = ("PNG", "JPEG", "BMP", "GIF", "WEBP")
STILL_HOLD_US = 1_000_000
MIN_FRAME_US = 1_000_000 // 60  # nothing on a HUB75 panel needs more than 60 fps
# Browsers treat GIF delays of 0-10 ms as "unset" and show 100 ms: so do we.
DEFAULT_GIF_DELAY_MS = 100


class MediaError(errors.Invalid):
    """Bytes that are not an image we can show."""


class MediaTooLarge(MediaError, errors.TooLarge):
    """An image or animation over the [render] limits."""


class MediaUnsupported(MediaError, errors.Unsupported):
    """Bytes in no format we read."""


def open_media(data: bytes, limits) -> Image.Image:
    """Open and check an upload against the [render] limits before decoding
    more than its headers (and, for animations, their frame delays)."""
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
    try:  # decode now: a truncated file is the sender's error, not a worker's
        total_us = sum(hold_us(frame) for frame in ImageSequence.Iterator(image) if frame.load() or True)
        image.seek(0)
    except (OSError, ValueError, SyntaxError, EOFError) as e:
        raise MediaError(f"corrupt image: {e}") from None
    if frames > 1:
        if total_us > limits.max_animation_s * 1e6:
            raise MediaTooLarge(f"animation lasts {total_us / 1e6:.0f} s, more than {limits.max_animation_s:.0f} s")
    return image


def hold_us(frame: Image.Image) -> int:
    delay = frame.info.get("duration") or 0
    return int(delay if delay > 10 else DEFAULT_GIF_DELAY_MS) * 1000


def render(spec, media: bytes | None, width: int, height: int, limits, now: float = 0.0) -> list[tuple[bytes, int]]:
    """Frames for one job; `limits` is the [render] config section, `now` a clock's time."""
    kind = spec.kind
    if kind == "text":
        frames = text_frames(spec, width, height)
    elif kind in ("image", "animation"):
        image = open_media(media, limits)
        frames = media_frames(image, spec.fit, width, height, animate=kind == "animation")
    elif kind == "fill":
        frames = [(Image.new("RGB", (width, height), spec.color).tobytes(), STILL_HOLD_US)]
    elif kind == "clear":
        frames = [(bytes(width * height * 3), STILL_HOLD_US)]
    elif kind == "pattern":
        frames = [(pattern(spec.pattern, width, height).tobytes(), STILL_HOLD_US)]
    elif kind == "clock":
        frames = [(clock_face(spec, width, height, now), STILL_HOLD_US)]
    elif kind == "countdown":
        seconds = min(limits.max_frames, int(limits.max_animation_s), math.ceil(spec.duration_s or COUNTDOWN_JOB_S))
        frames = [(countdown_face(spec, width, height, now + i), 1_000_000) for i in range(seconds)]
    elif kind == "demo":
        frames = [(countdown(i, spec.n, width, height).tobytes(), 1_000_000) for i in range(spec.n, -1, -1)]
    else:
        raise TypeError(f"cannot render a {kind!r} job")
    if len(frames) > limits.max_frames:
        raise ValueError(f"{len(frames)} frames, more than render.max_frames={limits.max_frames}")
    if sum(hold for _, hold in frames) > limits.max_animation_s * 1e6:
        raise ValueError(f"one pass lasts more than render.max_animation_s={limits.max_animation_s}")
    return frames


def font(name: str, size: int | None, height: int):
    if name == "pixel":
        return ImageFont.load_default_imagefont()
    return ImageFont.load_default(size or max(8, height // 2))


def text_frames(spec, width: int, height: int) -> list[tuple[bytes, int]]:
    face = font(spec.font, spec.size, height)
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


def media_frames(image: Image.Image, fit: str, width: int, height: int, animate: bool) -> list[tuple[bytes, int]]:
    try:
        sources = ImageSequence.Iterator(image) if animate else [image]
        frames = []
        for frame in sources:
            frames.append((place(frame, fit, width, height).tobytes(), hold_us(frame) if animate else STILL_HOLD_US))
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


def pattern(name: str, width: int, height: int) -> Image.Image:
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    if name == "bars":
        colors = ["white", "yellow", "cyan", "lime", "magenta", "red", "blue", "black"]
        for i, color in enumerate(colors):
            draw.rectangle((i * width // 8, 0, (i + 1) * width // 8 - 1, height), fill=color)
    elif name == "gradient":
        for x in range(width):
            level = round(255 * x / max(1, width - 1))
            draw.line((x, 0, x, height // 3 - 1), fill=(level, 0, 0))
            draw.line((x, height // 3, x, 2 * height // 3 - 1), fill=(0, level, 0))
            draw.line((x, 2 * height // 3, x, height), fill=(0, 0, level))
    else:
        for x in range(0, width, 8):
            draw.line((x, 0, x, height), fill="white")
        for y in range(0, height, 8):
            draw.line((0, y, width, y), fill="white")
        draw.rectangle((0, 0, width - 1, height - 1), outline="red")
    return image


def countdown(i: int, n: int, width: int, height: int) -> Image.Image:
    """The built-in demo: the number over a bar that shrinks to zero."""
    image = pattern("gradient", width, height) if i == 0 else Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    face = font("sans", None, height)
    draw.text((width // 2, height // 2 - 2), str(i), font=face, fill="white", anchor="mm")
    if i:
        draw.rectangle((0, height - 3, max(0, round(width * i / n) - 1), height - 1), fill=(0, 120, 255))
    return image


IDLE_CLOCK = SimpleNamespace(format="24h", timezone=None, color="#5a3c14")  # dim: a display at rest does not glare
CLOCK_FORMATS = {"24h": "%H:%M", "12h": "%I:%M"}


def clock(width: int, height: int, now: float | None = None) -> bytes:
    """The idle screen."""
    return clock_face(IDLE_CLOCK, width, height, time.time() if now is None else now)


def clock_face(spec, width: int, height: int, now: float) -> bytes:
    """HH:MM at `now` in the clock's time zone (the device's, if it names none)."""
    zone = ZoneInfo(spec.timezone) if spec.timezone else None
    moment = datetime.fromtimestamp(now, zone) if zone else datetime.fromtimestamp(now).astimezone()
    stamp = moment.strftime(CLOCK_FORMATS[spec.format]).removeprefix("0" if spec.format == "12h" else "")
    return _centered(stamp, spec.color, width, height)


COUNTDOWN_JOB_S = 10  # a countdown job without a duration_s


def countdown_face(spec, width: int, height: int, now: float) -> bytes:
    """The time left at `now` until spec.to, in whole seconds rounded up (00:00 once it has come)."""
    left = max(0, math.ceil(datetime.fromisoformat(spec.to).timestamp() - now))  # naive: the device's local time
    days, rest = divmod(left, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        stamp = f"{days}d {hours:02}:{minutes:02}"
    else:
        stamp = f"{hours}:{minutes:02}:{seconds:02}" if hours else f"{minutes:02}:{seconds:02}"
    return _centered(stamp, spec.color, width, height)


def face(spec, width: int, height: int, now: float) -> tuple[bytes, float | None]:
    """A face drawn from the time (vocabulary.FACES) at `now`, and when it changes next (None: never)."""
    if spec.kind == "clock":
        return clock_face(spec, width, height, now), (now // 60 + 1) * 60
    frame = countdown_face(spec, width, height, now)
    return frame, (math.floor(now) + 1 if now < datetime.fromisoformat(spec.to).timestamp() else None)


def _centered(stamp: str, color: str, width: int, height: int) -> bytes:
    image = Image.new("RGB", (width, height))
    face = font("sans", None, height)
    ImageDraw.Draw(image).text((width // 2, height // 2), stamp, font=face, fill=color, anchor="mm")
    return image.tobytes()


def indicators(frame: bytes, lit: dict[int, tuple[int, int, int]], width: int, height: int) -> bytes:
    """`frame` with AWTRIX's indicators over it, each a corner of pixels on the right edge, scaled to the
    panel (AWTRIX's 32x8 has 3 pixels a corner): 1 top right, 2 the middle, 3 bottom right."""
    if not lit:
        return frame
    k = max(1, height // 8)
    image = Image.frombytes("RGB", (width, height), frame)
    draw = ImageDraw.Draw(image)
    right = width - 1
    for number, color in lit.items():
        top = {1: 0, 2: (height - 2 * k) // 2, 3: height - 2 * k}[number]
        if number == 2:  # a bar of two cells on the edge
            draw.rectangle((right - k + 1, top, right, top + 2 * k - 1), fill=color)
            continue
        row = top if number == 1 else top + k  # the cell on the edge, beside the corner
        draw.rectangle((right - 2 * k + 1, row, right, row + k - 1), fill=color)
        other = top + k if number == 1 else top
        draw.rectangle((right - k + 1, other, right, other + k - 1), fill=color)
    return image.tobytes()


def indicator_colors(indicators: dict[str, dict], now: float) -> dict[int, tuple[int, int, int]]:
    """The colours the indicators have at `now`: blinking ones are off half of each period, fading ones
    rise and fall (in 8 steps, so the display redraws a few times a period, not every frame)."""
    lit = {}
    for number, how in indicators.items():
        r, g, b = ImageColor.getrgb(how["color"])[:3]
        level = 1.0
        if how.get("blink_ms"):
            level = 1.0 if (now * 1000 // how["blink_ms"]) % 2 == 0 else 0.0
        elif how.get("fade_ms"):
            phase = (now * 1000 % (2 * how["fade_ms"])) / how["fade_ms"]
            level = round((phase if phase <= 1 else 2 - phase) * 8) / 8
        if level:
            lit[int(number)] = (round(r * level), round(g * level), round(b * level))
    return lit
