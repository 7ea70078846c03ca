"""AWTRIX notifications that move over time, over AWTRIX's HTTP API on a whole appliance, read back from
the headless panel's frames: `fadeText`, `pushIcon` 1 and 2 (3 refused), and a LaMetric icon whose
icon service is unreachable; and the README's count of the AWTRIX fields Pixie honours."""

import itertools
import json
import re

import pytest
from PIL import Image
from test_awtrix import DOCUMENTED_FIELDS, NOT_HONOURED, README, call, colours, newest_job, post

from appliance import Appliance
from media import still
from testsupport.servers import free_port

RED, GREEN = (255, 0, 0), (0, 255, 0)
W = 64
ICON_PX = 24  # an 8x8 icon on a 32-row panel: 3 px a pixel (the README's example)
# Long enough to scroll on a 64-px panel; fast (128 px/s) so that a pass takes about a second.
SCROLLING = {"text": "Pushed away", "color": [0, 255, 0], "icon": "8x8/red", "scrollSpeed": 400}


@pytest.fixture(scope="module")
def panel(redis_server, tmp_path_factory):
    """A whole appliance with a red 8x8 icon in its library; its icon service is a port nothing listens on."""
    appliance = Appliance(
        redis_server, tmp_path_factory.mktemp("motion"), icons_fetch_url=f"http://127.0.0.1:{free_port()}/{{id}}"
    )
    appliance.start_web()
    appliance.start_worker("1")
    appliance.start_display()
    status, body, _ = appliance.request(
        "PUT", "/api/v1/icons/8x8/red", still("PNG", RED, (8, 8)), {"Content-Type": "image/png"}
    )
    assert status == 200, body
    yield appliance
    appliance.stop()


def shown(appliance, body: dict) -> list[bytes]:
    """The frames of a notification sent over HTTP that show its (green) text, in order."""
    mark = len(appliance.frames())
    post(appliance, "/api/notify", body)
    job = appliance.wait_state(newest_job(appliance)["id"], "done", "failed", timeout=30)
    assert job["state"] == "done", job
    return [frame for _, frame in appliance.frames()[mark:] if any(g for g in frame[1::3])]


def red_xs(frame: bytes) -> set[int]:
    image = Image.frombytes("RGB", (W, len(frame) // 3 // W), frame)
    return {x for x in range(W) for y in range(image.height) if image.getpixel((x, y)) == RED}


def test_fade_text_falls_below_full_and_rises_again(panel):
    frames = shown(panel, {"text": "I", "color": [0, 255, 0], "noScroll": True, "fadeText": 400, "duration": 2})
    levels = [max(frame[1::3]) for frame in frames]  # the text's green, over black
    full = levels.index(255)
    darkest = full + levels[full:].index(min(levels[full:]))
    assert levels[darkest] < 64, levels
    back = darkest + levels[darkest:].index(255)  # ValueError: never full again
    assert any(0 < level < 255 for level in levels[full:darkest]), levels  # fading down, not a blink
    assert any(0 < level < 255 for level in levels[darkest:back]), levels  # and up again


def test_push_icon_0_keeps_the_icon_and_1_pushes_it_out_with_the_text(panel):
    fixed = [red_xs(frame) for frame in shown(panel, {**SCROLLING, "pushIcon": 0, "repeat": 1})]
    assert all(xs == set(range(ICON_PX)) for xs in fixed), "a fixed icon stays at the left"
    pushed = [red_xs(frame) for frame in shown(panel, {**SCROLLING, "pushIcon": 1, "repeat": 1})]
    assert pushed[0] == set(range(ICON_PX)), "it starts where a fixed icon is"
    rights = [max(xs) for xs in pushed if xs]
    assert rights == sorted(rights, reverse=True) and rights[-1] < ICON_PX - 1, "it moves left with the text"
    gone = len(rights)
    assert gone < len(pushed) and not any(pushed[gone:]), "by the end its columns are gone, the text still there"


def test_push_icon_2_moves_in_and_out_with_the_text_on_each_pass(panel):
    widths = [len(red_xs(frame)) for frame in shown(panel, {**SCROLLING, "pushIcon": 2, "repeat": 2})]
    runs = [list(run) for visible, run in itertools.groupby(widths, key=bool) if visible]  # its appearances
    assert len(runs) == 2, widths  # one a pass
    for run in runs:
        assert run[0] < ICON_PX and max(run) == ICON_PX and run[-1] < ICON_PX, run  # slides in, then out
    assert not widths[-1], "it leaves with the text"


def test_push_icon_3_is_refused_with_the_reason_and_nothing_is_queued(panel):
    before = panel.request("GET", "/api/v1/jobs?limit=500")[1]["jobs"]
    status, text, _ = call(panel, "POST", "/api/notify", {**SCROLLING, "pushIcon": 3})
    assert (status, json.loads(text)) == (422, {"error": "pushIcon: expected 0, 1 or 2, got 3"})
    assert panel.request("GET", "/api/v1/jobs?limit=500")[1]["jobs"] == before


def test_an_unreachable_icon_service_leaves_the_notification_done_without_its_icon_and_noted(panel):
    frames = shown(panel, {"text": "Hi", "icon": "4321", "color": [0, 255, 0], "noScroll": True, "duration": 1})
    job = newest_job(panel)
    assert job["state"] == "done" and frames  # it played
    assert not any(RED in colours(frame) for frame in frames)
    note = panel.state(job["id"])["notes"]["icon"]
    assert "4321" in note and "could not be fetched" in note and "refused" in note, note
    assert panel.request("GET", "/api/v1/icons/4321")[0] == 404


def test_the_readme_counts_the_awtrix_fields_pixie_honours():
    honoured = len(DOCUMENTED_FIELDS) - len(NOT_HONOURED)
    ignored = ", ".join(f"`{field}`" for field in NOT_HONOURED)
    text = " ".join(README.read_text().split())  # the sentence may wrap
    said = re.search(r"(\d+) of AWTRIX's (\d+) documented fields are honoured \(ignored: ([^)]*)\)", text)
    assert said and said.groups() == (str(honoured), str(len(DOCUMENTED_FIELDS)), ignored), said
