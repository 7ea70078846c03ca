"""Bar and line charts: the chart kind and a text's chart, pixel for pixel and as pictures."""

import pytest
from PIL import Image

from media import disc_icon
from pixie import errors
from pixie import spec as specs
from pixie.render import chart
from pixie.render.assets import Assets
from rendering import frames, still
from testsupport.golden import assert_golden

WHITE, BLACK, RED, YELLOW = (255, 255, 255), (0, 0, 0), (255, 0, 0), (255, 255, 0)
SUN = Assets(icons={"sun": disc_icon(YELLOW)})


def column(image: Image.Image, x: int) -> list[int]:
    """The rows of column x that are not black."""
    return [y for y in range(image.height) if image.getpixel((x, y)) != BLACK]


def lit(image: Image.Image, color=WHITE) -> set[tuple[int, int]]:
    return {(x, y) for x in range(image.width) for y in range(image.height) if image.getpixel((x, y)) == color}


def colours(frame: bytes) -> set:
    return set(zip(frame[0::3], frame[1::3], frame[2::3], strict=True))


def test_bars_are_as_wide_as_the_columns_allow_1_px_apart_each_as_tall_as_its_share_of_the_rows():
    image = still(64, 32, kind="chart", values=[1, 5, 3, 8])  # autoscale: 0..8, 4 rows a unit
    bars = {x: column(image, x) for x in range(64)}
    for i, height in enumerate([4, 20, 12, 32]):  # (64 - 3 gaps) // 4 = 15 px wide, from the left
        for x in range(i * 16, i * 16 + 15):
            assert bars[x] == list(range(32 - height, 32)), (i, x)
        assert bars[i * 16 + 15] == []  # the gap (and the 64th column: left over)


