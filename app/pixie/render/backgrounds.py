"""Animated backgrounds behind a text (AWTRIX's `effect`) and weather over it (its `overlay`).

Not render/effects.py (a text's own blink, fade, rainbow). Each background is a function of the loop's phase
(0..1) and the panel's pixel grid, written from AWTRIX's docs/effects.md: every motion turns a whole number
of times per loop, so the last frame leads into the first. Colours come from a palette of 16 (FastLED's
built-ins, as AWTRIX names them) looked up at an index 0..255: blend mixes the two nearest entries, else the
lower one. Random parts (stars, drops, ripples' centres) come from a seed, so a job draws the same frames.
"""

import math

import numpy as np
from PIL import Image

from .frames import MIN_FRAME_US

LOOP_US = 12_000_000  # one loop at speed 1; speed n: 1/n of it
LOOP_FRAMES = 96  # at most, each held at least 2 * MIN_FRAME_US (30 fps)


def _palette(*colors: int) -> np.ndarray:
    return np.array([[(c >> 16) & 255, (c >> 8) & 255, c & 255] for c in colors], dtype=np.float64)


# FastLED's 16-colour palettes under AWTRIX's names (Stripe: its RainbowStripe).
PALETTES = {
    "Cloud": _palette(
        *[0x0000FF]
        + [0x00008B] * 7
        + [0x0000FF, 0x00008B, 0x87CEEB, 0x87CEEB, 0xADD8E6, 0xFFFFFF]
        + [0xADD8E6, 0x87CEEB]
    ),
    "Lava": _palette(
        0x000000,
        0x800000,
        0x000000,
        0x800000,
        0x8B0000,
        0x8B0000,
        0x800000,
        0x8B0000,
        0x8B0000,
        0x8B0000,
        0xFF0000,
        0xFFA500,
        0xFFFFFF,
        0xFFA500,
        0xFF0000,
        0x8B0000,
    ),
    "Ocean": _palette(
        0x191970,
        0x00008B,
        0x191970,
        0x000080,
        0x00008B,
        0x0000CD,
        0x2E8B57,
        0x008080,
        0x5F9EA0,
        0x0000FF,
        0x008B8B,
        0x6495ED,
        0x7FFFD4,
        0x2E8B57,
        0x00FFFF,
        0x87CEFA,
    ),
    "Forest": _palette(
        0x006400,
        0x006400,
        0x556B2F,
        0x006400,
        0x008000,
        0x228B22,
        0x6B8E23,
        0x008000,
        0x2E8B57,
        0x66CDAA,
        0x32CD32,
        0x9ACD32,
        0x90EE90,
        0x7CFC00,
        0x66CDAA,
        0x228B22,
    ),
    "Stripe": _palette(
        0xFF0000, 0, 0xAB5500, 0, 0xABAB00, 0, 0x00FF00, 0, 0x00AB55, 0, 0x0000FF, 0, 0x5500AB, 0, 0xAB0055, 0
    ),
    "Party": _palette(
        0x5500AB,
        0x84007C,
        0xB5004B,
        0xE5001B,
        0xE81700,
        0xB84700,
        0xAB7700,
        0xABAB00,
        0xAB5500,
        0xDD2200,
        0xF2000E,
        0xC2003E,
        0x8F0071,
        0x5F00A1,
        0x2F00D0,
        0x0007F9,
    ),
    "Heat": _palette(
        0x000000,
        0x330000,
        0x660000,
        0x990000,
        0xCC0000,
        0xFF0000,
        0xFF3300,
        0xFF6600,
        0xFF9900,
        0xFFCC00,
        0xFFFF00,
        0xFFFF33,
        0xFFFF66,
        0xFFFF99,
        0xFFFFCC,
        0xFFFFFF,
    ),
    "Rainbow": _palette(
        0xFF0000,
        0xD52A00,
        0xAB5500,
        0xAB7F00,
        0xABAB00,
        0x56D500,
        0x00FF00,
        0x00D52A,
        0x00AB55,
        0x0056AA,
        0x0000FF,
        0x2A00D5,
        0x5500AB,
        0x7F0081,
        0xAB0055,
        0xD5002B,
    ),
}


def colors(palette: str, index: np.ndarray, blend: bool) -> np.ndarray:
    """The palette's colours at indices 0..255 (any float array): (..., 3) floats."""
    index = np.mod(index, 256)
    entries = PALETTES[palette]
    low = (index // 16).astype(int) % 16  # a float just under 256 may round up to it
    if not blend:
        return entries[low]
    mix = (np.mod(index, 16) / 16)[..., None]
    return entries[low] * (1 - mix) + entries[(low + 1) % 16] * mix


def _grid(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    return np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))


def _plasma(p, w, h, palette, blend, rng):
    """Sines across, down, diagonally and around the centre, all turning once a loop."""
    x, y = _grid(w, h)
    a = 2 * math.pi * p
    v = (
        np.sin(x / 6 + a)
        + np.sin(y / 4 - a)
        + np.sin((x + y) / 10 + a)
        + np.sin(np.hypot(x - w / 2, y - h / 2) / 4 - a)
    )
    return colors(palette, (v + 4) * 32 + 256 * p, blend)


