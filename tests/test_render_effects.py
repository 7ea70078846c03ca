"""Text effects over time: blink, fade, rainbow and gradient, on a still line and a scrolling one."""

import pytest
from PIL import Image

from pixie import spec as specs
from pixie.config import Render
from pixie.render import effects, kinds
from testsupport.golden import assert_golden

W, H = 64, 32
WHITE = (255, 255, 255)
LETTERS = [(4 + 6 * i, 4 + 6 * i + 4) for i in range(5)]  # five "letters", 4 px wide, 2 px apart


def line(width=W, outline=None) -> effects.Line:
    """A stand-in for the text layout's drawing: white blocks, optionally outlined, and their ink."""
    image, ink = Image.new("RGB", (width, H)), Image.new("L", (width, H))
    for begin, end in LETTERS:
        if outline:
            image.paste(outline, (begin - 1, 9, end + 1, 23))
        image.paste(WHITE, (begin, 10, end, 22))
        ink.paste(255, (begin, 10, end, 22))
    return effects.Line(image, 0, width > W, ink)


def frames(fields: dict, text: effects.Line | None = None):
    spec = specs.parse({"kind": "text", "text": "x", **fields})
    return effects.animate(spec, Image.new("RGB", (W, H)), text or line(), [], 1500)


def pixel(frame: bytes, xy) -> tuple:
    return Image.frombytes("RGB", (W, H), frame).getpixel(xy)


def letter_colors(frame: bytes) -> list[tuple]:
    return [pixel(frame, (begin, 16)) for begin, _ in LETTERS]


def test_blink_shows_the_text_for_half_its_period_and_the_background_for_the_other_half():
    [(on, on_us), (off, off_us)] = frames({"blink_ms": 1000})
    assert (on_us, off_us) == (500_000, 500_000)
    assert on == Image.merge("RGB", [line().image.getchannel(c) for c in "RGB"]).tobytes()
    assert off == bytes(W * H * 3)


def test_fade_falls_to_dark_and_rises_back_in_eight_steps_each_way():
    shown = frames({"fade_ms": 800})
    assert [hold for _, hold in shown] == [50_000] * 16
    levels = [pixel(frame, (LETTERS[0][0], 16))[0] for frame, _ in shown]
    assert levels == [int(255 * (1 - min(k, 16 - k) / 8)) for k in range(16)]  # Pillow's blend rounds down
    assert levels[8] == 0 and levels[0] == 255


def test_a_still_rainbow_turns_each_letter_through_the_spectrum_in_sixteen_frames():
    shown = frames({"rainbow": True, "color": "#ffffff"})
    assert [hold for _, hold in shown] == [125_000] * 16
    first = letter_colors(shown[0][0])
    assert first[0] == (255, 0, 0) and len(set(first)) == 5  # red first, a hue a letter
    assert letter_colors(shown[1][0]) != first  # and they move
    for frame, _ in shown:  # each letter one colour, pixel for pixel
        picture = Image.frombytes("RGB", (W, H), frame)
        for (begin, end), color in zip(LETTERS, letter_colors(frame), strict=True):
            assert picture.crop((begin, 10, end, 22)).getcolors() == [(48, color)]


def test_a_gradient_goes_from_the_first_colour_to_the_second_across_the_text_then_moves():
    shown = frames({"gradient": ["#ff0000", "#0000ff"]})
    first = letter_colors(shown[0][0])
    assert (first[0], first[-1]) == ((255, 0, 0), (0, 0, 255))
    assert first[2] == (128, 0, 128)
    assert letter_colors(shown[4][0]) != first


def test_colour_effects_colour_the_glyphs_not_their_outline():
    shown = frames({"rainbow": True}, line(outline=(0, 255, 0)))
    assert pixel(shown[0][0], (LETTERS[0][0] - 1, 16)) == (0, 255, 0)
    assert pixel(shown[0][0], (LETTERS[0][0], 16)) == (255, 0, 0)


def test_a_scrolling_rainbow_changes_colour_from_one_step_to_the_next():
    shown = frames({"rainbow": True, "speed": 32}, line(width=W + 1))
    # 1 px a step: the letter at x on one frame is at x - 1 on the next, in a new colour
    x = next(x for x in range(W) if pixel(shown[40][0], (x, 16)) != (0, 0, 0))
    assert pixel(shown[41][0], (x - 1, 16)) not in ((0, 0, 0), pixel(shown[40][0], (x, 16)))


def test_blink_on_a_scrolling_text_turns_it_off_on_time():
    shown = frames({"blink_ms": 500, "speed": 32}, line(width=W + 1))
    t = 0
    for frame, hold in shown:
        lit = frame != bytes(W * H * 3)
        if lit:
            assert t % 500_000 < 250_000
        t += hold
    assert 250_000 in {sum(h for _, h in shown[:i]) for i in range(len(shown))}


# -- through the renderer, in the bitmap fonts ---------------------------------------------------------


def rendered(**fields):
    return kinds.render(specs.parse({"kind": "text", "text": "Pixie", **fields}), None, W, H, Render())


@pytest.mark.parametrize(
    "name,fields",
    [
        ("effect_rainbow", {"rainbow": True}),
        ("effect_gradient", {"gradient": ["#ff0000", "#0000ff"]}),
        ("effect_rainbow_outlined", {"rainbow": True, "outline": "#404040"}),
    ],
)
def test_a_still_text_with_colour_effects_is_a_loop_of_sixteen_frames(name, fields):
    frames = rendered(**fields)
    assert [hold for _, hold in frames] == [125_000] * 16
    assert len({frame for frame, _ in frames}) == 16  # the colours move every frame
    assert_golden(frames[0][0], name, (W, H))
    assert_golden(frames[8][0], f"{name}_half_way", (W, H))


def test_blink_and_fade_together_are_one_loop_of_both():
    frames = rendered(blink_ms=400, fade_ms=800)
    assert sum(hold for _, hold in frames) == 800_000  # blink's period twice, fade's once
    assert [hold for _, hold in frames] == [50_000] * 16
