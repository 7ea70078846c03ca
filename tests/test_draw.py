"""Drawing over real HTTP: a draw job and a text's drawing on the panel's frames, refusals (422 naming the
field, nothing queued lost), and hypothesis's random drawings against a running appliance."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_render_draw import OPS, invalid, primitive

from pixie import spec as specs

W = 64
RED, BLUE, YELLOW = (255, 0, 0), (0, 0, 255), (255, 255, 0)


def pixel(frame: bytes, x: int, y: int) -> tuple:
    return tuple(frame[(y * W + x) * 3 : (y * W + x) * 3 + 3])


def played(stack, job: dict) -> list[bytes]:
    """The frames the panel showed while the job played."""
    mark = len(stack.frames())
    stack.wait_state(stack.submit(**job), "done", timeout=60)
    return [frame for _, frame in stack.frames()[mark:]]


def test_a_draw_job_shows_its_primitives_on_the_panel(stack):
    draw = [
        {"op": "filled_rect", "x": 60, "y": 28, "w": 10, "h": 10, "color": "red"},
        {"op": "circle", "x": 10, "y": 10, "r": 4, "color": "blue"},
        {"op": "bitmap", "x": -1, "y": 0, "w": 2, "h": 1, "pixels": [0xFF0000, 0xFFFF00]},
    ]
    frames = played(stack, {"kind": "draw", "draw": draw, "duration_s": 1})
    shown = next(f for f in frames if pixel(f, 63, 31) == RED)
    assert pixel(shown, 60, 28) == RED and pixel(shown, 59, 28) == (0, 0, 0)  # clipped at the edges, not moved
    assert pixel(shown, 14, 10) == BLUE and pixel(shown, 10, 6) == BLUE and pixel(shown, 10, 10) == (0, 0, 0)
    assert pixel(shown, 0, 0) == YELLOW  # the bitmap's second pixel; its first is left of the panel


def test_a_texts_drawing_is_drawn_over_the_text(stack):
    job = {"kind": "text", "text": "Hi", "color": "blue", "duration_s": 1}
    job["draw"] = [{"op": "rect", "x": 0, "y": 0, "w": 64, "h": 32, "color": "red"}]
    frames = played(stack, job)
    assert any(BLUE in set(zip(f[0::3], f[1::3], f[2::3], strict=True)) and pixel(f, 0, 0) == RED for f in frames)


@pytest.mark.parametrize(
    "job,reason",
    [
        ({"draw": [{"op": "spiral", "x": 0, "y": 0}]}, f'draw.0.op must be one of {OPS}, got "spiral"'),
        ({"draw": [{"op": "line", "x0": 0, "y0": 0, "x1": 5}]}, "draw.0.y1: Field required"),
        ({"draw": [{"op": "pixel", "x": 0, "y": 0, "r": 2}]}, "draw.0.r: Extra inputs are not permitted"),
        (
            {"draw": [{"op": "bitmap", "x": 0, "y": 0, "w": 100, "h": 100, "pixels": [0] * 10_000}]},
            "draw.0.h: Value error, a 100x100 bitmap has 10000 pixels, more than 4096",
        ),
        ({"draw": [{}] * 10**6}, "draw: List should have at most 256 items"),
        ({"draw": [{"op": "text", "x": 0, "y": 0, "text": "a", "font": "nosuchfont"}]}, "draw.0.font: no font named"),
        (
            {"kind": "text", "text": "x", "draw": [{"op": "filled_circle", "x": 0, "y": 0, "r": 1, "color": [1]}]},
            "draw.0.color: Input should be a valid string",
        ),
    ],
    ids=["unknown op", "missing argument", "extra argument", "huge bitmap", "a million primitives", "font", "text"],
)
def test_a_drawing_that_cannot_be_drawn_is_a_422_naming_the_field_and_nothing_queued_is_lost(stack, job, reason):
    waiting = stack.submit(kind="fill", color="red", in_s=3600)  # a timed job, queued before
    before = stack.request("GET", "/api/v1/jobs")[1]["jobs"]
    status, body, _ = stack.request("POST", "/api/v1/jobs", {"kind": "draw", **job})
    assert status == 422, body
    assert reason in body["error"]
    assert stack.request("GET", "/api/v1/jobs")[1]["jobs"] == before
    assert stack.state(waiting)["state"] == "scheduled"
    stack.request("DELETE", f"/api/v1/jobs/{waiting}")


def test_an_apps_drawing_is_refused_under_its_content(stack):
    status, body, _ = stack.request("PUT", "/api/v1/apps/art", {"content": {"kind": "draw", "draw": [{"op": "dp"}]}})
    assert status == 422
    assert body["error"].startswith("content.draw.0.op must be one of")
    assert stack.request("GET", "/api/v1/apps")[1]["apps"] == []


def jobs(appliance) -> int:
    return len(appliance.request("GET", "/api/v1/jobs?limit=500")[1]["jobs"])


@settings(max_examples=30, deadline=None)
@given(st.lists(primitive(), min_size=1, max_size=6), st.data())
def test_random_drawings_over_http_are_accepted_or_refused_with_a_reason_never_a_500(idle, draw, data):
    before = jobs(idle)
    status, body, _ = idle.request("POST", "/api/v1/jobs", {"kind": "draw", "draw": draw, "priority": "low"})
    assert status == 202, body
    assert jobs(idle) == before + 1
    i = data.draw(st.integers(0, len(draw) - 1))
    broken = invalid(draw, i, data.draw(st.sampled_from(["op", "missing", "extra", "range", "type"])))
    raw = json.dumps({"kind": "draw", "draw": broken}).encode()
    status, body, headers = idle.request("POST", "/api/v1/jobs", raw, {"Content-Type": "application/json"})
    assert status == 422 and headers["Content-Type"] == "application/json", body
    assert body["error"].startswith(f"draw.{i}"), body
    assert jobs(idle) == before + 1


def test_the_openapi_document_has_a_valid_example_of_each_primitive(idle):
    schemas = idle.request("GET", "/openapi.json")[1]["components"]["schemas"]
    models = ("Pixel", "Line", "Rect", "FilledRect", "Circle", "FilledCircle", "Text", "Bitmap")
    for op, model in zip(specs.DRAW_OPS, models, strict=True):
        [example] = schemas[f"Draw{model}"]["examples"]
        assert example["op"] == op
        specs.parse({"kind": "draw", "draw": [example]}, strict=True)
    assert specs.parse({"kind": "draw", "draw": schemas["Draw"]["properties"]["draw"]["examples"][0]}, strict=True)
