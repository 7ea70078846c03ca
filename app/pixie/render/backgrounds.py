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


# The rest follow AWTRIX's looks on its 32x8 panel: those drawn in its pixels (games, lines, checks) draw in
# cells of _unit px, so a 64x32 panel shows them on a 32x16 grid.
def _unit(w: int, h: int) -> int:
    return max(1, min(w // 32, h // 8))


def _triangle(t):
    """0 -> 1 -> 0 once per unit of t: a bounce between two walls."""
    return 1 - np.abs(2 * np.mod(t, 1) - 1)


def _scaled(cells: np.ndarray, u: int, w: int, h: int) -> np.ndarray:
    """A grid of cells drawn u px each, on a (h, w, 3) panel (the remainder right and below black)."""
    out = np.zeros((h, w, 3))
    big = cells.repeat(u, axis=0).repeat(u, axis=1)
    out[: big.shape[0], : big.shape[1]] = big
    return out


def _pacifica(p, w, h, palette, blend, rng):
    """Swell: three wave trains crossing at their own angles and speeds, whitecaps where they crest together."""
    x, y = _grid(w, h)
    x, y, a = x * 32 / w, y * 32 / w, 2 * math.pi * p  # wavelengths as on a 32-wide panel
    swell = (np.sin(x / 3 - y / 5 + a) + np.sin(x / 5 + y / 2.5 - 2 * a) + np.sin((x + y) / 7 + 3 * a)) / 3
    water = colors(palette, (swell + 1) * 120, blend)
    foam = (np.clip(swell - 0.55, 0, 1) / 0.45 * 0.8)[..., None]
    return water + (255 - water) * foam


def _theater_chase(p, w, h, palette, blend, rng):
    """Every third column lit, marching right 48 columns a loop; hue across the panel, drifting once a loop."""
    u = _unit(w, h)
    x, _ = _grid(w, h)
    lit = (np.mod(x // u - math.floor(48 * p), 3) == 0)[..., None]
    return colors(palette, x // u * u * 256 / w + 256 * p, blend) * lit


def _moving_line(p, w, h, palette, blend, rng):
    """A line across the panel bouncing down and up 4 times a loop, through the palette once a loop."""
    u = _unit(w, h)
    _, y = _grid(w, h)
    row = round(float(_triangle(4 * p)) * (h // u - 1))
    on = ((y // u) == row)[..., None]
    return np.broadcast_to(colors(palette, np.array(256 * p), blend), (h, w, 3)) * on


def _checkerboard(p, w, h, palette, blend, rng):
    """A board of cells in two colours, each going through the palette (3 and 5 times a loop)."""
    u = _unit(w, h)
    x, y = _grid(w, h)
    even = (np.mod(x // u + y // u, 2) == 0)[..., None]
    return np.where(even, colors(palette, np.array(768 * p), blend), colors(palette, np.array(128 + 1280 * p), blend))


def _swirl(p, w, h, palette, blend, inward: bool):
    """A spiral of the palette from the centre to the corners, turning once a loop, its arm winding in or out."""
    x, y = _grid(w, h)
    cx, cy = (w - 1) / 2, (h - 1) / 2
    reach = np.hypot(x - cx, y - cy) / math.hypot(cx, cy) * 256
    around = np.arctan2(y - cy, x - cx) / (2 * math.pi) * 256
    return colors(palette, (reach if inward else -reach) + around + 256 * p, blend)


def _swirl_in(p, w, h, palette, blend, rng):
    return _swirl(p, w, h, palette, blend, inward=True)


def _swirl_out(p, w, h, palette, blend, rng):
    return _swirl(p, w, h, palette, blend, inward=False)


def _fireworks(p, w, h, palette, blend, rng):
    """Rockets rising from the bottom at seeded places and times, each bursting at its own height into a ring of
    sparks in a palette colour that spread, sink and fade; one per 4 columns a loop."""
    n = max(4, w // 4)
    xs, peaks = rng.uniform(0.1, 0.9, n) * w, rng.uniform(0.15, 0.5, n) * h
    starts, hues = rng.uniform(0, 1, n), rng.uniform(0, 256, n)
    life, rise, reach = 0.3, 0.35, h / 4  # of the loop; of a life spent climbing; the burst's radius
    out = np.zeros((h, w, 3))
    spokes = np.linspace(0, 2 * math.pi, 12, endpoint=False)
    for x, peak, start, hue in zip(xs, peaks, starts, hues, strict=True):
        age = np.mod(p - start, 1) / life
        if age >= 1:
            continue
        if age < rise:  # the rocket and a short fading trail
            top = h - 1 - age / rise * (h - 1 - peak)
            px, py = np.full(3, round(x)), np.rint(top + np.arange(3)).astype(int)
            light = np.array([255.0, 140, 60])[:, None] * np.ones(3)
        else:
            t = (age - rise) / (1 - rise)
            r, sink = reach * (1 - (1 - t) ** 2), t * t * h / 8
            px = np.rint(x + r * np.cos(spokes)).astype(int)
            py = np.rint(peak + r * np.sin(spokes) + sink).astype(int)
            light = np.broadcast_to(colors(palette, np.array(hue), blend) * (1 - t), (len(spokes), 3))
        inside = (px >= 0) & (px < w) & (py >= 0) & (py < h)
        px, py, light = px[inside], py[inside], light[inside]
        out[py, px] = np.maximum(out[py, px], light)
    return out


def _brick_breaker(p, w, h, palette, blend, rng):
    """A wall of bricks (a palette colour a row) over the top 3/8, the ball crossing the board 3 times and
    climbing 5 times a loop, breaking each brick it touches (a brick comes back half a loop later), the paddle
    under it; white and red as AWTRIX's. Cells of _unit px."""
    u = _unit(w, h)
    cw, ch = w // u, h // u
    rows = max(1, ch * 3 // 8)

    def ball(t):
        return np.rint(_triangle(3 * t) * (cw - 1)).astype(int), np.rint((1 - _triangle(5 * t)) * (ch - 2)).astype(int)

    cells = np.zeros((ch, cw, 3))
    cells[:rows] = colors(palette, 160 + np.arange(rows) * 256 / rows, blend)[:, None]
    cells[:rows, 1::2] *= 0.7  # bricks two cells wide: their halves apart
    times = np.arange(1024) / 1024  # where the ball was, whatever the frame rate
    bx, by = ball(times)
    hit = by < rows
    broken = np.mod(p - times[hit], 1) < 0.5
    for row, brick in zip(by[hit][broken], bx[hit][broken] // 2, strict=True):
        cells[row, 2 * brick : 2 * brick + 2] = 0
    x, y = ball(np.array(p))
    paddle = int(np.clip(x, 1, cw - 2))
    cells[ch - 1, paddle - 1 : paddle + 2] = 255
    cells[y, x] = (255, 0, 0)
    return _scaled(cells, u, w, h)


def _ping_pong(p, w, h, palette, blend, rng):
    """A white paddle at each side, each moving to meet the ball where it comes; the ball (through the palette
    once a loop) crossing 4 times a loop and bouncing off top and bottom. Cells of _unit px."""
    u = _unit(w, h)
    cw, ch = w // u, h // u
    bounces = 2 * round((2 * (cw - 3) / max(1, ch - 1) - 1) / 2) + 1  # odd: the paddles meet it in new places

    def ball_y(t):
        return _triangle(bounces * t + 0.15) * (ch - 1)

    cells = np.zeros((ch, cw, 3))
    for first, col in ((0, 0), (0.25, cw - 1)):  # the ball reaches the left at t = 0, 1/2; the right at 1/4, 3/4
        last = math.floor(2 * (p - first)) / 2 + first
        centre = ball_y(last) + (ball_y(last + 0.5) - ball_y(last)) * (p - last) * 2
        top = int(np.clip(round(float(centre)) - 1, 0, ch - 3))
        cells[top : top + 3, col] = 255
    x = round(float(1 + _triangle(2 * p) * (cw - 3)))
    cells[round(float(ball_y(p))), x] = colors(palette, np.array(256 * p), blend)
    return _scaled(cells, u, w, h)


def _snake(p, w, h, palette, blend, rng):
    """AWTRIX's snake game, a round a loop: the snake (palette colours along it, flowing) goes from one seeded
    red apple to the next across the panel's edges, the shorter way round, two cells longer for each; back at
    the first, it starts over short. Cells of _unit px."""
    u = _unit(w, h)
    cw, ch = w // u, h // u
    apples = [divmod(int(i), cw) for i in rng.choice(cw * ch, 4, replace=False)]  # (row, column)
    path, eaten = [apples[0]], []
    for row, col in apples[1:] + apples[:1]:
        for axis, goal, size in ((1, col, cw), (0, row, ch)):
            step = 1 if np.mod(goal - path[-1][axis], size) <= size / 2 else -1
            while path[-1][axis] != goal:
                head = list(path[-1])
                head[axis] = (head[axis] + step) % size
                path.append(tuple(head))
        eaten.append(len(path) - 1)
    path.pop()  # the last step is back at the first apple: the loop's start
    now = math.floor(p * len(path))
    done = sum(1 for at in eaten[:-1] if at <= now)
    length = 2 + 2 * done
    cells = np.zeros((ch, cw, 3))
    body = [path[(now - i) % len(path)] for i in range(length)]
    shades = colors(palette, np.arange(length) * 16 - 256 * p, blend)
    for (row, col), shade in zip(body[::-1], shades[::-1], strict=True):  # the head drawn last, on top
        cells[row, col] = shade
    cells[apples[(done + 1) % len(apples)]] = (255, 0, 0)
    return _scaled(cells, u, w, h)


def _looking_eyes(p, w, h, palette, blend, rng):
    """AWTRIX's pair of eyes, as tall as the panel: the pupils glancing between 4 seeded points a loop (slowing
    near each, never still) and a blink or two at seeded times; white and black, no palette."""
    x, y = _grid(w, h)
    rx, ry, cy = w / 8, h / 2, (h - 1) / 2
    looks = rng.uniform(-0.5, 0.5, (4, 2))
    blinks = rng.uniform(0, 1, rng.integers(1, 3))
    leg, f = divmod(p * len(looks), 1)
    f -= 0.8 * math.sin(2 * math.pi * f) / (2 * math.pi)
    gaze = looks[int(leg)] + (looks[(int(leg) + 1) % len(looks)] - looks[int(leg)]) * f
    shut = min(1.0, *(abs(np.mod(p - b + 0.5, 1) - 0.5) / 0.03 for b in blinks))  # 1: open
    out = np.zeros((h, w))
    for cx in (0.3125 * w - 0.5, 0.6875 * w - 0.5):
        dx, dy = x - cx, y - cy
        eye = np.clip((1 - np.hypot(dx / rx, dy / ry)) * rx + 0.5, 0, 1)
        lid = np.clip(shut * ry - np.abs(dy) + 0.5, 0, 1)
        pupil = np.clip(rx * 0.45 - np.hypot(dx - gaze[0] * rx, dy - gaze[1] * ry) + 0.5, 0, 1)
        out = np.maximum(out, eye * lid * (1 - pupil))
    return np.repeat(255 * out[..., None], 3, axis=2)


EFFECTS = {
    "Matrix": _matrix,
    "Plasma": _plasma,
    "PlasmaCloud": _plasma_cloud,
    "Fade": _fade,
    "ColorWaves": _color_waves,
    "TwinklingStars": _twinkling_stars,
    "Ripple": _ripple,
    "Radar": _radar,
    "MovingLine": _moving_line,
    "BrickBreaker": _brick_breaker,
    "PingPong": _ping_pong,
    "Checkerboard": _checkerboard,
    "Fireworks": _fireworks,
    "Snake": _snake,
    "Pacifica": _pacifica,
    "TheaterChase": _theater_chase,
    "SwirlIn": _swirl_in,
    "SwirlOut": _swirl_out,
    "LookingEyes": _looking_eyes,
}
# AWTRIX's defaults per effect (docs/effects.md's table): speed, palette, blend. Where it has none ("-"):
# Rainbow, its source's blend, speed 1 (the longest loop: the games' moves are their loop's). PingPong's
# 8 would be a 1.5 s loop, too short for a rally across the panel: 2.
DEFAULTS = {
    "Matrix": (8, "Rainbow", False),
    "Plasma": (2, "Rainbow", True),
    "PlasmaCloud": (3, "Rainbow", True),
    "Fade": (1, "Rainbow", True),
    "ColorWaves": (3, "Rainbow", True),
    "TwinklingStars": (4, "Ocean", False),
    "Ripple": (3, "Rainbow", True),
    "Radar": (1, "Rainbow", True),
    "MovingLine": (1, "Rainbow", True),
    "BrickBreaker": (1, "Rainbow", False),
    "PingPong": (2, "Rainbow", True),
    "Checkerboard": (1, "Rainbow", True),
    "Fireworks": (1, "Rainbow", True),
    "Snake": (3, "Rainbow", True),
    "Pacifica": (3, "Ocean", True),
    "TheaterChase": (3, "Rainbow", True),
    "SwirlIn": (4, "Rainbow", True),
    "SwirlOut": (4, "Rainbow", True),
    "LookingEyes": (1, "Rainbow", False),
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
