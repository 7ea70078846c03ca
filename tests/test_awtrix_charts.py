"""Progress bars and charts end to end: AWTRIX's progress, progressC, progressBC, bar, line, autoscale and
barBC over HTTP and MQTT, and Pixie's own fields over its API, on a whole appliance whose headless panel's
frames are read back. AWTRIX's docs/api.md documents these keys in its JSON Properties table without an
example payload: the payloads here are that table's keys with values of its documented types."""

import json

import pytest
from PIL import Image
from test_awtrix import call, newest_job, post
from test_mqtt import online

from appliance import Appliance
from media import still
from testsupport.mqtt import Client
from testsupport.servers import wait_for

GREEN, WHITE, BLACK, RED = (0, 255, 0), (255, 255, 255), (0, 0, 0), (255, 0, 0)
W, H = 64, 32


@pytest.fixture(scope="module")
def wall(redis_server, broker, tmp_path_factory):
    """A whole appliance with AWTRIX's topics under awtrix_charts."""
    appliance = Appliance(
        redis_server, tmp_path_factory.mktemp("charts"), mqtt_enabled="1", mqtt_port=broker, mqtt_device="charts"
    )
    appliance.start_web()
    appliance.start_worker("1")
    appliance.start_display()
    appliance.start_mqtt()
    online(broker, "charts")
    yield appliance
    appliance.stop()


@pytest.fixture(autouse=True)
def no_apps(wall):
    yield
    for app in wall.request("GET", "/api/v1/apps")[1]["apps"]:
        wall.request("DELETE", f"/api/v1/apps/{app['name']}")


def colours(frame: bytes) -> set:
    return set(zip(frame[0::3], frame[1::3], frame[2::3], strict=True))


def played(wall, body: dict, mark: int | None = None) -> Image.Image:
    """The last frame of a notification (sent over HTTP unless `mark` says one was sent since)."""
    if mark is None:
        mark = len(wall.frames())
        post(wall, "/api/notify", {"duration": 1, **body})
    job = wall.wait_state(newest_job(wall)["id"], "done", "failed", timeout=30)
    assert job["state"] == "done", job
    frames = [frame for _, frame in wall.frames()[mark:] if colours(frame) != {BLACK}]
    return Image.frombytes("RGB", (W, H), frames[-1])


def row(image: Image.Image, y: int, x0: int = 0) -> list:
    return [image.getpixel((x, y)) for x in range(x0, W)]


def column(image: Image.Image, x: int) -> list:
    return [image.getpixel((x, y)) for y in range(H)]


def test_progress_under_a_text_is_awtrixs_bar_on_the_panels_bottom_eighth(wall):
    image = played(wall, {"text": "Print", "progress": 40, "progressBC": [40, 40, 40], "noScroll": True})
    for y in range(28, 32):
        assert row(image, y) == [GREEN] * 25 + [(40, 40, 40)] * 39  # 40 % of 64, rounded down
    assert WHITE in {image.getpixel((x, y)) for x in range(W) for y in range(28)}  # the text above it


def test_progress_without_a_text_is_the_bar_alone_across_the_middle(wall):
    image = played(wall, {"progress": 75, "progressC": "#0000FF"})
    for y in range(12, 20):
        assert row(image, y) == [(0, 0, 255)] * 48 + [WHITE] * 16  # AWTRIX's default background: white
    assert {image.getpixel((x, y)) for x in range(W) for y in (*range(12), *range(20, 32))} == {BLACK}


def test_a_bar_chart_stands_right_of_its_icon_in_the_text_colour_on_barbc(wall):
    status = wall.request(
        "PUT", "/api/v1/icons/8x8/chart-red", still("PNG", RED, (8, 8)), {"Content-Type": "image/png"}
    )
    assert status[0] in (200, 201)
    body = {"bar": [1, 5, 3, 8], "icon": "8x8/chart-red", "color": [0, 255, 0], "barBC": [0, 0, 80]}
    image = played(wall, body)
    assert image.getpixel((12, 16)) == RED  # the icon, 3x: 24 px, then a 1-px gap
    # (39 - 3 gaps) // 4 = 9 px a bar from x 25; autoscale 0..8: 4, 20, 12 and 32 rows
    for left, height in zip((25, 35, 45, 55), (4, 20, 12, 32), strict=True):
        for x in range(left, left + 9):
            assert column(image, x) == [(0, 0, 80)] * (32 - height) + [GREEN] * height, x
    assert all(column(image, x) == [BLACK] * 32 for x in (34, 44, 54))  # the gaps


def test_autoscale_false_takes_the_values_as_rows_of_awtrixs_eight(wall):
    def line_rows(image):
        return [[y for y in range(H) if image.getpixel((x, y)) == GREEN] for x in (0, 31, 63)]

    body = {"line": [0, 4, 2], "color": "#00FF00"}
    assert line_rows(played(wall, {**body, "autoscale": False})) == [[31], [16], [24]]  # 4 of 8, 2 of 8
    assert line_rows(played(wall, body)) == [[31], [0], [16]]  # autoscale (AWTRIX's default): 0..4


