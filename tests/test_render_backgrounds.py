"""Animated backgrounds behind a text (AWTRIX's effects) and weather over it: each effect's first frame and a
later one, each overlay's first frame, at 64x32 and 32x16 (goldens); the loop's size and length; the same job
drawing the same frames; the spec's refusals naming the field."""

import subprocess
import sys

import pytest
from PIL import Image, ImageStat

from pixie import spec as specs
from pixie.config import Render
from pixie.render import backgrounds
from rendering import frames
from testsupport.golden import assert_golden

SIZES = [(64, 32), (32, 16)]
LATER = 1 / 3  # a later frame: a third of the way through the loop


def text(**fields):
    return {"kind": "text", "text": "Hi", **fields}


def test_the_spec_and_the_renderer_know_the_same_names():
    assert specs.EFFECTS == tuple(backgrounds.EFFECTS) == tuple(backgrounds.DEFAULTS)
    assert specs.PALETTES == tuple(backgrounds.PALETTES)
    assert specs.OVERLAYS == tuple(backgrounds.OVERLAYS)
    assert specs.MAX_EFFECT_SPEED == backgrounds.MAX_SPEED


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("effect", specs.EFFECTS)
def test_each_effect_shows_behind_the_text_first_and_later(effect, size):
    drawn = frames(*size, **text(effect=effect))
    for name, index in (("first", 0), ("later", int(len(drawn) * LATER))):
        assert_golden(drawn[index][0], f"background_{effect}_{name}_{size[0]}x{size[1]}", size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("overlay", specs.OVERLAYS)
def test_each_overlay_shows_over_the_text(overlay, size):
    assert_golden(frames(*size, **text(overlay=overlay))[0][0], f"overlay_{overlay}_{size[0]}x{size[1]}", size)


@pytest.mark.parametrize("palette", specs.PALETTES)
def test_each_palette_colours_the_fade_its_first_entry_first(palette):
    [first, *_] = frames(64, 32, **text(effect="Fade", effect_palette=palette, text="."))
    corner = Image.frombytes("RGB", (64, 32), first[0]).getpixel((0, 0))
    assert corner == tuple(int(c) for c in backgrounds.PALETTES[palette][0])


def test_blend_mixes_neighbouring_palette_colours_and_no_blend_keeps_to_the_entries():
    entries = {tuple(int(c) for c in row) for row in backgrounds.PALETTES["Rainbow"]}
    for blend, inside in ((False, True), (True, False)):
        drawn = frames(64, 32, **text(effect="ColorWaves", effect_blend=blend, text="."))
        image = Image.frombytes("RGB", (64, 32), drawn[0][0])
        seen = {image.getpixel((x, 0)) for x in range(64)}
        assert (seen <= entries) is inside


@pytest.mark.parametrize("effect", specs.EFFECTS)
def test_a_still_texts_effect_loops_whole_within_the_frame_limit_and_moves(effect):
    drawn = frames(64, 32, **text(effect=effect))
    assert all(len(frame) == 64 * 32 * 3 for frame, _ in drawn)
    assert 1 < len(drawn) <= min(Render().max_frames, backgrounds.LOOP_FRAMES)
    assert len({frame for frame, _ in drawn}) > len(drawn) // 2
    speed = backgrounds.DEFAULTS[effect][0]
    assert sum(hold for _, hold in drawn) == pytest.approx(backgrounds.LOOP_US / speed, abs=len(drawn))


@pytest.mark.parametrize("effect", ["MovingLine", "BrickBreaker", "PingPong", "Checkerboard", "Snake", "TheaterChase"])
def test_effects_in_awtrix_pixels_draw_them_as_cells_of_two_pixels_on_a_64x32_panel(effect):
    images = backgrounds.Background(effect, 64, 32, seed=3, max_frames=1500).images
    for image in images:
        cells = image.resize((32, 16), Image.NEAREST)
        assert cells.resize((64, 32), Image.NEAREST).tobytes() == image.tobytes()
    assert len({image.tobytes() for image in images}) > len(images) // 2


def test_the_ping_pong_paddles_meet_the_ball_at_each_side():
    images = backgrounds.Background("PingPong", 32, 16, seed=3, max_frames=1500).images
    assert len(images) == 96  # at each quarter of the loop the ball is beside a paddle: left, right, left, right
    for k, (ball_col, paddle_col) in zip(range(0, 96, 24), [(1, 0), (30, 31)] * 2, strict=True):
        column = [images[k].getpixel((ball_col, y)) for y in range(16)]
        [ball_row] = [y for y, c in enumerate(column) if c != (0, 0, 0)]
        paddle = [y for y in range(16) if images[k].getpixel((paddle_col, y)) == (255, 255, 255)]
        assert len(paddle) == 3 and ball_row in paddle, (k, ball_row, paddle)


def test_the_looking_eyes_blink_shut_and_open_again_within_a_loop():
    images = backgrounds.Background("LookingEyes", 64, 32, seed=3, max_frames=1500).images
    white = [ImageStat.Stat(image.convert("L")).sum[0] for image in images]
    assert white[0] > 0.9 * max(white)  # open at first (the pupils' places change what shows)
    assert min(white) < max(white) / 10
    shut = white.index(min(white))
    assert max(white[shut:]) > 0.9 * max(white)


def test_a_faster_effect_loops_sooner_and_max_frames_bounds_the_loop():
    slow, fast = (frames(64, 32, **text(effect="Plasma", effect_speed=s)) for s in (1, 10))
    assert sum(h for _, h in fast) * 10 == pytest.approx(sum(h for _, h in slow), rel=1e-3)
    assert backgrounds.loop(1, 20) == (20, backgrounds.LOOP_US // 20)


def test_the_loop_is_seamless_the_frame_after_the_last_is_the_first():
    effect = backgrounds.Background("Radar", 64, 32, seed=1, max_frames=1500)
    again = backgrounds.Background("Radar", 64, 32, seed=1, max_frames=1500)
    assert effect.at(effect.length_us).tobytes() == effect.at(0).tobytes()
    assert [i.tobytes() for i in effect.images] == [i.tobytes() for i in again.images]


def test_the_same_job_draws_the_same_frames_and_another_text_seeds_other_stars():
    first = frames(64, 32, **text(effect="TwinklingStars", overlay="snow"))
    assert frames(64, 32, **text(effect="TwinklingStars", overlay="snow")) == first
    assert frames(64, 32, **text(effect="TwinklingStars", overlay="snow", text="Ho"))[0] != first[0]


def test_a_scrolling_text_keeps_moving_over_its_effect_and_overlay():
    drawn = frames(64, 32, **text(text="Hello, moving world", effect="Plasma", overlay="rain"))
    assert len(drawn) <= Render().max_frames
    assert len({frame for frame, _ in drawn}) > 0.9 * len(drawn)


def test_a_still_texts_overlay_lasts_its_whole_loop():
    drawn = frames(64, 32, **text(overlay="snow"))
    assert len(drawn) == backgrounds.OVERLAY_FRAMES
    assert sum(h for _, h in drawn) == backgrounds.OVERLAY_FRAMES * backgrounds.OVERLAY_HOLD_US


@pytest.mark.parametrize(
    "fields,where",
    [
        ({"effect": "Aurora"}, "effect: Input should be 'Matrix', 'Plasma'"),
        ({"effect": "Plasma", "effect_palette": "Sunny"}, "effect_palette: Input should be 'Cloud', 'Lava'"),
        ({"overlay": "hail"}, "overlay: Input should be 'snow', 'drizzle'"),
        ({"effect": "Plasma", "effect_speed": 11}, "effect_speed: Input should be less than or equal to 10"),
        ({"effect": "Plasma", "effect_speed": 0}, "effect_speed: Input should be greater than 0"),
        ({"effect_palette": "Lava"}, "effect_palette: applies to an effect, and there is none"),
    ],
)
def test_bad_effects_palettes_overlays_and_speeds_are_refused_naming_the_field(fields, where):
    with pytest.raises(specs.SpecError) as refused:
        specs.parse(text(**fields), strict=True)
    assert where in str(refused.value)


def test_numpy_is_loaded_by_a_worker_only_for_a_job_with_an_effect_or_overlay():
    """numpy costs each render worker ~20 MB (of a 120M MemoryMax): an ordinary render leaves it unloaded."""
    script = """
import sys
from pixie import spec
from pixie.config import Render
from pixie.render import kinds
def render(**fields):
    kinds.render(spec.parse(fields, strict=True), None, 64, 32, Render())
render(kind="text", text="Hi", progress=40)
render(kind="chart", values=[1, 5, 3])
render(kind="draw", draw=[{"op": "circle", "x": 5, "y": 5, "r": 3}])
plain = "numpy" in sys.modules
render(kind="text", text="Hi", overlay="snow")
print(plain, "numpy" in sys.modules)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["False", "True"]
