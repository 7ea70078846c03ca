"""Bar and line charts of numbers, pixel-exact: the `chart` kind, and a text's chart behind its text.

The chart's h rows are its scale: a value v stands `level(v)` rows high, floor((v - lo) / (hi - lo) * h)
clamped to 0..h, as AWTRIX maps its values to 0..8 rows. lo and hi are `min` and `max`, else (autoscale)
the least and greatest of the values and the baseline (a bar chart's is 0 unless given).

Bars (AWTRIX's drawBarChart): as wide as the columns allow, 1 px apart while each can be at least 1 px wide,
from the left (what does not divide is left over at the right); each fills the rows between the baseline's
level and its own. Lines (drawLineChart): the i-th point in column i * (w - 1) // (n - 1), on the row of
its bar's top pixel (a level of 0 on the bottom row, which AWTRIX would draw just below the panel), the
points joined by 1-px lines. The baseline, when given, is a row of its colour behind the chart, where a
line chart would draw that value. At most one value a column: more are refused with the reason.
"""

import math

from PIL import Image, ImageDraw

from .. import errors
from . import icons
from .assets import NONE, Assets
from .frames import Frames


def scale(chart) -> tuple[float, float]:
    """(lo, hi): the values at the bottom and the top; a range of no height is one unit tall."""
    base = _base(chart)
    given = [*chart.values, *([] if base is None else [base])]
    lo = chart.min if chart.min is not None else min(given)
    hi = chart.max if chart.max is not None else max(given)
    return (lo, hi) if hi > lo else (lo, lo + 1)


def draw(image: Image.Image, box: tuple[int, int, int, int], chart) -> None:
    """The chart in `box` (x, y, width, height) of `image`, over what is there."""
    x0, y0, w, h = box
    n = len(chart.values)
    if n > w:
        raise errors.TooLarge(f"values: {n} of them, more than the {w} columns the chart has (one a column at most)")
    lo, hi = scale(chart)

    def level(v: float) -> int:
        return min(h, max(0, math.floor((v - lo) / (hi - lo) * h + 1e-9)))

    def row(v: float) -> int:
        return y0 + h - max(level(v), 1)

    pen = ImageDraw.Draw(image)
    base = _base(chart)
    if chart.style == "bar":
        gap = 1 if 2 * n - 1 <= w else 0
        bar_w = (w - (n - 1) * gap) // n
        lefts = [x0 + i * (bar_w + gap) for i in range(n)]
        if chart.bar_background:
            for x in lefts:
                pen.rectangle((x, y0, x + bar_w - 1, y0 + h - 1), fill=chart.bar_background)
        if chart.baseline is not None:
            pen.line((x0, row(base), x0 + w - 1, row(base)), fill=chart.baseline_color)
        for x, v in zip(lefts, chart.values, strict=True):
            low, high = sorted((level(v), level(base)))
            if low < high:
                pen.rectangle((x, y0 + h - high, x + bar_w - 1, y0 + h - low - 1), fill=chart.color)
    else:
        if base is not None:
            pen.line((x0, row(base), x0 + w - 1, row(base)), fill=chart.baseline_color)
        points = [(x0 + (i * (w - 1) // (n - 1) if n > 1 else 0), row(v)) for i, v in enumerate(chart.values)]
        if n > 1:
            pen.line(points, fill=chart.color)
        else:
            pen.point(points, fill=chart.color)


def chart_frames(spec, width: int, height: int, assets: Assets = NONE) -> Frames:
    """The chart kind: the chart filling the panel right of the icon and its gap (AWTRIX's x 9 beside its
    8-px icon), the icon at the left."""
    icon = icons.line_icon(spec, assets, height, width)
    left = icons.slot(icon)
    image = Image.new("RGB", (width, height), spec.background)
    draw(image, (left, 0, width - left, height), spec)
    return icons.over(image, icon)


def _base(chart) -> float | None:
    """The value bars rise from: the baseline, else 0 for bars; a line chart's only when given."""
    return chart.baseline if chart.baseline is not None or chart.style == "line" else 0.0
