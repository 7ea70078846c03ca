"""Drawing: each primitive as a picture (64x32 and 32x16), clipping at the panel's edges, the spec's
refusals, and hypothesis's random drawings (valid ones render, invalid ones are refused with a reason)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageColor

from pixie import spec as specs
from pixie.config import Render
from pixie.render import kinds
from testsupport.golden import assert_golden

LIMITS = Render()
ONE_SECOND_US = 1_000_000  # a drawing is a still: one frame held 1 s; the figure, not render.frames' constant
SIZES = [(64, 32), (32, 16)]
RED, GREEN, BLUE, WHITE, BLACK = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255), (0, 0, 0)
# One drawing per primitive, in the same panel coordinates at both sizes: what the smaller panel lacks is clipped.
PRIMITIVES = {
    "pixel": [
        {"op": "pixel", "x": 0, "y": 0, "color": "red"},
        {"op": "pixel", "x": 63, "y": 31, "color": "lime"},
        {"op": "pixel", "x": 31, "y": 15, "color": "white"},
        {"op": "pixel", "x": 2, "y": 13, "color": "blue"},
        {"op": "pixel", "x": -1, "y": 5, "color": "yellow"},
    ],
    "line": [
        {"op": "line", "x0": 0, "y0": 0, "x1": 63, "y1": 31, "color": "red"},
        {"op": "line", "x0": 0, "y0": 31, "x1": 63, "y1": 0, "color": "lime"},
        {"op": "line", "x0": 10, "y0": -5, "x1": 10, "y1": 40, "color": "blue"},
        {"op": "line", "x0": -10, "y0": 12, "x1": 80, "y1": 12, "color": "yellow"},
        {"op": "line", "x0": 40, "y0": 2, "x1": 46, "y1": 4, "color": "white"},
    ],
    "rect": [
        {"op": "rect", "x": 2, "y": 2, "w": 20, "h": 12, "color": "red"},
        {"op": "rect", "x": 26, "y": 4, "w": 1, "h": 1, "color": "white"},
        {"op": "rect", "x": 40, "y": 10, "w": 30, "h": 30, "color": "lime"},
        {"op": "rect", "x": -5, "y": 20, "w": 10, "h": 10, "color": "blue"},
        {"op": "rect", "x": 28, "y": 2, "w": 6, "h": 2, "color": "yellow"},
    ],
    "filled_rect": [
        {"op": "filled_rect", "x": 2, "y": 2, "w": 20, "h": 12, "color": "red"},
        {"op": "filled_rect", "x": 26, "y": 4, "w": 1, "h": 1, "color": "white"},
        {"op": "filled_rect", "x": 40, "y": 10, "w": 30, "h": 30, "color": "lime"},
        {"op": "filled_rect", "x": -5, "y": 20, "w": 10, "h": 10, "color": "blue"},
        {"op": "filled_rect", "x": 4, "y": 4, "w": 8, "h": 4, "color": "yellow"},
    ],
    "circle": [
        {"op": "circle", "x": 3, "y": 3, "r": 0, "color": "white"},
        {"op": "circle", "x": 8, "y": 3, "r": 1, "color": "yellow"},
        {"op": "circle", "x": 18, "y": 5, "r": 4, "color": "red"},
        {"op": "circle", "x": 44, "y": 16, "r": 11, "color": "lime"},
        {"op": "circle", "x": 0, "y": 31, "r": 8, "color": "blue"},
    ],
    "filled_circle": [
        {"op": "filled_circle", "x": 3, "y": 3, "r": 0, "color": "white"},
        {"op": "filled_circle", "x": 8, "y": 3, "r": 1, "color": "yellow"},
        {"op": "filled_circle", "x": 18, "y": 5, "r": 4, "color": "red"},
        {"op": "filled_circle", "x": 44, "y": 16, "r": 11, "color": "lime"},
        {"op": "filled_circle", "x": 0, "y": 31, "r": 8, "color": "blue"},
    ],
    "text": [
        {"op": "text", "x": 0, "y": 0, "text": "4x6 font", "color": "lime", "font": "4x6"},
        {"op": "text", "x": 1, "y": 7, "text": "ab\ncd", "color": "yellow", "font": "6x10"},
        {"op": "text", "x": 16, "y": 8, "text": "Hi", "color": "white"},
        {"op": "text", "x": 40, "y": 20, "text": "東京", "color": "red", "font": "5x8"},
        {"op": "text", "x": -3, "y": 26, "text": "clip", "color": "aqua", "font": "4x6"},
    ],
    "bitmap": [
        {
            "op": "bitmap",
            "x": 2,
            "y": 2,
            "w": 8,
            "h": 8,
            "pixels": [(x * 32) << 16 | (y * 32) << 8 for y in range(8) for x in range(8)],
        },
        {"op": "bitmap", "x": -2, "y": 12, "w": 4, "h": 4, "pixels": [0xFF0000, 0x00FF00] * 8},
        {"op": "bitmap", "x": 56, "y": 28, "w": 16, "h": 8, "pixels": [0x0000FF, 0xFFFFFF] * 64},
        {"op": "bitmap", "x": 20, "y": 3, "w": 3, "h": 1, "pixels": [0xFFFF00, 0x000000, 0xFF00FF]},
    ],
}
# AWTRIX's docs/api.md's drawing example, in Pixie's words (test_awtrix sends it as AWTRIX's).
AWTRIX_EXAMPLE = [
    {"op": "circle", "x": 28, "y": 4, "r": 3, "color": "#FF0000"},
    {"op": "rect", "x": 20, "y": 4, "w": 4, "h": 4, "color": "#0000FF"},
    {"op": "text", "x": 0, "y": 0, "text": "Hello", "color": "#00FF00", "font": "4x6"},
]


def drawn(primitives: list, width: int = 64, height: int = 32, background: str = "black") -> Image.Image:
    job = specs.parse({"kind": "draw", "draw": primitives, "background": background}, strict=True)
    [(frame, hold)] = kinds.render(job, None, width, height, LIMITS)
    assert hold == ONE_SECOND_US
    return Image.frombytes("RGB", (width, height), frame)


# -- pictures ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("op", PRIMITIVES)
def test_each_primitive_draws_as_its_golden_picture_clipped_at_the_panels_edges(op, size, tmp_path):
    assert_golden(drawn(PRIMITIVES[op], *size), f"draw_{op}_{size[0]}x{size[1]}", out_dir=tmp_path)


def test_awtrixs_documented_drawing_is_its_circle_rectangle_and_text(tmp_path):
    picture = drawn(AWTRIX_EXAMPLE)
    assert_golden(picture, "draw_awtrix_example", out_dir=tmp_path)
    assert picture.getpixel((31, 4)) == RED and picture.getpixel((25, 4)) == RED  # the circle's left and right
    assert picture.getpixel((28, 1)) == RED and picture.getpixel((28, 7)) == RED  # its top and bottom
    assert picture.getpixel((28, 4)) == BLACK  # an outline
    assert {picture.getpixel((x, y)) for x in (20, 23) for y in (4, 7)} == {BLUE}  # 4x4: corners 20..23, 4..7
    assert picture.getpixel((24, 4)) == BLACK and picture.getpixel((21, 5)) == BLACK
    assert picture.getpixel((0, 0)) == GREEN  # the H's top-left: the text's top-left corner at (0, 0)


def test_rectangles_take_a_width_and_height_and_circles_a_radius():
    assert drawn([{"op": "filled_rect", "x": 3, "y": 2, "w": 4, "h": 3}]).getbbox() == (3, 2, 7, 5)
    assert drawn([{"op": "rect", "x": 3, "y": 2, "w": 4, "h": 3}]).getbbox() == (3, 2, 7, 5)
    assert drawn([{"op": "filled_circle", "x": 10, "y": 10, "r": 5}]).getbbox() == (5, 5, 16, 16)
    assert drawn([{"op": "circle", "x": 10, "y": 10, "r": 5}]).getbbox() == (5, 5, 16, 16)
    assert drawn([{"op": "circle", "x": 10, "y": 10, "r": 0}]).getbbox() == (10, 10, 11, 11)


@pytest.mark.parametrize("op", [op for op in PRIMITIVES if op != "bitmap"])
def test_shapes_and_bitmap_font_text_are_crisp_each_pixel_a_colour_asked_for_or_the_background(op):
    colours = {colour for _, colour in drawn(PRIMITIVES[op], background="#102030").getcolors()}
    assert colours <= {ImageColor.getrgb(p["color"]) for p in PRIMITIVES[op]} | {(0x10, 0x20, 0x30)}


def test_a_bitmap_is_its_colours_row_by_row():
    picture = drawn(
        [{"op": "bitmap", "x": 1, "y": 1, "w": 3, "h": 2, "pixels": [0xFF0000, 0x00FF00, 0x0000FF, 1, 2, 3]}]
    )
    assert [picture.getpixel((x, y)) for y in (1, 2) for x in (1, 2, 3)] == [
        RED,
        GREEN,
        BLUE,
        (0, 0, 1),
        (0, 0, 2),
        (0, 0, 3),
    ]


def test_later_primitives_draw_over_earlier_ones():
    square = {"op": "filled_rect", "x": 0, "y": 0, "w": 4, "h": 4}
    assert drawn([{**square, "color": "red"}, {**square, "color": "blue"}]).getpixel((1, 1)) == BLUE
    assert drawn([{**square, "color": "blue"}, {**square, "color": "red"}]).getpixel((1, 1)) == RED


def test_a_texts_drawing_is_over_every_frame_of_the_scrolling_text(tmp_path):
    fields = {"kind": "text", "text": "A text wider than the panel", "color": "yellow", "scroll": True}
    border = [{"op": "rect", "x": 0, "y": 0, "w": 64, "h": 32, "color": "red"}, {"op": "pixel", "x": 32, "y": 2}]
    plain = kinds.render(specs.parse(fields, strict=True), None, 64, 32, LIMITS)
    framed = kinds.render(specs.parse({**fields, "draw": border}, strict=True), None, 64, 32, LIMITS)
    assert [hold for _, hold in framed] == [hold for _, hold in plain]
    for (frame, _), (under, _) in zip(framed, plain, strict=True):
        picture = Image.frombytes("RGB", (64, 32), frame)
        expected = Image.frombytes("RGB", (64, 32), under)
        expected.paste(RED, (0, 0, 64, 1))
        expected.paste(RED, (0, 31, 64, 32))
        expected.paste(RED, (0, 0, 1, 32))
        expected.paste(RED, (63, 0, 64, 32))
        expected.putpixel((32, 2), WHITE)
        assert picture.tobytes() == expected.tobytes()
    assert_golden(framed[len(framed) // 2][0], "draw_over_scrolling_text", (64, 32), tmp_path)


# -- the spec ------------------------------------------------------------------------------------------


def refusal(draw) -> str:
    with pytest.raises(specs.SpecError) as refused:
        specs.parse({"kind": "draw", "draw": draw}, strict=True)
    return str(refused.value)


def bitmap(w: int, h: int, n: int | None = None) -> dict:
    return {"op": "bitmap", "x": 0, "y": 0, "w": w, "h": h, "pixels": [0] * (w * h if n is None else n)}


OPS = "pixel, line, rect, filled_rect, circle, filled_circle, text or bitmap"


@pytest.mark.parametrize(
    "draw,reason",
    [
        ([{"op": "star", "x": 1, "y": 1}], f'draw.0.op must be one of {OPS}, got "star"'),
        ([{"x": 1, "y": 1}], f"draw.0.op must be one of {OPS}"),
        ([{"op": "pixel", "x": 0, "y": 0}, "dp"], "draw.1: Input should be a valid dictionary"),
        ([{"op": "pixel", "x": 1}], "draw.0.y: Field required"),
        ([{"op": "circle", "x": 1, "y": 1, "r": 2, "w": 3}], "draw.0.w: Extra inputs are not permitted"),
        ([{"op": "rect", "x": 0, "y": 0, "w": 0, "h": 2}], "draw.0.w: Input should be greater than or equal to 1"),
        ([{"op": "circle", "x": 0, "y": 0, "r": -1}], "draw.0.r: Input should be greater than or equal to 0"),
        (
            [{"op": "line", "x0": 0, "y0": 0, "x1": 4097, "y1": 0}],
            "draw.0.x1: Input should be less than or equal to 4096",
        ),
        ([{"op": "pixel", "x": "1", "y": 0}], "draw.0.x: Input should be a valid integer"),
        ([{"op": "pixel", "x": 0, "y": 0, "color": "nope"}], "draw.0.color: Value error, not a colour"),
        ([{"op": "text", "x": 0, "y": 0, "text": ""}], "draw.0.text: String should have at least 1 character"),
        ([{"op": "text", "x": 0, "y": 0, "text": "a", "font": "../x"}], "draw.0.font: String should match pattern"),
        ([bitmap(100, 100, 1)], "draw.0.h: Value error, a 100x100 bitmap has 10000 pixels, more than 4096"),
        ([bitmap(2, 2, 3)], "draw.0.pixels: Value error, a 2x2 bitmap takes 4 colours, got 3"),
        ([bitmap(1, 1, 10**6)], "draw.0.pixels: List should have at most 4096 items"),
        ([{**bitmap(1, 1), "pixels": [0x1000000]}], "draw.0.pixels.0: Input should be less than or equal to 16777215"),
        ([bitmap(64, 64), bitmap(1, 1)], "draw: Value error, the bitmaps together have 4097 pixels, more than 4096"),
        ([], "draw: List should have at least 1 item"),
        ([{}] * 10**6, "draw: List should have at most 256 items after validation, not 1000000"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_a_drawing_that_cannot_be_drawn_is_refused_naming_the_field(draw, reason):
    assert reason in refusal(draw)


def test_a_texts_drawing_is_refused_under_its_own_name():
    with pytest.raises(specs.SpecError, match=r"^draw\.0\.r: Input should be greater"):
        specs.parse({"kind": "text", "text": "x", "draw": [{"op": "circle", "x": 0, "y": 0, "r": -2}]}, strict=True)
    with pytest.raises(specs.SpecError, match=r"^content\.draw\.0\.op must be one of"):
        specs.parse_app({"content": {"kind": "draw", "draw": [{"op": "blob"}]}})


# -- properties ------------------------------------------------------------------------------------------

coord = st.integers(-specs.MAX_COORD, specs.MAX_COORD)
near = st.integers(-40, 100)  # where most of them land on (or just off) a small panel
position = st.one_of(near, coord)
colour = st.sampled_from(["red", "#00ff00", "navy", "#123456", "white"])
size = st.one_of(st.integers(1, 40), st.integers(1, specs.MAX_COORD))
radius = st.one_of(st.integers(0, 20), st.integers(0, specs.MAX_COORD))


def primitive(x=position, y=position, text: bool = True) -> st.SearchStrategy:
    """Any valid primitive (a text only if `text`), its coordinates from `x` and `y`."""
    small = st.integers(1, 8)
    texts = st.fixed_dictionaries(
        {
            "op": st.just("text"),
            "x": x,
            "y": y,
            "text": st.text(min_size=1, max_size=12),
            "color": colour,
            "font": st.sampled_from(["auto", "4x6", "6x13", "unifont", "sans", "pixel"]),
        }
    )
    return st.one_of(
        *([texts] if text else []),
        st.fixed_dictionaries({"op": st.just("pixel"), "x": x, "y": y, "color": colour}),
        st.fixed_dictionaries({"op": st.just("line"), "x0": x, "y0": y, "x1": x, "y1": y, "color": colour}),
        st.fixed_dictionaries(
            {"op": st.sampled_from(["rect", "filled_rect"]), "x": x, "y": y, "w": size, "h": size, "color": colour}
        ),
        st.fixed_dictionaries(
            {"op": st.sampled_from(["circle", "filled_circle"]), "x": x, "y": y, "r": radius, "color": colour}
        ),
        st.tuples(small, small).flatmap(
            lambda wh: st.fixed_dictionaries(
                {
                    "op": st.just("bitmap"),
                    "x": x,
                    "y": y,
                    "w": st.just(wh[0]),
                    "h": st.just(wh[1]),
                    "pixels": st.lists(st.integers(0, specs.MAX_RGB), min_size=wh[0] * wh[1], max_size=wh[0] * wh[1]),
                }
            )
        ),
    )


panel = st.tuples(st.sampled_from([16, 32, 64, 128]), st.sampled_from([8, 16, 32, 64]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(primitive(), min_size=1, max_size=12), panel)
def test_any_valid_drawing_renders_one_frame_of_exactly_the_panels_size(draw, size):
    width, height = size
    job = specs.parse({"kind": "draw", "draw": draw}, strict=True)
    [(frame, hold)] = kinds.render(job, None, width, height, LIMITS)
    assert len(frame) == width * height * 3 and hold == ONE_SECOND_US


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_a_drawing_wholly_right_of_or_below_the_panel_leaves_it_untouched(data):
    """Clipped, not wrapped or moved: every coordinate beyond the panel's last column (or row), and a
    circle's centre further than its radius. (Not texts: a glyph's ink may reach left of or above its
    corner, as a "j" does in some fonts.)"""
    width, height = data.draw(panel)
    beyond_x = st.integers(width, specs.MAX_COORD)
    beyond_y = st.integers(height, specs.MAX_COORD)
    right = data.draw(st.booleans())
    draw = data.draw(
        st.lists(
            primitive(x=beyond_x if right else near, y=near if right else beyond_y, text=False), min_size=1, max_size=8
        )
    )
    for p in draw:
        if p["op"] in ("circle", "filled_circle"):  # the centre beyond the edge by more than the radius
            p["r"] = min(p["r"], (p["x"] - width if right else p["y"] - height))
    background = drawn([{"op": "pixel", "x": -1, "y": -1}], width, height, "#203040")
    assert drawn(draw, width, height, "#203040").tobytes() == background.tobytes()


def invalid(draw: list, i: int, how: str) -> list:
    """The drawing with its i-th primitive made invalid `how`."""
    bad = dict(draw[i])
    if how == "op":
        bad["op"] = "d" + bad["op"]
    elif how == "missing":
        bad.pop(next(k for k in bad if k not in ("op", "color", "font")))
    elif how == "extra":
        bad["z"] = 1
    elif how == "range":
        bad[next(k for k in ("x", "x0") if k in bad)] = specs.MAX_COORD + 1
    elif how == "type":
        bad[next(k for k in ("y", "y0") if k in bad)] = "1"
    return [*draw[:i], bad, *draw[i + 1 :]]


@settings(max_examples=150, deadline=None)
@given(st.lists(primitive(), min_size=1, max_size=12), st.data())
def test_any_drawing_with_a_broken_primitive_is_refused_naming_it(draw, data):
    i = data.draw(st.integers(0, len(draw) - 1))
    how = data.draw(st.sampled_from(["op", "missing", "extra", "range", "type"]))
    reason = refusal(invalid(draw, i, how))
    assert reason.startswith(f"draw.{i}"), reason
