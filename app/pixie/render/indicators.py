"""Marks the display draws over frames: AWTRIX's indicators (corners of colour on the right edge, over
every frame) and the red frame of a stale app."""

from PIL import Image, ImageColor, ImageDraw


def draw(frame: bytes, lit: dict[int, tuple[int, int, int]], width: int, height: int) -> bytes:
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


def colors(indicators: dict[str, dict], now: float) -> dict[int, tuple[int, int, int]]:
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


STALE_COLOR = (255, 0, 0)


def stale(frame: bytes, width: int, height: int) -> bytes:
    """`frame` inside a 1-pixel red rectangle: an app whose lifetime ended, kept (AWTRIX's lifetimeMode 1)."""
    image = Image.frombytes("RGB", (width, height), frame)
    ImageDraw.Draw(image).rectangle((0, 0, width - 1, height - 1), outline=STALE_COLOR)
    return image.tobytes()