def _plasma_cloud(p, w, h, palette, blend, rng):
    """Slow, broad swirls: low-frequency sines over a seeded phase field, lit unevenly as clouds are."""
    x, y = _grid(w, h)
    a = 2 * math.pi * p
    shift = rng.uniform(0, 2 * math.pi, 3)
    v = np.sin(x / 11 + shift[0] + a) * np.cos(y / 7 + shift[1] - a) + np.sin((x - y) / 15 + shift[2] + 2 * a)
    light = 0.55 + 0.45 * np.sin(x / 9 - y / 5 + a)[..., None]
    return colors(palette, (v + 2) * 64, blend) * light


def _fade(p, w, h, palette, blend, rng):
    """The whole panel one colour, through the palette once a loop."""
    return np.broadcast_to(colors(palette, np.array(256 * p), blend), (h, w, 3))


def _color_waves(p, w, h, palette, blend, rng):
    """The palette across the panel, travelling left, its rows swaying."""
    x, y = _grid(w, h)
    sway = 16 * np.sin(2 * math.pi * (y / h + p))
    return colors(palette, x * 256 / w + sway - 256 * p, blend)


def _radar(p, w, h, palette, blend, rng):
    """A beam turning about the centre once a loop, its trail fading over a quarter turn; hue by angle."""
    x, y = _grid(w, h)
    angle = np.mod(np.arctan2(y - (h - 1) / 2, x - (w - 1) / 2) / (2 * math.pi), 1)
    behind = np.mod(p - angle, 1)
    level = np.clip(1 - behind * 4, 0, 1)[..., None]
    return colors(palette, angle * 256, blend) * level


def _ripple(p, w, h, palette, blend, rng):
    """Rings spreading from seeded points, each starting at its own time, one ring each per loop."""
    x, y = _grid(w, h)
    out = np.zeros((h, w, 3))
    reach = math.hypot(w, h) / 2
    for cx, cy, start, hue in zip(
        rng.uniform(0, w, 4), rng.uniform(0, h, 4), rng.uniform(0, 1, 4), rng.uniform(0, 256, 4), strict=True
    ):
        age = (p - start) % 1
        ring = np.clip(1 - np.abs(np.hypot(x - cx, y - cy) - age * reach), 0, 1) * (1 - age)
        out = np.maximum(out, colors(palette, np.array(hue), blend) * ring[..., None])
    return out


