"""Icons: checked on upload, scaled crisp, placed beside the text as icon_mode says, keeping their frame times."""

import io
from dataclasses import replace

import pytest
from PIL import Image

from media import animated, still
from pixie import errors
from pixie import spec as specs
from pixie.config import Icons, Render
from pixie.render import effects, icons, kinds
from pixie.render.assets import Assets
from testsupport.golden import assert_golden

ICON_LIMITS = replace(Render(), max_frames=Icons().max_frames)  # as the library checks an upload
MAGENTA, WHITE = (255, 0, 255), (255, 255, 255)


def pattern_icon(size=(8, 8)) -> bytes:
    """An icon whose every pixel differs from its neighbours."""
    image = Image.new("RGB", size)
    image.putdata([(x * 30, y * 30, (x + y) % 2 * 255) for y in range(size[1]) for x in range(size[0])])
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def test_an_8x8_icon_is_drawn_3x_on_a_64x32_panel_every_pixel_a_crisp_3x3_block():
    source = Image.open(io.BytesIO(pattern_icon())).convert("RGBA")
    [(frame, _)] = icons.icon_frames(pattern_icon(), 32, 64)
    assert frame.size == (24, 24)
    assert all(frame.getpixel((x, y)) == source.getpixel((x // 3, y // 3)) for x in range(24) for y in range(24))


def test_an_8x8_icon_stays_8x8_on_an_8_row_panel():
    [(frame, _)] = icons.icon_frames(pattern_icon(), 8, 64)
    assert frame.tobytes() == Image.open(io.BytesIO(pattern_icon())).convert("RGBA").tobytes()


def test_an_animated_icon_keeps_each_frame_its_own_time():
    frames = icons.icon_frames(animated("GIF", colors=(MAGENTA, WHITE), delay_ms=200, size=(8, 8)), 32, 64)
    assert [(f.size, hold) for f, hold in frames] == [((24, 24), 200_000), ((24, 24), 200_000)]
    assert [f.getpixel((0, 0))[:3] for f, _ in frames] == [MAGENTA, WHITE]


@pytest.mark.parametrize(
    "data,refusal,reason",
    [
        (still("PNG", size=(8, 40)), errors.TooLarge, "icon is 40 px tall, the panel is 32"),
        (animated("GIF", colors=[(i % 256, 0, 0) for i in range(1000)], size=(8, 8)), errors.TooLarge, "1000 frames"),
        (b"just some text, named icon.png", errors.Unsupported, "not a PNG, GIF or WebP image"),
        (still("JPEG", size=(8, 8)), errors.Unsupported, "not a PNG, GIF or WebP image"),
    ],
)
def test_a_file_that_cannot_be_an_icon_is_refused_with_the_reason(data, refusal, reason):
    with pytest.raises(refusal) as refused:
        icons.open_icon(data, ICON_LIMITS, 32)
    assert reason in str(refused.value)


@pytest.mark.parametrize("fmt", ["PNG", "GIF", "WEBP"])
def test_png_gif_and_webp_icons_up_to_the_panel_height_are_taken(fmt):
    assert icons.open_icon(still(fmt, size=(32, 32)), ICON_LIMITS, 32).size == (32, 32)
    assert icons.open_icon(animated(fmt, size=(8, 8)), ICON_LIMITS, 32).n_frames == 3


# -- beside the text ---------------------------------------------------------------------------------


def text_line(width=40, height=32) -> Image.Image:
    """A stand-in for the text layout's drawing: white bars 3 px wide, 2 px apart, on black."""
    image = Image.new("RGB", (width, height))
    for x in range(0, width, 5):
        image.paste(WHITE, (x, 8, x + 3, 24))
    return image


def scrolling(icon_mode="fixed", icon=None, speed=32.0, **fields):
    spec = specs.parse({"kind": "text", "text": "x", "icon": "i", "icon_mode": icon_mode, "speed": speed, **fields})
    icon = icon or still("PNG", MAGENTA, (8, 8))
    return effects.animate(
        spec, Image.new("RGB", (64, 32)), effects.Line(text_line(), 0, True), icons.icon_frames(icon, 32, 64), 1500
    )


def picture(frame: bytes) -> Image.Image:
    return Image.frombytes("RGB", (64, 32), frame)


def icon_box(frame: bytes):
    """Where the (magenta) icon is on a frame: (left, right) columns, or None."""
    columns = [x for x in range(64) if picture(frame).getpixel((x, 16)) == MAGENTA]
    return (columns[0], columns[-1] + 1) if columns else None


def text_columns(frame: bytes) -> list[int]:
    return [x for x in range(64) if picture(frame).getpixel((x, 16)) == WHITE]


def test_a_fixed_icon_stays_at_the_left_while_the_text_scrolls_right_of_it():
    frames = scrolling("fixed")
    first, middle, last = frames[0][0], frames[len(frames) // 2][0], frames[-1][0]
    assert [icon_box(f) for f in (first, middle, last)] == [(0, 24)] * 3
    assert text_columns(first) == [] and text_columns(last) == []  # enters at the right, gone at the left
    assert min(text_columns(middle)) >= 25  # never over the icon nor its 1-px gap
    assert all(picture(f).getpixel((24, 16)) == (0, 0, 0) for f, _ in frames)


def test_a_once_icon_starts_beside_the_text_and_is_pushed_out_with_it():
    frames = scrolling("once")
    assert icon_box(frames[0][0]) == (0, 24) and min(text_columns(frames[0][0])) == 25
    assert icon_box(frames[10][0]) == (0, 14)  # 10 px on at 1 px a step: 10 of its 24 columns gone
    assert min(text_columns(frames[10][0])) == 15
    assert icon_box(frames[-1][0]) is None and text_columns(frames[-1][0]) == []


def test_a_scroll_icon_slides_in_as_the_text_enters_then_leaves_with_it_so_the_loop_is_seamless():
    frames = scrolling("scroll")
    boxes = [icon_box(f) for f, _ in frames]
    assert boxes[0] is None and text_columns(frames[0][0]) == []  # the loop starts where it ends: blank
    assert boxes[10] == (0, 9)  # sliding in from the left, 1 px a step
    assert boxes[25] == (0, 24)  # in place, the text entering at the right
    assert min(text_columns(frames[64 - 25][0])) == 25 and boxes[64 - 25] == (0, 24)  # the text reaches it...
    assert boxes[64 - 25 + 5] == (0, 19) and min(text_columns(frames[64 - 25 + 5][0])) == 20  # ...and pushes it out
    assert boxes[-1] is None and text_columns(frames[-1][0]) == []


def test_an_animated_icon_keeps_its_200_ms_frames_while_the_text_scrolls_at_32_px_a_second():
    frames = scrolling("fixed", icon=animated("GIF", colors=(MAGENTA, WHITE), delay_ms=200, size=(8, 8)))
    starts, t = [], 0
    for _, hold in frames:
        starts.append(t)
        t += hold
    assert {k * 31_250 for k in range(t // 31_250)} <= set(starts)  # every scroll step (1 px each 31.25 ms)
    assert {k * 200_000 for k in range(1, t // 200_000 + 1) if k * 200_000 < t} <= set(starts)  # every icon change
    for (frame, _), start in zip(frames, starts, strict=True):
        assert picture(frame).getpixel((0, 16)) == (MAGENTA, WHITE)[start // 200_000 % 2]


def test_a_still_text_with_an_animated_icon_is_one_loop_of_the_icon():
    spec = specs.parse({"kind": "text", "text": "x", "icon": "i"})
    icon = icons.icon_frames(animated("GIF", colors=(MAGENTA, WHITE), delay_ms=200, size=(8, 8)), 32, 64)
    frames = effects.animate(spec, Image.new("RGB", (64, 32)), effects.Line(text_line(39), 0, False), icon, 1500)
    assert [hold for _, hold in frames] == [200_000, 200_000]
    assert [picture(f).getpixel((0, 4)) for f, _ in frames] == [MAGENTA, WHITE]
    assert all(picture(f).crop((25, 0, 64, 32)).tobytes() == text_line(39).tobytes() for f, _ in frames)


# -- through the renderer, with the library's file handed in -------------------------------------------


def rendered(**fields):
    job = specs.parse({"kind": "text", "icon": "sun", **fields})
    return kinds.render(job, None, 64, 32, Render(), assets=Assets(icons={"sun": pattern_icon()}))


def test_a_text_job_draws_its_icon_3x_at_the_left_and_the_text_right_of_it():
    [(frame, _)] = rendered(text="Hi", color="#ffff00")
    assert_golden(frame, "icon_beside_still_text", (64, 32))
    assert (
        picture(frame).crop((0, 4, 24, 28)).tobytes()
        == icons.icon_frames(pattern_icon(), 32, 64)[0][0].convert("RGB").tobytes()
    )


@pytest.mark.parametrize("mode", ["fixed", "once", "scroll"])
def test_a_scrolling_text_job_moves_its_icon_as_its_mode_says(mode):
    frames = rendered(text="Icons beside text", icon_mode=mode, speed=64)
    for at in ("first", "middle", "last"):
        frame = frames[{"first": 0, "middle": len(frames) // 2, "last": -1}[at]][0]
        assert_golden(frame, f"icon_{mode}_{at}", (64, 32))


def test_a_job_naming_an_icon_the_assets_lack_plays_its_text_alone():
    job = specs.parse({"kind": "text", "text": "Hi", "icon": "gone"})
    assert kinds.render(job, None, 64, 32, Render()) == kinds.render(
        specs.parse({"kind": "text", "text": "Hi"}), None, 64, 32, Render()
    )
