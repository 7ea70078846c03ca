"""Transitions between two frames: each one's look checked against what it is defined to be, worked out
here from the two pictures, and every transition's quarter, midpoint and three quarters as golden pictures."""

import random

import pytest
from PIL import Image, ImageDraw

from pixie.render import transitions
from testsupport.golden import assert_golden

DRAWN = [n for n in transitions.NAMES if n not in (transitions.CUT, transitions.RANDOM)]


def pictures(w: int, h: int) -> tuple[Image.Image, Image.Image]:
    """Two pictures unlike each other everywhere: a warm one with a ring, a cool one with a bar."""
    old = Image.new("RGB", (w, h), (120, 40, 0))
    ImageDraw.Draw(old).ellipse((w // 4, h // 8, w * 3 // 4, h * 7 // 8), outline=(255, 200, 0), width=2)
    new = Image.new("RGB", (w, h), (0, 30, 110))
    ImageDraw.Draw(new).rectangle((w // 8, h // 3, w * 7 // 8, h * 2 // 3), fill=(0, 220, 255))
    for x in range(w):  # a ramp on the top row: which column is which is visible in every picture
        old.putpixel((x, 0), (x * 255 // w, 0, 0))
        new.putpixel((x, 0), (0, x * 255 // w, 0))
    return old, new


def between(name: str, t: float, w: int = 64, h: int = 32) -> Image.Image:
    old, new = pictures(w, h)
    return Image.frombytes("RGB", (w, h), transitions.frame(name, old.tobytes(), new.tobytes(), t, w, h))


@pytest.mark.parametrize("size", [(64, 32), (32, 16)])
@pytest.mark.parametrize("name", DRAWN)
def test_each_transitions_quarter_midpoint_and_three_quarters_match_their_golden_pictures(name, size, tmp_path):
    w, h = size
    strip = Image.new("RGB", (w * 3 + 4, h), (255, 0, 255))  # magenta gaps between the three moments
    for i, t in enumerate((0.25, 0.5, 0.75)):
        strip.paste(between(name, t, w, h), (i * (w + 2), 0))
    assert_golden(strip, f"transition_{name}_{w}x{h}", out_dir=tmp_path)


def columns(image: Image.Image, left: int, right: int) -> Image.Image:
    return image.crop((left, 0, right, image.height))


def test_a_slide_left_at_its_midpoint_shows_the_olds_right_half_then_the_news_left_half():
    old, new = pictures(64, 32)
    shown = between("slide-left", 0.5)
    assert columns(shown, 0, 32).tobytes() == columns(old, 32, 64).tobytes()
    assert columns(shown, 32, 64).tobytes() == columns(new, 0, 32).tobytes()


def test_a_slide_up_at_a_quarter_has_moved_the_old_up_by_a_quarter_of_the_height():
    old, new = pictures(64, 32)
    shown = between("slide-up", 0.25)
    assert shown.crop((0, 0, 64, 24)).tobytes() == old.crop((0, 8, 64, 32)).tobytes()
    assert shown.crop((0, 24, 64, 32)).tobytes() == new.crop((0, 0, 64, 8)).tobytes()


def test_a_wipe_right_uncovers_the_new_from_the_left_over_the_old_which_stays_put():
    old, new = pictures(64, 32)
    shown = between("wipe-right", 0.25)
    assert columns(shown, 0, 16).tobytes() == columns(new, 0, 16).tobytes()
    assert columns(shown, 16, 64).tobytes() == columns(old, 16, 64).tobytes()


def test_a_curtain_at_its_midpoint_has_the_new_in_the_middle_half_and_the_old_at_both_sides():
    old, new = pictures(64, 32)
    shown = between("curtain", 0.5)
    assert columns(shown, 16, 48).tobytes() == columns(new, 16, 48).tobytes()
    assert columns(shown, 0, 16).tobytes() == columns(old, 0, 16).tobytes()
    assert columns(shown, 48, 64).tobytes() == columns(old, 48, 64).tobytes()


def test_a_fade_at_its_midpoint_is_the_mean_of_both_pictures_and_dim_is_black():
    old, new = pictures(64, 32)
    mean = [(a + b) / 2 for a, b in zip(old.tobytes(), new.tobytes(), strict=True)]
    assert all(abs(x - m) <= 1 for x, m in zip(between("fade", 0.5).tobytes(), mean, strict=True))
    assert set(between("dim", 0.5).tobytes()) == {0}
    assert max(between("dim", 0.25).tobytes()) < max(old.tobytes())  # dimmer than the old, not black yet


def test_pixelate_swaps_a_growing_random_share_of_pixels_and_never_swaps_one_back():
    old, new = pictures(64, 32)
    earlier = set()
    for t in (0.1, 0.3, 0.5, 0.7, 0.9):
        shown = between("pixelate", t)
        swapped = {(x, y) for x in range(64) for y in range(32) if shown.getpixel((x, y)) == new.getpixel((x, y))}
        swapped -= {(x, y) for (x, y) in swapped if old.getpixel((x, y)) == new.getpixel((x, y))}
        assert abs(len(swapped) / 2048 - t) < 0.05, (t, len(swapped))
        assert earlier <= swapped
        earlier = swapped


def test_ripple_is_a_checkerboard_of_both_whose_squares_change_sides_half_way():
    old, new = pictures(64, 32)
    first, second = between("ripple", 0.25), between("ripple", 0.75)
    for x, y in ((0, 0), (5, 3), (1, 0), (10, 7)):
        even = (x + y) % 2 == 0
        assert first.getpixel((x, y)) == (old if even else new).getpixel((x, y))
        assert second.getpixel((x, y)) == (new if even else old).getpixel((x, y))


def test_blink_shows_the_old_then_black_then_the_new():
    old, new = pictures(64, 32)
    assert [between("blink", t).tobytes() for t in (0.2, 0.5, 0.8)] == [old.tobytes(), bytes(6144), new.tobytes()]


def test_reload_darkens_the_olds_columns_from_the_right_then_lights_the_news_from_the_left():
    old, new = pictures(64, 32)
    out, back = between("reload", 0.25), between("reload", 0.75)
    assert columns(out, 0, 32).tobytes() == columns(old, 0, 32).tobytes()
    assert columns(back, 0, 32).tobytes() == columns(new, 0, 32).tobytes()
    assert set(columns(out, 32, 64).tobytes()) == set(columns(back, 32, 64).tobytes()) == {0}


def test_rotate_at_its_midpoint_is_the_new_picture_upside_down():
    _, new = pictures(64, 32)
    assert between("rotate", 0.5).tobytes() == new.transpose(Image.Transpose.ROTATE_180).tobytes()


def test_zoom_at_its_midpoint_fills_the_panel_with_one_centre_pixel():
    shown = between("zoom", 0.5).tobytes()
    assert len({shown[i : i + 3] for i in range(0, len(shown), 3)}) == 1


def test_progress_comes_fifty_times_a_second_never_at_either_end_and_a_short_time_has_none():
    assert transitions.progresses(100) == [0.1, 0.3, 0.5, 0.7, 0.9]
    assert len(transitions.progresses(400)) == 20 and transitions.progresses(5) == []


def test_random_plays_one_of_the_drawn_transitions_and_a_cut_is_never_drawn():
    rng = random.Random(1)
    assert {transitions.pick("random", rng) for _ in range(500)} == set(DRAWN)
    old, new = pictures(64, 32)
    assert transitions.frame("cut", old.tobytes(), new.tobytes(), 0.5, 64, 32) == new.tobytes()


def test_each_of_awtrixs_transitions_is_one_of_pixies():  # their codes' order: test_awtrix
    assert set(transitions.AWTRIX.values()) <= set(transitions.NAMES)
    assert len(transitions.AWTRIX) == 11
