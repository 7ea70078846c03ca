"""Layouts: rows, columns, stacks, padding, boxes and marquees of leaves, pixel for pixel and as pictures."""

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from PIL import Image

from media import disc_icon
from pixie import errors
from pixie import spec as specs
from pixie.render import effects
from pixie.render.assets import Assets
from rendering import frames, still
from testsupport.golden import assert_golden

WHITE, BLACK, RED, GREEN, BLUE, YELLOW = (
    (255, 255, 255),
    (0, 0, 0),
    (255, 0, 0),
    (0, 255, 0),
    (0, 0, 255),
    (255, 255, 0),
)
SUN = Assets(icons={"sun": disc_icon(YELLOW)})
SIZES = [(64, 32), (32, 16)]


def box(color: str, w: int, h: int) -> dict:
    return {"kind": "box", "color": color, "width": w, "height": h}


def layout(*children, **fields) -> dict:
    return {"kind": "layout", "children": list(children), **fields}


def bbox(image: Image.Image, color) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom), inclusive, of the pixels of `color`."""
    points = [(x, y) for x in range(image.width) for y in range(image.height) if image.getpixel((x, y)) == color]
    if not points:
        return None
    xs, ys = [x for x, _ in points], [y for _, y in points]
    return min(xs), min(ys), max(xs), max(ys)


def test_a_row_places_its_children_left_to_right_from_the_left_at_the_top():
    image = still(64, 32, **layout({"kind": "row", "children": [box("red", 5, 4), box("blue", 3, 8)]}))
    assert bbox(image, RED) == (0, 0, 4, 3) and bbox(image, BLUE) == (5, 0, 7, 7)


@pytest.mark.parametrize(
    ("main", "cross", "red", "blue"),
    [
        ("end", "end", (56, 4, 60, 7), (61, 0, 63, 7)),
        ("center", "center", (28, 2, 32, 5), (33, 0, 35, 7)),
        ("space_between", "start", (0, 0, 4, 3), (61, 0, 63, 7)),
        ("space_evenly", "start", (19, 0, 23, 3), (42, 0, 44, 7)),  # 56 px spare: 18.67 before, between, after
    ],
)
def test_an_expanded_row_spreads_its_children_as_main_align_says_and_lines_them_up_as_cross_align_says(
    main, cross, red, blue
):
    row = {"kind": "row", "expanded": True, "main_align": main, "cross_align": cross}
    image = still(64, 32, **layout({**row, "children": [box("red", 5, 4), box("blue", 3, 8)]}))
    assert bbox(image, RED) == red and bbox(image, BLUE) == blue


def test_a_column_stacks_its_children_top_to_bottom_and_clips_what_overflows_the_panel():
    column = {"kind": "column", "cross_align": "center", "children": [box("red", 6, 10), box("blue", 2, 30)]}
    image = still(64, 32, **layout(column))
    assert bbox(image, RED) == (0, 0, 5, 9) and bbox(image, BLUE) == (2, 10, 3, 31)  # 22 of its 30 rows


def test_a_stack_layers_its_children_from_the_top_left_the_last_on_top():
    image = still(32, 16, **layout({"kind": "stack", "children": [box("red", 10, 10), box("blue", 4, 4)]}))
    assert bbox(image, BLUE) == (0, 0, 3, 3) and bbox(image, RED) == (0, 0, 9, 9)
    assert image.getpixel((3, 3)) == BLUE and image.getpixel((4, 4)) == RED


def test_padding_keeps_its_px_free_on_each_side_given_alone_or_left_top_right_bottom():
    one = still(32, 16, **layout({"kind": "padding", "pad": 2, "child": box("red", 3, 3)}))
    four = still(32, 16, **layout({"kind": "padding", "pad": [5, 1, 0, 0], "child": box("red", 3, 3)}))
    assert bbox(one, RED) == (2, 2, 4, 4) and bbox(four, RED) == (5, 1, 7, 3)
    right = {"kind": "row", "expanded": True, "main_align": "end"}
    padded = {"kind": "padding", "pad": [0, 0, 4, 0], "child": box("red", 3, 3)}
    assert bbox(still(32, 16, **layout({**right, "children": [padded]})), RED) == (25, 0, 27, 2)


def test_a_box_fills_outlines_and_centres_its_child_within_its_padding():
    image = still(
        64, 32, **layout({**box("blue", 12, 8), "outline": "white", "padding": 2, "child": box("red", 20, 2)})
    )
    assert bbox(image, WHITE) == (0, 0, 11, 7) and image.getpixel((1, 1)) == BLUE
    assert bbox(image, RED) == (2, 3, 9, 4)  # 20 px clipped to the 8 inside the padding, centred up and down


def test_a_box_without_a_size_takes_all_it_is_given():
    assert bbox(still(32, 16, **layout({"kind": "box", "color": "red"})), RED) == (0, 0, 31, 15)


def test_leaves_are_the_other_kinds_own_drawings_in_the_space_they_are_given():
    bar = {"kind": "progress", "progress": 50, "width": 20, "height": 2, "progress_bg": "blue"}
    chart = {"kind": "chart", "values": [1, 2], "width": 3, "height": 4}
    drawing = {"kind": "draw", "width": 4, "height": 4, "draw": [{"op": "line", "x0": 0, "y0": 0, "x1": 9, "y1": 9}]}
    image = still(64, 32, **layout({"kind": "row", "children": [bar, chart, drawing]}))
    assert bbox(image, GREEN) == (0, 0, 9, 1) and bbox(image, BLUE) == (10, 0, 19, 1)
    assert [image.getpixel((20, y)) for y in range(4)] == [BLACK, BLACK, WHITE, WHITE]  # the chart's 1 of 0..2
    assert [image.getpixel((22, y)) for y in range(5)] == [WHITE] * 4 + [BLACK]
    assert [image.getpixel((23 + i, i)) for i in range(5)] == [WHITE] * 4 + [BLACK]  # the drawing clipped at 4


def test_an_icon_is_scaled_by_a_whole_factor_to_its_height_and_a_text_is_as_wide_as_its_letters():
    row = {"kind": "row", "children": [{"kind": "icon", "icon": "sun", "height": 16}, {"kind": "text", "text": "1"}]}
    image = still(64, 32, SUN, **layout(row))
    assert bbox(image, YELLOW)[2] - bbox(image, YELLOW)[0] + 1 == 16
    left, _, right, _ = bbox(image, WHITE)
    assert left >= 16 and right - left + 1 <= 10  # 10x20's "1" beside it


def test_an_icon_the_library_lacks_takes_no_room():
    row = {"kind": "row", "children": [{"kind": "icon", "icon": "gone"}, box("red", 2, 2)]}
    assert bbox(still(32, 16, **layout(row)), RED) == (0, 0, 1, 1)


def test_a_marquee_scrolls_its_child_out_of_the_start_then_in_from_the_far_edge_the_rest_staying():
    text = {"kind": "text", "text": "a long line of text", "font": "5x7"}
    shown = frames(
        64, 32, **layout({"kind": "column", "children": [box("red", 4, 4), {"kind": "marquee", "child": text}]})
    )
    step, step_us = effects.scroll_step(32)
    assert {hold for _, hold in shown} == {step_us}
    images = [Image.frombytes("RGB", (64, 32), f) for f, _ in shown]
    assert all(bbox(image, RED) == (0, 0, 3, 3) for image in images)  # the still part stays
    lefts = [bbox(image.crop((0, 4, 64, 32)), WHITE) for image in images]
    assert lefts[0][0] == 0 and lefts[1][0] == 0 and lefts[1][2] == lefts[0][2] - step  # out to the left
    assert len(shown) == -(-(19 * 5 + 64) // step)  # its width and the window's, then it loops
    assert lefts[-1][0] > 0  # back in from the right


def test_a_child_that_fits_its_marquee_stands_still_and_a_vertical_one_scrolls_up():
    assert len(frames(64, 32, **layout({"kind": "marquee", "child": {"kind": "text", "text": "hi"}}))) == 1
    tall = {"kind": "column", "children": [box("red", 2, 10), box("blue", 2, 10)]}
    shown = frames(32, 16, **layout({"kind": "marquee", "scroll_direction": "vertical", "child": tall}))
    step = effects.scroll_step(32)[0]
    second = Image.frombytes("RGB", (32, 16), shown[1][0])
    assert len(shown) == -(-(20 + 16) // step)
    assert bbox(second, RED) == (0, 0, 1, 9 - step) and bbox(second, BLUE) == (0, 10 - step, 1, 15)


def test_a_box_without_a_size_in_a_marquee_takes_its_window_and_stands_still():
    shown = frames(32, 16, **layout({"kind": "marquee", "width": 10, "child": {"kind": "box", "color": "red"}}))
    assert len(shown) == 1 and bbox(Image.frombytes("RGB", (32, 16), shown[0][0]), RED) == (0, 0, 9, 15)


def test_a_chart_narrower_than_its_values_fails_with_the_reason():
    chart = {"kind": "chart", "values": [1, 2, 3, 4], "width": 3}
    with pytest.raises(errors.TooLarge, match="values: 4 of them, more than the 3 columns"):
        frames(32, 16, **layout(chart))


LAYOUTS = {
    "row": layout({"kind": "row", "children": [box("red", 8, 8), box("lime", 4, 12), {"kind": "text", "text": "Row"}]}),
    "column": layout(
        {
            "kind": "column",
            "cross_align": "center",
            "children": [{"kind": "text", "text": "Col", "font": "5x7"}, box("blue", 16, 4), box("red", 8, 4)],
        }
    ),
    "stack": layout({"kind": "stack", "children": [box("navy", 40, 20), {"kind": "text", "text": "Stack"}]}),
    "padding": layout(
        {"kind": "padding", "pad": [4, 2, 0, 0], "child": {"kind": "text", "text": "Pad", "color": "red"}}
    ),
    "box": layout(
        {"kind": "box", "color": "navy", "outline": "orange", "padding": 1, "child": {"kind": "text", "text": "Box"}}
    ),
    "marquee": layout(
        {
            "kind": "row",
            "children": [
                {"kind": "icon", "icon": "sun", "height": 8},
                {"kind": "marquee", "child": {"kind": "text", "text": "scrolls while the sun stays", "font": "6x10"}},
            ],
        }
    ),
    "weather": specs.WEATHER_LAYOUT,
    "energy": specs.ENERGY_LAYOUT,
}


@pytest.mark.parametrize(("width", "height"), SIZES)
@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_layout_goldens(name, width, height):
    """Each container, a marquee's first frame and the OpenAPI's two example screens, at 64x32 and 32x16."""
    assert_golden(frames(width, height, SUN, **LAYOUTS[name])[0][0], f"layout_{name}_{width}x{height}", (width, height))


# -- properties -------------------------------------------------------------------------------------------

colours = st.sampled_from(["red", "#00ff00", "blue", "white"])
px = st.integers(1, 40)
leaves = st.one_of(
    st.fixed_dictionaries({"kind": st.just("text"), "text": st.text("ab 1°", min_size=1, max_size=12)}),
    st.fixed_dictionaries({"kind": st.just("icon"), "icon": st.sampled_from(["sun", "missing"])}),
    st.fixed_dictionaries({"kind": st.just("progress"), "progress": st.integers(0, 100)}, optional={"height": px}),
    st.fixed_dictionaries({"kind": st.just("chart"), "values": st.lists(st.integers(-9, 9), min_size=1, max_size=1)}),
    st.fixed_dictionaries(
        {"kind": st.just("draw"), "draw": st.just([{"op": "circle", "x": 3, "y": 3, "r": 3}])}, optional={"width": px}
    ),
    st.fixed_dictionaries({"kind": st.just("box")}, optional={"color": colours, "width": px, "height": px}),
)


def _containers(children):
    several = st.lists(children, min_size=1, max_size=3)
    line = {
        "children": several,
        "expanded": st.booleans(),
        "main_align": st.sampled_from(["start", "center", "end", "space_between", "space_evenly"]),
        "cross_align": st.sampled_from(["start", "center", "end"]),
    }
    return st.one_of(
        st.fixed_dictionaries({"kind": st.sampled_from(["row", "column"]), **line}),
        st.fixed_dictionaries({"kind": st.just("stack"), "children": several}),
        st.fixed_dictionaries({"kind": st.just("padding"), "child": children, "pad": st.integers(0, 6)}),
        st.fixed_dictionaries({"kind": st.just("box"), "child": children}, optional={"outline": colours, "width": px}),
        st.fixed_dictionaries(
            {"kind": st.just("marquee"), "child": children, "speed": st.sampled_from([100, 500])},
            optional={"scroll_direction": st.sampled_from(["horizontal", "vertical"])},
        ),
    )


elements = st.recursive(leaves, _containers, max_leaves=16)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(children=st.lists(_containers(elements), min_size=1, max_size=3), size=st.sampled_from(SIZES))
def test_any_valid_layout_renders_frames_of_exactly_the_panels_size(children, size):
    body = layout(*children)
    try:
        specs.parse(body, strict=True)
    except specs.SpecError as e:  # past the element count: refused, with the reason
        assert "elements in one layout" in str(e) or "levels deep" in str(e)
        event("refused by the spec")
        return
    width, height = size
    try:
        shown = frames(width, height, SUN, **body)
    except ValueError as e:  # marquees whose loops together pass the [render] limits: refused, with the reason
        assert "render.max_frames" in str(e) or "render.max_animation_s" in str(e)
        event("past the render limits")
        return
    event(f"{'animated' if len(shown) > 1 else 'still'}")
    assert shown and all(len(frame) == width * height * 3 and hold > 0 for frame, hold in shown)


def nested(depth: int, leaf: dict) -> dict:
    for _ in range(depth):
        leaf = {"kind": "padding", "child": leaf}
    return leaf


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            layout(nested(100, {"kind": "text", "text": "x"})),
            "children.0" + ".child" * 8 + ": nested more than 8 levels deep",
        ),
        (layout(nested(specs.MAX_LAYOUT_DEPTH, {"kind": "text", "text": "x"})), "nested more than 8 levels deep"),
        (layout({"kind": "row", "children": [box("red", 1, 1)] * 17}), "children.0.children: List should have at most"),
        (layout(*[{"kind": "stack", "children": [box("red", 1, 1)] * 16}] * 4), "more than 64 elements"),
        (layout({"kind": "row", "children": [box("red", 1, 1), {"kind": "clock"}]}), "children.0.children.1.kind must"),
        (layout({"kind": "box", "child": {"kind": "text", "text": "x", "font": 3}}), "children.0.child.font"),
        (layout({"kind": "box", "child": {"kind": "draw", "draw": [{"op": "dot"}]}}), "children.0.child.draw.0.op"),
        (layout({"kind": "padding", "pad": [1, 2], "child": box("red", 1, 1)}), "children.0.pad"),
        (layout(), "children: List should have at least 1 item"),
    ],
)
def test_broken_layouts_are_refused_naming_the_field(body, reason):
    with pytest.raises(specs.SpecError, match=reason.replace(".", r"\.")):
        specs.parse(body, strict=True)


def test_nesting_up_to_the_limit_is_taken():
    specs.parse(layout(nested(specs.MAX_LAYOUT_DEPTH - 1, {"kind": "text", "text": "x"})), strict=True)


@settings(max_examples=40, deadline=None)
@given(
    children=st.lists(_containers(elements), min_size=1, max_size=3),
    how=st.sampled_from(["deep", "unknown", "many"]),
    data=st.data(),
)
def test_any_layout_broken_deep_down_is_refused_naming_where(children, how, data):
    body = layout(*children)
    element, path = body["children"][0], "children.0"
    for _ in range(data.draw(st.integers(0, 3))):  # down a random way
        if "child" in element:
            element, path = element["child"], f"{path}.child"
        elif "children" in element:
            i = data.draw(st.integers(0, len(element["children"]) - 1))
            element, path = element["children"][i], f"{path}.children.{i}"
    if how == "deep":
        kept = dict(element)
        element.clear()
        element.update(nested(specs.MAX_LAYOUT_DEPTH, kept))
        reason = "levels deep"
    elif how == "unknown":
        element["kind"] = data.draw(st.text(min_size=1, max_size=8).filter(lambda k: k not in specs.LAYOUT_KINDS))
        reason = f"{path}.kind must be one of row, column"
    else:
        element.clear()
        element.update({"kind": "stack", "children": [box("red", 1, 1)] * (specs.MAX_LAYOUT_CHILDREN + 1)})
        reason = f"{path}.children: List should have at most {specs.MAX_LAYOUT_CHILDREN} items"
    with pytest.raises(specs.SpecError) as refused:
        specs.parse(body, strict=True)
    assert reason in str(refused.value) or "elements in one layout" in str(refused.value)
