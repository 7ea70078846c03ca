"""Progress bars: AWTRIX's bar under a text and the progress kind, pixel for pixel and as pictures."""

import pytest
from PIL import Image

from media import animated, disc_icon
from pixie import spec as specs
from pixie.render import progress
from pixie.render.assets import Assets
from rendering import frames, still
from testsupport.golden import assert_golden

GREEN, WHITE, BLACK, YELLOW = (0, 255, 0), (255, 255, 255), (0, 0, 0), (255, 255, 0)
SUN = Assets(icons={"sun": disc_icon(YELLOW)})


def row(image: Image.Image, y: int, x0: int = 0) -> list:
    return [image.getpixel((x, y)) for x in range(x0, image.width)]


@pytest.mark.parametrize("percent,filled", [(0, 0), (1, 0), (40, 25), (99, 63), (100, 64)])
def test_a_bar_fills_its_percent_of_the_width_in_whole_pixels_rounded_down(percent, filled):
    image = Image.new("RGB", (64, 4))
    progress.draw(image, (0, 0, 64, 4), percent, "#00ff00", "#ffffff")
    for y in range(4):
        assert row(image, y) == [GREEN] * filled + [WHITE] * (64 - filled)


def test_a_texts_bar_is_the_panels_bottom_eighth_from_the_icons_right_edge():
    image = still(64, 32, SUN, kind="text", text="Hi", icon="sun", progress=50)
    for y in range(28, 32):  # 4 rows of 32, from x 24 (the 24-px icon's edge): 50 % of 40 px
        assert row(image, y, 24) == [GREEN] * 20 + [WHITE] * 20, y
    assert {image.getpixel((x, 27)) for x in range(24, 64)} <= {BLACK, WHITE}  # the text's rows: no bar
    assert GREEN not in {image.getpixel((x, y)) for x in range(24) for y in range(32)}  # beside the icon
    assert image.getpixel((12, 16)) == YELLOW


def test_on_awtrixs_32x8_the_bar_is_its_bottom_row_from_x_8_beside_the_8x8_icon():
    image = still(32, 8, SUN, kind="text", text="1", icon="sun", progress=50, progress_bg="#202020")
    assert row(image, 7, 8) == [GREEN] * 12 + [(32, 32, 32)] * 12  # AWTRIX: 50 * 24 / 100 LEDs
    assert image.getpixel((3, 0)) == YELLOW and image.getpixel((3, 7)) == YELLOW  # the icon keeps its 8 rows
    assert all(GREEN not in row(image, y) for y in range(7))


def test_the_text_keeps_the_rows_above_its_bar_and_the_bar_stays_while_it_scrolls():
    shown = frames(64, 32, kind="text", text="A text far wider than the panel", progress=30, speed=200)
    assert len(shown) > 10
    for frame, _ in shown:
        image = Image.frombytes("RGB", (64, 32), frame)
        for y in range(28, 32):
            assert row(image, y) == [GREEN] * 19 + [WHITE] * 45


def test_a_text_without_progress_draws_as_before():
    assert frames(64, 32, kind="text", text="Hi", progress_color="red") == frames(64, 32, kind="text", text="Hi")


def test_the_progress_kind_puts_its_text_above_a_bar_a_quarter_of_the_panel_tall():
    image = still(64, 32, kind="progress", progress=40, text="Print")
    for y in range(24, 32):
        assert row(image, y) == [GREEN] * 25 + [WHITE] * 39
    assert WHITE in {image.getpixel((x, y)) for x in range(64) for y in range(24)}  # the text


def test_the_progress_kind_without_a_text_is_the_bar_alone_across_the_middle():
    image = still(64, 32, kind="progress", progress=40)
    assert [y for y in range(32) if image.getpixel((0, y)) == GREEN] == list(range(12, 20))
    assert {image.getpixel((x, y)) for x in range(64) for y in (*range(12), *range(20, 32))} == {BLACK}


def test_the_progress_kinds_animated_icon_keeps_its_frames_and_times():
    icon = Assets(icons={"sun": animated("GIF", colors=(YELLOW, (255, 0, 255)), delay_ms=200, size=(8, 8))})
    shown = frames(64, 32, icon, kind="progress", progress=10, icon="sun")
    assert [hold for _, hold in shown] == [200_000, 200_000]
    pictures = [Image.frombytes("RGB", (64, 32), f) for f, _ in shown]
    assert [p.getpixel((0, 16)) for p in pictures] == [YELLOW, (255, 0, 255)]
    assert all(p.getpixel((27, 16)) == GREEN and p.getpixel((28, 16)) == WHITE for p in pictures)  # 10 % of 40: 4 px


GOLDEN = {
    "alone": {"kind": "progress", "progress": 40},
    "with_text": {"kind": "progress", "progress": 40, "text": "Print"},
    "with_icon": {"kind": "progress", "progress": 75, "text": "75%", "icon": "sun", "progress_bg": "#303030"},
    "under_text": {"kind": "text", "text": "Wash", "progress": 65},
    "under_text_icon": {
        "kind": "text",
        "text": "Dry",
        "progress": 20,
        "icon": "sun",
        "color": "#ffa000",
        "overflow": "shrink",
    },
}


@pytest.mark.parametrize("size", [(64, 32), (32, 16)], ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", GOLDEN)
def test_progress_draws_as_the_golden_picture(name, size, tmp_path):
    assert_golden(still(*size, SUN, **GOLDEN[name]), f"progress_{name}_{size[0]}x{size[1]}", out_dir=tmp_path)


@pytest.mark.parametrize(
    "fields,reason",
    [
        ({"kind": "progress", "progress": 101}, "progress must be 0..100, got 101"),
        ({"kind": "progress", "progress": -1}, "progress must be 0..100, got -1"),
        ({"kind": "progress", "progress": 4.5}, "progress must be 0..100, got 4.5"),
        ({"kind": "progress", "progress": "40"}, 'progress must be 0..100, got "40"'),
        ({"kind": "progress"}, "progress: Field required"),
        ({"kind": "progress", "progress": 4, "text": ""}, "text: String should have at least 1 character"),
        ({"kind": "text", "text": "x", "progress": 101}, "progress must be 0..100, got 101"),
        ({"kind": "text", "text": "x", "progress": 5, "progress_color": "nope"}, "progress_color: Value error"),
    ],
)
def test_a_bad_progress_is_refused_naming_the_field(fields, reason):
    with pytest.raises(specs.SpecError) as refused:
        specs.parse(fields, strict=True)
    assert reason in str(refused.value)