def _twinkling_stars(p, w, h, palette, blend, rng):
    """A star every 12 pixels or so, each in a palette colour, brightening and dimming 1-3 times a loop."""
    n = max(1, w * h // 12)
    out = np.zeros((h, w, 3))
    xs, ys = rng.integers(0, w, n), rng.integers(0, h, n)
    phase, turns, hue = rng.uniform(0, 1, n), rng.integers(1, 4, n), rng.uniform(0, 256, n)
    level = np.clip(np.sin(2 * math.pi * (phase + turns * p)), 0, 1)[:, None]
    out[ys, xs] = colors(palette, hue, blend) * level
    return out


def _matrix(p, w, h, palette, blend, rng):
    """Green drops falling down each column (1-3 passes a loop), bright heads and fading tails; no palette."""
    tail = max(4, h // 3)
    lap = h + tail
    speed, offset = rng.integers(1, 4, w), rng.uniform(0, lap, w)
    _, y = _grid(w, h)
    head = np.mod(offset + speed * p * lap, lap)
    behind = head[None, :] - y  # rows above the head, 0 at it
    level = np.where((behind >= 0) & (behind < tail), 1 - behind / tail, 0)
    out = np.zeros((h, w, 3))
    out[..., 1] = 255 * level
    out[..., 0] = out[..., 2] = np.where((behind >= 0) & (behind < 1), 200, 0)  # the head almost white
    return out


EFFECTS = {
    "Matrix": _matrix,
    "Plasma": _plasma,
    "PlasmaCloud": _plasma_cloud,
    "Fade": _fade,
    "ColorWaves": _color_waves,
    "TwinklingStars": _twinkling_stars,
    "Ripple": _ripple,
    "Radar": _radar,
}
# AWTRIX's defaults per effect (docs/effects.md's table): speed, palette, blend.
DEFAULTS = {
    "Matrix": (8, "Rainbow", False),
    "Plasma": (2, "Rainbow", True),
    "PlasmaCloud": (3, "Rainbow", True),
    "Fade": (1, "Rainbow", True),
    "ColorWaves": (3, "Rainbow", True),
    "TwinklingStars": (4, "Ocean", False),
    "Ripple": (3, "Rainbow", True),
    "Radar": (1, "Rainbow", True),
}
MAX_SPEED = 10


def loop(speed: float, max_frames: int) -> tuple[int, int]:
    """(frames, µs each) of one loop at `speed`: LOOP_US / speed, in at most LOOP_FRAMES and max_frames."""
    length = LOOP_US / speed
    frames = max(1, min(LOOP_FRAMES, max_frames, int(length // (2 * MIN_FRAME_US))))
    return frames, round(length / frames)


class Background:
    """An effect's pictures over one loop, for a text to be drawn on: `at(t)` the one shown at time t, with
    `still` (a picture, and the L mask of what of it stays over the effect: a top text, a bar) on it."""

    def __init__(
        self,
        name: str,
        width: int,
        height: int,
        seed: int,
        max_frames: int,
        speed: float | None = None,
        palette: str | None = None,
        blend: bool | None = None,
        still=None,
    ):
        default_speed, default_palette, default_blend = DEFAULTS[name]
        self.frames, self.hold_us = loop(speed or default_speed, max_frames)
        self.length_us = self.frames * self.hold_us
        draw = EFFECTS[name]
        args = (width, height, palette or default_palette, default_blend if blend is None else blend)
        self.images = [
            Image.fromarray(
                np.clip(np.rint(draw(k / self.frames, *args, np.random.default_rng(seed))), 0, 255).astype(np.uint8),
                "RGB",
            )
            for k in range(self.frames)
        ]
        if still is not None:
            self.images = [Image.composite(still[0], image, still[1]) for image in self.images]

    def at(self, t_us: int) -> Image.Image:
        return self.images[t_us % self.length_us // self.hold_us]

    def changes(self, length_us: int) -> list[int]:
        """When the picture changes within [0, length_us)."""
        return list(range(0, length_us, self.hold_us))


# Weather over the panel: what falls, how many per 100 pixels, its colour, length (px), rows per loop per pass.
OVERLAYS = {
    "snow": ((255, 255, 255), 3, 1, 1),
    "drizzle": ((110, 150, 255), 2, 1, 3),
    "rain": ((60, 110, 255), 5, 2, 4),
    "storm": ((90, 120, 255), 9, 3, 6),
    "thunder": ((90, 120, 255), 6, 3, 5),
    "frost": ((190, 230, 255), 0, 0, 0),
}
OVERLAY_FRAMES = 48
OVERLAY_HOLD_US = 62_500  # a 3 s loop at 16 fps


def weather(name: str, width: int, height: int, seed: int) -> list[tuple[Image.Image, Image.Image]]:
    """The overlay's loop: (RGB picture, L mask of what it covers) per frame, OVERLAY_HOLD_US each.
    Drops fall straight, a whole number of panel heights a loop (snow swaying as it falls); thunder lights
    the panel twice; frost is ice creeping in from the edges and glinting."""
    color, density, length, passes = OVERLAYS[name]
    rng = np.random.default_rng(seed)
    x, y = _grid(width, height)
    n = width * height * density // 100
    xs, ys, lanes = rng.uniform(0, width, n), rng.uniform(0, height, n), rng.integers(1, 3, n)
    edge = np.minimum(np.minimum(x, width - 1 - x), np.minimum(y, height - 1 - y))
    ice = edge < rng.uniform(0, 3, (height, width))
    out = []
    for k in range(OVERLAY_FRAMES):
        p = k / OVERLAY_FRAMES
        cover = np.zeros((height, width))
        if name == "frost":
            glint = rng.uniform(0, 1, (height, width)) < 0.08
            cover = np.where(ice, np.where(glint, 1.0, 0.6), 0)
        else:
            fall = ys + lanes * passes * p * height
            for i in range(length):
                row = np.mod(np.floor(fall) - i, height).astype(int)
                drift = np.sin(2 * math.pi * (p + ys / height)) * 1.5 if name == "snow" else 0
                col = np.mod(np.floor(xs + drift), width).astype(int)
                cover[row, col] = np.maximum(cover[row, col], 1 - i / length)
        picture = np.broadcast_to(np.array(color, dtype=np.float64), (height, width, 3)).copy()
        if name == "thunder" and k in (6, 9, 30):  # a flash, a flicker, another flash
            picture[:], cover = 255, np.maximum(cover, 0.7)
        out.append(
            (
                Image.fromarray(picture.astype(np.uint8), "RGB"),
                Image.fromarray(np.rint(cover * 255).astype(np.uint8), "L"),
            )
        )
    return out


def over(frames, name: str, width: int, height: int, seed: int):
    """The frames with the weather over them: each frame cut where the overlay changes during it, the whole
    as long as before (the overlay's 3 s loop restarts at the frames' first)."""
    weather_frames = weather(name, width, height, seed)
    loop_us = OVERLAY_FRAMES * OVERLAY_HOLD_US
    if len(frames) == 1:  # a still picture: shown for the overlay's loop, which then loops seamlessly
        frames = [(frames[0][0], loop_us)]
    out, t = [], 0
    for data, hold in frames:
        image = Image.frombytes("RGB", (width, height), data)
        end = t + hold
        while t < end:
            step = min(end, (t // OVERLAY_HOLD_US + 1) * OVERLAY_HOLD_US) - t
            picture, mask = weather_frames[t % loop_us // OVERLAY_HOLD_US]
            out.append((Image.composite(picture, image, mask).tobytes(), step))
            t += step
    return out