def test_more_values_than_half_the_columns_touch_and_as_many_as_columns_are_1_px_each():
    image = still(64, 32, kind="chart", values=list(range(1, 65)))  # 1..64 of 64: level = v // 2
    assert [len(column(image, x)) for x in range(64)] == [(v * 32) // 64 for v in range(1, 65)]
    image = still(64, 32, kind="chart", values=[1] * 40)
    assert [len(column(image, x)) for x in range(64)] == [32] * 40 + [0] * 24


def test_a_fixed_range_scales_and_clamps_where_autoscale_spans_the_values():
    auto = still(32, 16, kind="chart", values=[2, 4])  # 0..4: the 4 reaches the top
    fixed = still(32, 16, kind="chart", values=[2, 4, 20, -3], min=0, max=8)
    assert [len(column(auto, x)) for x in (0, 16)] == [8, 16]
    assert [len(column(fixed, x)) for x in (0, 8, 16, 24)] == [4, 8, 16, 0]  # 20: the top; -3: nothing


def test_bars_rise_from_the_baseline_and_hang_below_it_and_its_line_is_drawn_behind():
    image = still(32, 16, kind="chart", values=[4, -4], baseline=0, baseline_color="#ff0000")
    # -4..4 over 16 rows: 0 at level 8 (row 8), 4 at the top
    assert column(image, 0) == list(range(0, 9)) and image.getpixel((0, 8)) == RED  # on the line
    assert column(image, 16) == list(range(8, 16)) and image.getpixel((16, 8)) == WHITE  # from its row down
    assert image.getpixel((15, 8)) == RED  # the gap shows the line


def test_without_a_baseline_bars_of_negative_values_hang_from_zero():
    image = still(32, 16, kind="chart", values=[-2, 2])  # autoscale -2..2: 0 at level 8
    assert column(image, 0) == list(range(8, 16)) and column(image, 16) == list(range(0, 8))


def test_bar_background_fills_each_bars_column_all_the_way_up():
    image = still(32, 8, kind="chart", values=[1, 2], min=0, max=8, bar_background="#ff0000")
    assert [image.getpixel((0, y)) for y in range(8)] == [RED] * 7 + [WHITE]
    assert image.getpixel((15, 0)) == BLACK and image.getpixel((16, 0)) == RED  # the gap stays the background


def test_a_line_joins_the_points_on_the_rows_of_their_bars_tops_from_the_first_column_to_the_last():
    image = still(64, 32, kind="chart", values=[0, 8, 4], style="line", min=0, max=8)
    assert column(image, 0) == [31]  # a level of 0: the bottom row
    assert column(image, 31) == [0]  # 8 of 8: the top row, in column 1 * 63 // 2
    assert column(image, 63) == [16]  # 4 of 8: level 16, its top pixel on row 32 - 16
    assert all(column(image, x) for x in range(64))  # joined: every column has a pixel of the line
    assert lit(image) == {(x, y) for x in range(64) for y in column(image, x)}


def test_a_line_autoscales_to_the_values_alone():
    image = still(32, 8, kind="chart", values=[20, 24], style="line")  # 20..24: bottom to top
    assert column(image, 0) == [7] and column(image, 31) == [0]


def test_one_value_is_one_point_and_equal_values_sit_on_the_bottom_row():
    assert lit(still(32, 8, kind="chart", values=[5], style="line")) == {(0, 7)}
    assert {y for _, y in lit(still(32, 8, kind="chart", values=[5, 5, 5], style="line"))} == {7}


def test_the_chart_kind_stands_right_of_its_icon_and_its_gap():
    image = still(64, 32, SUN, kind="chart", values=[1, 1], icon="sun")  # a 24-px icon, 1-px gap: from x 25
    assert {x for x, _ in lit(image)} == {*range(25, 44), *range(45, 64)}  # two bars (39 - 1) // 2 px wide
    assert image.getpixel((12, 16)) == YELLOW


def test_more_values_than_the_chart_has_columns_are_refused_with_the_reason():
    with pytest.raises(errors.TooLarge, match="values: 65 of them, more than the 64 columns"):
        frames(64, 32, kind="chart", values=[1] * 65)
    with pytest.raises(errors.TooLarge, match="values: 40 of them, more than the 39 columns"):
        frames(64, 32, SUN, kind="chart", values=[1] * 40, icon="sun")
    with pytest.raises(errors.TooLarge, match="values: 33 of them, more than the 32 columns"):
        frames(32, 16, kind="text", text="x", chart={"values": [1] * 33})


def test_a_texts_chart_is_behind_the_text_and_shows_between_its_letters_as_it_scrolls():
    blue = {"values": [8] * 64, "color": "#0000ff", "min": 0, "max": 8}  # the whole panel blue
    shown = frames(64, 32, kind="text", text="Scrolling over a chart", chart=blue, speed=200)
    assert len(shown) > 10
    for frame, _ in shown:
        assert colours(frame) <= {(0, 0, 255), WHITE}
    assert any(WHITE in colours(frame) for frame, _ in shown)


def test_a_texts_chart_leaves_the_icon_and_its_gap_free():
    image = still(64, 32, SUN, kind="text", text="5", icon="sun", chart={"values": [8], "min": 0, "max": 8})
    assert {x for x, _ in lit(image)} - set(range(25, 64)) == set()  # the bar and the 5: right of x 24
    assert column(image, 24) == []


def test_scale_is_the_fixed_range_or_the_values_with_the_baseline():
    def of(**fields):
        return chart.scale(specs.ChartData(**fields))

    assert of(values=[3, 9]) == (0, 9)  # bars: from 0
    assert of(values=[3, 9], style="line") == (3, 9)
    assert of(values=[3, 9], style="line", baseline=12) == (3, 12)
    assert of(values=[3, 9], min=5) == (5, 9)
    assert of(values=[0, 0]) == (0, 1)  # nothing to span: a unit


GOLDEN = {
    "bar": {"values": [1, 5, 3, 8]},
    "line": {"values": [3, 4, 6, 5, 7, 9, 8, 2, 4, 6], "style": "line", "color": "#00ff80"},
    "autoscale": {"values": [20, 21, 23, 22, 24], "style": "line", "color": "#ff8000"},
    "fixed_range": {"values": [20, 21, 23, 22, 24], "style": "line", "color": "#ff8000", "min": 0, "max": 30},
    "baseline": {"values": [2, -1, 3, -2, 4, 1], "baseline": 0, "color": "#ffa000", "bar_background": "#202040"},
    "beside_icon": {"values": [1, 2, 3, 5, 8, 5, 3], "icon": "sun", "color": "#00c0ff"},
}


@pytest.mark.parametrize("size", [(64, 32), (32, 16)], ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", GOLDEN)
def test_a_chart_draws_as_the_golden_picture(name, size, tmp_path):
    assert_golden(
        still(*size, SUN, kind="chart", **GOLDEN[name]), f"chart_{name}_{size[0]}x{size[1]}", out_dir=tmp_path
    )


@pytest.mark.parametrize("size", [(64, 32), (32, 16)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_a_chart_under_a_text_draws_as_the_golden_picture(size, tmp_path):
    fields = {"text": "21°", "chart": {"values": [1, 2, 3, 5, 8, 13, 8, 5, 3, 2, 1], "color": "#0040a0"}}
    assert_golden(still(*size, kind="text", **fields), f"chart_under_text_{size[0]}x{size[1]}", out_dir=tmp_path)


@pytest.mark.parametrize(
    "fields,reason",
    [
        ({"values": []}, "values: List should have at least 1 item"),
        ({}, "values: Field required"),
        ({"values": [1, float("nan")]}, "values.1: Input should be a finite number"),
        ({"values": [float("inf")]}, "values.0: Input should be a finite number"),
        ({"values": [float("-inf")]}, "values.0: Input should be a finite number"),
        ({"values": [1] * 10_000}, "values: List should have at most 1024 items"),
        ({"values": [1e16]}, "values.0: Input should be less than or equal to 1000000000000000"),
        ({"values": [1, "2"]}, "values.1: Input should be a valid number"),
        ({"values": [1, True]}, "values.1: Input should be a valid number"),
        ({"values": [1], "min": 5, "max": 5}, "max must be more than min (5), got 5"),
        ({"values": [1], "min": float("nan")}, "min: Input should be a finite number"),
        ({"values": [1], "baseline": float("inf")}, "baseline: Input should be a finite number"),
        ({"values": [1], "style": "pie"}, "style: Input should be 'bar' or 'line'"),
        ({"values": [1], "style": "line", "bar_background": "red"}, "bar_background must be left out of a line"),
        ({"values": [1], "color": "nope"}, "color: Value error, not a colour"),
    ],
)
def test_a_bad_chart_is_refused_naming_the_field_as_a_kind_and_under_a_text(fields, reason):
    with pytest.raises(specs.SpecError) as refused:
        specs.parse({"kind": "chart", **fields}, strict=True)
    assert reason in str(refused.value)
    with pytest.raises(specs.SpecError) as refused:
        specs.parse({"kind": "text", "text": "x", "chart": fields}, strict=True)
    assert f"chart.{reason}" in str(refused.value)
