"""Layouts over real HTTP: the weather screen on the headless panel, and refusals (422 naming the field,
nothing queued lost)."""

from test_render_layout import SUN, nested

from media import disc_icon
from pixie import spec as specs
from rendering import frames

W, H = 64, 32


def played(stack, job: dict) -> list[bytes]:
    """The frames the panel showed while the job played."""
    mark = len(stack.frames())
    stack.wait_state(stack.submit(**job), "done", timeout=60)
    return [frame for _, frame in stack.frames()[mark:]]


def test_a_layout_job_shows_on_the_panel_as_the_renderer_draws_it(stack):
    icon = disc_icon((255, 255, 0))
    assert stack.request("PUT", "/api/v1/icons/sun", icon, {"Content-Type": "image/png"})[0] in (200, 201)
    shown = played(stack, {**specs.WEATHER_LAYOUT, "duration_s": 1})
    [(expected, _)] = frames(W, H, SUN, **specs.WEATHER_LAYOUT)
    assert expected in shown


def test_a_layout_nested_100_deep_is_a_422_naming_where_and_nothing_queued_is_lost(stack):
    waiting = stack.submit(kind="fill", color="red", in_s=3600)  # a timed job, queued before
    before = stack.request("GET", "/api/v1/jobs")[1]["jobs"]
    job = {"kind": "layout", "children": [nested(100, {"kind": "text", "text": "x"})]}
    status, body, _ = stack.request("POST", "/api/v1/jobs", job)
    assert status == 422, body
    assert body["error"] == "children.0" + ".child" * 8 + ": nested more than 8 levels deep"
    status, body, _ = stack.request("POST", "/api/v1/jobs", {**specs.WEATHER_LAYOUT, "children": [{"kind": "icon"}]})
    assert status == 422 and body["error"] == "children.0.icon: Field required", body
    layout = {"kind": "layout", "children": [{"kind": "icon", "icon": "nosuchicon"}]}
    status, body, _ = stack.request("POST", "/api/v1/jobs", layout)
    assert status == 422 and body["error"].startswith("children.0.icon: no icon named 'nosuchicon'"), body
    assert stack.request("GET", "/api/v1/jobs")[1]["jobs"] == before
    assert stack.state(waiting)["state"] == "scheduled"
    stack.request("DELETE", f"/api/v1/jobs/{waiting}")