def test_a_custom_app_with_a_text_draws_its_chart_behind_it(wall):
    post(wall, "/api/custom?name=power", {"text": "5", "bar": [2, 4, 8, 6], "color": [0, 255, 0], "duration": 30})
    content = wall.request("GET", "/api/v1/apps/power")[1]["content"]
    assert content["chart"] == {**content["chart"], "style": "bar", "values": [2, 4, 8, 6], "color": "#00ff00"}
    mark = len(wall.frames())
    wait_for(lambda: any(GREEN in colours(f) for _, f in wall.frames()[mark:]), timeout=30, what="the chart")


def test_more_values_than_the_panel_has_columns_fail_the_job_with_the_reason(wall):
    post(wall, "/api/notify", {"bar": [1] * 65})
    job = wall.wait_state(newest_job(wall)["id"], "failed", timeout=30)
    assert "values: 65 of them, more than the 64 columns" in job["reason"]


@pytest.mark.parametrize(
    "body,reason",
    [
        ({"text": "x", "progress": 101}, "progress must be 0..100, got 101"),
        ({"progress": -2}, "progress must be 0..100, got -2"),
        ({"text": "x", "bar": [1, "x"]}, "chart.values.1: Input should be a valid number"),
        ({"bar": "1,2"}, "bar: expected a list of numbers"),
        ({"bar": [1], "line": [2]}, "bar, line: give one of them"),
        ({"line": [1] * 10_000}, "values: List should have at most 1024 items"),
        ({"progress": 5, "bar": [1]}, "without a text Pixie shows one of them"),
        ({"text": "x", "progress": 5, "progressC": "green-ish"}, "progressC: not a colour"),
    ],
)
def test_bad_awtrix_charts_are_refused_with_the_reason_and_nothing_is_queued(wall, body, reason):
    before = wall.request("GET", "/api/v1/jobs")[1]["jobs"]
    status, text, _ = call(wall, "POST", "/api/notify", body)
    assert status == 422 and reason in json.loads(text)["error"], text
    assert wall.request("GET", "/api/v1/jobs")[1]["jobs"] == before


def test_a_progress_notification_over_mqtt_draws_its_bar(wall, broker):
    c = Client(broker, "awtrix_charts/error")
    try:
        before = newest_job(wall)["id"] if wall.request("GET", "/api/v1/jobs?limit=1")[1]["jobs"] else None
        mark = len(wall.frames())
        c.publish("awtrix_charts/notify", {"text": "Wash", "progress": 65, "noScroll": True, "duration": 1})
        wait_for(lambda: newest_job(wall)["id"] != before, what="the notification's job")
        image = played(wall, {}, mark)
        assert row(image, 31) == [GREEN] * 41 + [WHITE] * 23  # 65 % of 64
        assert c.on("awtrix_charts/error") == []
    finally:
        c.close()


# -- Pixie's own API: bad charts and progress bars are refused, naming the field -----------------------------

BAD = [
    ({"kind": "chart", "values": []}, "values: List should have at least 1 item"),
    ({"kind": "chart"}, "values: Field required"),
    ({"kind": "chart", "values": [1, float("nan")]}, "values.1: Input should be a finite number"),
    ({"kind": "chart", "values": [float("inf")]}, "values.0: Input should be a finite number"),
    ({"kind": "chart", "values": [1, float("-inf")]}, "values.1: Input should be a finite number"),
    ({"kind": "chart", "values": [1] * 10_000}, "values: List should have at most 1024 items"),
    ({"kind": "text", "text": "x", "chart": {"values": [float("nan")]}}, "chart.values.0: Input should be a finite"),
    ({"kind": "text", "text": "x", "chart": {"values": []}}, "chart.values: List should have at least 1 item"),
    ({"kind": "progress", "progress": 101}, "progress must be 0..100, got 101"),
    ({"kind": "progress", "progress": -1}, "progress must be 0..100, got -1"),
    ({"kind": "text", "text": "x", "progress": 101}, "progress must be 0..100, got 101"),
    ({"kind": "text", "text": "x", "progress": -1}, "progress must be 0..100, got -1"),
]


@pytest.mark.parametrize("job,reason", BAD, ids=[reason for _, reason in BAD])
def test_bad_charts_and_progress_bars_are_422_naming_the_field_and_nothing_is_queued(wall, job, reason):
    before = wall.request("GET", "/api/v1/jobs")[1]["jobs"]
    status, body, _ = wall.request("POST", "/api/v1/jobs", job)  # NaN and Infinity as Python's json writes them
    assert status == 422 and reason in body["error"], body
    status, body, _ = wall.request("PUT", "/api/v1/apps/bad", {"content": job})
    assert status == 422 and f"content.{reason}" in body["error"], body
    assert wall.request("GET", "/api/v1/jobs")[1]["jobs"] == before
    assert wall.request("GET", "/api/v1/apps")[1]["apps"] == []


def test_a_chart_and_a_progress_job_play_on_the_panel(wall):
    mark = len(wall.frames())
    job = wall.submit(kind="chart", values=[1, 2, 3], color="#ff0000", duration_s=1)
    assert wall.wait_state(job, "done", timeout=30)
    job = wall.submit(kind="progress", progress=50, text="Half", duration_s=1)
    assert wall.wait_state(job, "done", timeout=30)
    shown = [colours(f) for _, f in wall.frames()[mark:]]
    assert any(RED in c for c in shown) and any(GREEN in c for c in shown)
