"""The rotation's apps end to end: HTTP → Redis → `rq worker` renders them →
the display plays them on the headless STAND-IN panel, which records every
frame it swaps. Times are read from the recorded frames."""

import base64
import itertools
import math
import statistics
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from test_render_text import shown

from appliance import Appliance
from media import animated
from testsupport.servers import redis_server, wait_for

RED, GREEN, BLUE, WHITE, BLACK = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255), (0, 0, 0)
YELLOW = (255, 255, 0)


def solid(frame: bytes):
    found = set(zip(frame[0::3], frame[1::3], frame[2::3], strict=True))
    return found.pop() if len(found) == 1 else None


def runs(appliance, mark: int) -> list[tuple[float, float, tuple]]:
    """(from, to, colour) of each stretch of one solid colour on the panel since `mark`, in seconds."""
    swaps = [(ns / 1e9, solid(f)) for ns, f in appliance.frames()[mark:]]
    out = []
    for t, c in swaps:
        if out and out[-1][2] == c:
            continue
        if out:
            out[-1] = (out[-1][0], t, out[-1][2])
        out.append((t, None, c))
    return out[:-1]  # the last one has not ended


def put_app(appliance, name: str, **body) -> dict:
    status, answer, _ = appliance.request("PUT", f"/api/v1/apps/{name}", body)
    assert status == 200, answer
    return answer


def fill_app(appliance, name: str, color: str, dwell_s: float, **more) -> dict:
    return put_app(appliance, name, content={"kind": "fill", "color": color}, dwell_s=dwell_s, **more)


def rendered(appliance, *names: str) -> None:
    def ready():
        apps = {a["name"]: a for a in appliance.request("GET", "/api/v1/apps")[1]["apps"]}
        return all(apps.get(n, {}).get("rendered") for n in names)

    wait_for(ready, timeout=30, what=f"apps {names} rendered")


def showing(appliance, name: str, timeout: float = 15) -> None:
    wait_for(lambda: appliance.request("GET", "/api/v1/apps")[1]["showing"] == name, timeout=timeout, what=name)


@pytest.fixture(autouse=True)
def no_apps_left(stack):
    yield
    for app in stack.request("GET", "/api/v1/apps")[1]["apps"]:
        stack.request("DELETE", f"/api/v1/apps/{app['name']}")


def test_apps_play_in_rotation_order_each_for_its_dwell(stack):
    fill_app(stack, "one", "red", 0.6)
    fill_app(stack, "two", "lime", 0.6)
    fill_app(stack, "three", "blue", 0.6, position=0)  # first, though created last
    rendered(stack, "one", "two", "three")
    mark = len(stack.frames())
    wait_for(lambda: len(runs(stack, mark)) >= 10, timeout=20, what="three rounds of the rotation")
    shown = runs(stack, mark)[1:]  # the first run started before the mark
    colours = [c for _, _, c in shown]
    start = colours.index(BLUE)
    assert colours[start : start + 6] == [BLUE, RED, GREEN, BLUE, RED, GREEN], colours
    dwells = [to - since for since, to, _ in shown]
    assert min(dwells) > 0.55 and statistics.median(dwells) < 0.75, dwells
    listed = stack.request("GET", "/api/v1/apps")[1]
    assert [a["name"] for a in listed["apps"]] == ["three", "one", "two"]
    assert listed["showing"] in ("one", "two", "three") and listed["next"] != listed["showing"]


def leaving(appliance, mark: int, colours: set) -> list[tuple[float, list[bytes]]]:
    """Each time the panel leaves one of `colours` (shown solid) since `mark`: when, and the frames
    after it up to the next of `colours` (a transition's; none for a cut)."""
    frames = appliance.frames()[mark:]
    out = []
    for i in range(1, len(frames)):
        if solid(frames[i - 1][1]) in colours and solid(frames[i][1]) != solid(frames[i - 1][1]):
            after = list(itertools.takewhile(lambda f: solid(f[1]) not in colours, frames[i:]))
            out.append((frames[i][0] / 1e9, [f for _, f in after]))
    return out


@pytest.fixture
def transition(stack):
    """The default transition, set for one test and a cut again after it (the stack is shared)."""

    def put(name: str, ms: int) -> None:
        status, answer, _ = stack.request("PUT", "/api/v1/transition", {"transition": name, "transition_ms": ms})
        assert status == 200 and answer["transition"] == name, answer

    yield put
    put("cut", 400)


def test_with_a_fade_set_apps_blend_into_each_other_and_keep_their_dwells(stack, transition):
    transition("fade", 200)
    fill_app(stack, "red", "red", 0.8)
    fill_app(stack, "blue", "blue", 0.8)
    rendered(stack, "red", "blue")
    mark = len(stack.frames())
    wait_for(lambda: len(leaving(stack, mark, {RED, BLUE})) >= 7, timeout=20, what="seven boundaries")
    boundaries = leaving(stack, mark, {RED, BLUE})
    for _, between in boundaries[:-1]:  # the last one may not be over yet
        assert len(between) == 10, len(between)  # 200 ms at 50 frames a second
        shades = [solid(f) for f in between]
        assert None not in shades  # a blend of two solid colours is solid
        reds = [r for r, _, _ in shades]
        assert reds in (sorted(reds), sorted(reds, reverse=True)) and len(set(reds)) == 10, shades
        assert all(abs(r + b - 255) <= 1 and g == 0 for r, g, b in shades), shades  # on the way from one to the other
    dwells = [b - a for (a, _), (b, _) in itertools.pairwise(boundaries)]
    assert min(dwells) > 0.75 and statistics.median(dwells) < 0.95, dwells  # as with a cut: the fade is in the dwell


def test_an_apps_own_transition_wins_over_the_default(stack, transition):
    transition("fade", 200)
    fill_app(stack, "red", "red", 0.8, transition="wipe-right", transition_ms=100)
    fill_app(stack, "blue", "blue", 0.8)
    rendered(stack, "red", "blue")
    assert stack.request("GET", "/api/v1/apps/red")[1]["transition"] == "wipe-right"
    mark = len(stack.frames())
    wait_for(lambda: any(solid(f[1]) == RED for f in stack.frames()[mark:]), timeout=20, what="red again")
    wait_for(lambda: len(leaving(stack, mark, {RED, BLUE})) >= 3, timeout=20, what="three boundaries")
    into_red = [b for _, b in leaving(stack, mark, {RED, BLUE})[:-1] if b and solid(b[0]) is None]
    assert into_red and all(len(b) == 5 for b in into_red), into_red  # 100 ms: five frames
    for i, frame in enumerate(into_red[0]):  # red uncovered from the left, a 64-px panel's 0.1 .. 0.9
        columns = round((i + 0.5) / 5 * 64)
        top_row = frame[: 64 * 3]
        assert top_row == bytes(RED) * columns + bytes(BLUE) * (64 - columns), i


def test_an_update_swaps_in_at_the_end_of_the_dwell_and_the_rotation_goes_on(stack):
    fill_app(stack, "a", "red", 1.0)
    fill_app(stack, "b", "lime", 1.0)
    rendered(stack, "a", "b")
    showing(stack, "a")
    mark = len(stack.frames())
    fill_app(stack, "a", "yellow", 1.0)  # while it shows: the new frames wait for its dwell's end
    wait_for(lambda: YELLOW in [c for _, _, c in runs(stack, mark)], timeout=15, what="the new version")
    colours = [c for _, _, c in runs(stack, mark)]
    assert colours[: colours.index(YELLOW) + 1] in ([RED, GREEN, YELLOW], [GREEN, YELLOW]), colours
    assert BLACK not in colours, "the rotation restarted (the idle screen showed)"


def test_the_same_app_put_again_changes_nothing(stack):
    first = fill_app(stack, "same", "red", 5.0)
    rendered(stack, "same")
    again = fill_app(stack, "same", "#ff0000", 5.0)  # the same colour, spelt otherwise
    assert (first["changed"], again["changed"], again["rev"], again["rendered"]) == (True, False, first["rev"], True)
    moved = fill_app(stack, "same", "red", 6.0)
    assert moved["changed"] is True and moved["rev"] > first["rev"]


def test_an_update_with_now_replaces_the_app_on_screen_at_once(stack):
    fill_app(stack, "slow", "red", 30)
    rendered(stack, "slow")
    showing(stack, "slow")
    mark = len(stack.frames())
    fill_app(stack, "slow", "white", 30, now=True)
    wait_for(lambda: WHITE in [solid(f) for _, f in stack.frames()[mark:]], timeout=10, what="white at once")


def test_a_job_interrupts_an_app_which_then_resumes_its_dwell(stack):
    fill_app(stack, "first", "red", 3.0)
    fill_app(stack, "second", "lime", 1.0)
    rendered(stack, "first", "second")
    showing(stack, "second")
    mark = len(stack.frames())
    wait_for(lambda: RED in [c for _, _, c in runs(stack, mark) + [(0, 0, solid(stack.frames()[-1][1]))]],
             timeout=10, what="first showing")  # fmt: skip
    job = stack.submit(kind="fill", color="blue", duration_s=0.5, priority="low")
    assert stack.wait_state(job, "done")["state"] == "done"
    wait_for(lambda: GREEN in [c for _, _, c in runs(stack, mark)][2:], timeout=10, what="second again")
    shown = runs(stack, mark)
    colours = [c for _, _, c in shown]
    start = colours.index(RED)
    assert colours[start : start + 4] == [RED, BLUE, RED, GREEN], colours
    first = [to - since for since, to, c in shown[start : start + 3] if c == RED]
    assert 2.8 < sum(first) < 3.5, f"first showed {first}: its dwell resumed, not restarted"


def test_next_and_previous_move_through_the_rotation_now(stack):
    for name, colour in (("n1", "red"), ("n2", "lime"), ("n3", "blue")):
        fill_app(stack, name, colour, 60)
    order = ["n1", "n2", "n3"]
    rendered(stack, *order)
    # Whichever rendered first is on (the rotation does not wait for one still rendering), for its 60 s.
    first = wait_for(lambda: stack.request("GET", "/api/v1/apps")[1]["showing"], timeout=15, what="an app on")
    at = order.index(first)
    assert stack.request("POST", "/api/v1/rotation/next")[0] == 202
    showing(stack, order[(at + 1) % 3], timeout=5)
    stack.request("POST", "/api/v1/rotation/next")
    showing(stack, order[(at + 2) % 3], timeout=5)
    stack.request("POST", "/api/v1/rotation/previous")
    showing(stack, order[(at + 1) % 3], timeout=5)


def test_a_pinned_app_holds_the_screen_until_unpinned(stack):
    fill_app(stack, "p1", "red", 0.4)
    fill_app(stack, "p2", "lime", 0.4)
    rendered(stack, "p1", "p2")
    status, body, _ = stack.request("POST", "/api/v1/apps/p2/pin")
    assert (status, body["pinned"], body["next"]) == (200, "p2", "p2"), body
    showing(stack, "p2", timeout=5)
    mark = len(stack.frames())
    wait_for(lambda: stack.frames()[-1][0] - stack.frames()[mark][0] > 2e9 if len(stack.frames()) > mark else False,
             timeout=10, what="2 s pinned")  # fmt: skip
    assert {solid(f) for _, f in stack.frames()[mark:]} == {GREEN}
    status, body, _ = stack.request("POST", "/api/v1/rotation/next")
    assert (status, body) == (409, {"error": "app p2 is pinned: unpin it first"})
    assert stack.request("DELETE", "/api/v1/apps/p1/pin")[0] == 409
    assert stack.request("DELETE", "/api/v1/apps/p2/pin")[1]["pinned"] is None
    wait_for(lambda: RED in {solid(f) for _, f in stack.frames()[mark:]}, timeout=5, what="the rotation again")
    assert stack.request("POST", "/api/v1/apps/nope/pin")[0] == 404


def test_deleting_the_app_on_screen_moves_on_and_an_empty_rotation_is_idle(stack):
    fill_app(stack, "only", "red", 60)
    rendered(stack, "only")
    wait_for(lambda: solid(stack.frames()[-1][1]) == RED, timeout=10, what="red")
    status, body, _ = stack.request("DELETE", "/api/v1/apps/only")
    assert (status, body) == (200, {"deleted": "only"})
    wait_for(lambda: solid(stack.frames()[-1][1]) == BLACK, timeout=5, what="the idle screen")
    assert stack.request("GET", "/api/v1/apps/only")[0] == 404
    assert stack.request("DELETE", "/api/v1/apps/only")[0] == 404


def test_an_animation_app_plays_through_once_per_turn(stack):
    gif = base64.b64encode(animated("GIF", colors=(RED, GREEN, BLUE), delay_ms=100)).decode()
    put_app(stack, "gif", content={"kind": "animation", "data_b64": gif})
    fill_app(stack, "after", "white", 0.5)
    rendered(stack, "gif", "after")
    mark = len(stack.frames())
    wait_for(lambda: [c for _, _, c in runs(stack, mark)].count(WHITE) >= 2, timeout=15, what="two turns")
    colours = [c for _, _, c in runs(stack, mark)]
    start = colours.index(WHITE)
    assert colours[start : start + 5] == [WHITE, RED, GREEN, BLUE, WHITE], colours
    content = stack.request("GET", "/api/v1/apps/gif")[1]["content"]
    assert "data_b64" not in content
    assert put_app(stack, "gif", content=content, dwell_s=2.0)["dwell_s"] == 2.0  # its file stays
    rendered(stack, "gif")


def test_a_clock_app_shows_the_time_in_its_zone(stack):
    put_app(stack, "clock", content={"kind": "clock", "timezone": "Asia/Tokyo", "color": "red"}, dwell_s=30)
    rendered(stack, "clock")
    showing(stack, "clock")

    # Tokyo's HH:MM from the standard library, drawn as a text: the minute read, or the next one if it turns.
    read = datetime.now(ZoneInfo("Asia/Tokyo"))
    expected = [shown(f"{at:%H:%M}", color="red") for at in (read, read + timedelta(minutes=1))]
    wait_for(lambda: stack.frames()[-1][1] in expected, timeout=5, what="Tokyo's time")


def test_a_countdown_app_shows_a_new_face_each_second_until_its_time(stack):
    to = math.ceil(time.time()) + 5
    put_app(stack, "launch", content={"kind": "countdown", "to": datetime.fromtimestamp(to).isoformat()}, dwell_s=30)
    rendered(stack, "launch")
    showing(stack, "launch")
    mark = len(stack.frames())
    wait_for(lambda: time.time() > to + 2, timeout=20, what="its time passed")
    changes, last = [], None
    for ns, frame in stack.frames()[mark:]:
        if frame != last:
            changes.append(ns / 1e9)
            last = frame
    ticks = changes[1:]  # the first was on screen before the mark
    assert len(ticks) >= 2, changes
    # README: a countdown's face changes within 0.5 s after each whole second, never before it.
    assert all(t % 1 < 0.5 for t in ticks), [t % 1 for t in ticks]
    assert max(ticks) < to + 0.5  # 00:00 stays


def wall(epoch: float) -> str:
    """HH:MM:SS in the device's zone (the appliance's processes share this one's)."""
    return datetime.fromtimestamp(epoch).astimezone().strftime("%H:%M:%S")


def test_an_app_shows_only_while_its_window_is_open(stack):
    fill_app(stack, "always", "red", 0.5)
    opens = math.ceil(time.time()) + 4
    closes = opens + 4
    window = {"start": wall(opens), "end": wall(closes)}
    answer = fill_app(stack, "brief", "blue", 10, schedule=[window])  # a dwell longer than its window
    assert answer["schedule"] == [{**window, "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}]
    assert answer["on_schedule"] is False
    rendered(stack, "always", "brief")
    mark = len(stack.frames())
    assert stack.request("GET", "/api/v1/apps")[1]["next"] == "always"
    wait_for(lambda: time.time() > closes + 1.5, timeout=15, what="the window closed")
    shown = runs(stack, mark)
    blue = [(since, to) for since, to, c in shown if c == BLUE]
    assert len(blue) == 1, shown
    # README: a window opens and closes within 1 s of its time, never before it; the app comes on at
    # red's next dwell boundary after the opening, and goes off at once when it closes, mid-dwell.
    assert opens <= blue[0][0] <= opens + 0.5 + 1, blue[0][0] - opens
    assert closes <= blue[-1][1] <= closes + 1, blue[-1][1] - closes
    assert solid(stack.frames()[-1][1]) == RED


def test_an_app_not_put_again_within_its_lifetime_deletes_itself(stack):
    fill_app(stack, "stays", "red", 0.5)
    first = fill_app(stack, "fleeting", "blue", 0.5, lifetime_s=3)
    assert abs(first["expires"] - (time.time() + 3)) < 1
    rendered(stack, "stays", "fleeting")
    time.sleep(1.5)
    again = fill_app(stack, "fleeting", "blue", 0.5, lifetime_s=3)  # the same app: its lifetime starts again
    assert again["changed"] is False and again["expires"] > first["expires"] + 1
    mark = len(stack.frames())
    wait_for(lambda: time.time() > again["expires"] + 1.5, timeout=10, what="its lifetime over")
    shown = runs(stack, mark)
    assert BLUE in [c for _, _, c in shown], shown
    assert max(to for _, to, c in shown if c == BLUE) <= again["expires"] + 1  # the display dropped it itself
    assert stack.request("GET", "/api/v1/apps/fleeting")[0] == 404
    assert [a["name"] for a in stack.request("GET", "/api/v1/apps")[1]["apps"]] == ["stays"]


def test_apps_survive_a_restart_of_every_process_and_of_redis(tmp_path):
    """appendonly yes + appendfsync always, as pixie_redis sets it; the volatile Redis comes back empty."""
    data = tmp_path / "redis-data"
    data.mkdir()
    settings = ("--appendonly", "yes", "--appendfsync", "always", "--databases", "1000")
    server, url = redis_server(data, *settings)
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    appliance = Appliance(url, tmp_path)
    try:
        appliance.start_web()
        appliance.start_worker("1")
        appliance.start_display()
        fill_app(appliance, "kept", "red", 0.5)
        fill_app(appliance, "also", "blue", 0.5)
        rendered(appliance, "kept", "also")
        appliance.stop()
        appliance.v.flushdb()  # the volatile Redis is not persisted on the device
        server.terminate()
        server.wait(10)
        server, _ = redis_server(data, *settings, port=port)
        mark = len(appliance.frames())
        appliance.start_web()
        appliance.start_worker("1")
        appliance.start_display()
        wait_for(lambda: {RED, BLUE} <= {c for _, _, c in runs(appliance, mark)}, timeout=30, what="both again")
        assert [a["name"] for a in appliance.request("GET", "/api/v1/apps")[1]["apps"]] == ["kept", "also"]
    finally:
        appliance.stop()
        server.terminate()
        server.wait(10)


BAD_APPS = [
    ({}, "content: Field required"),
    ({"content": {"kind": "fill", "color": "red"}, "dwell_s": 0}, "dwell_s: Input should be greater than 0"),
    ({"content": {"kind": "fill", "color": "red"}, "dwell_s": 3601}, "dwell_s: Input should be less than or equal"),
    ({"content": {"kind": "fill", "color": "red"}, "dwell_s": "5"}, "dwell_s: Input should be a valid number"),
    ({"content": {"kind": "fill", "color": "red"}, "position": -1}, "position: Input should be greater than"),
    ({"content": {"kind": "fill", "color": "red"}, "enabled": 1}, "enabled: Input should be a valid boolean"),
    ({"content": {"kind": "fill", "color": "red"}, "speed": 3}, "speed: Extra inputs are not permitted"),
    (
        {"content": {"kind": "bogus"}},
        "content.kind must be one of text, image, animation, fill, clear, pattern, demo, clock",
    ),
    ({"content": {"kind": "text", "text": ""}}, "content.text: String should have at least 1 character"),
    ({"content": {"kind": "fill", "color": "nope"}}, "content.color: Value error, not a colour"),
    ({"content": {"kind": "fill", "color": "red", "priority": "high"}}, "content.priority: an app has no priority"),
    ({"content": {"kind": "fill", "color": "red", "duration_s": 3}}, "content.duration_s: an app has no"),
    ({"content": {"kind": "image"}}, "content.data_b64: a image app needs its file"),
    ({"content": {"kind": "image", "data_b64": "%%%"}}, "content.data_b64 is not valid base64"),
    ({"content": {"kind": "image", "data_b64": "aGVsbG8="}}, "not an image"),
    ({"content": {"kind": "clock", "timezone": "Mars/Olympus"}}, "content.timezone: Value error, not a time zone"),
    ({"content": {"kind": "clock", "format": "13h"}}, "content.format: Input should be '24h' or '12h'"),
    ({"content": {"kind": "countdown", "to": "soon"}}, "content.to: Value error, not an ISO 8601 date-time"),
    ({"content": {"kind": "countdown"}}, "content.to: Field required"),
    (
        {"content": {"kind": "clear"}, "schedule": [{"start": "25:00", "end": "07:00"}]},
        "schedule.0.start must be a time of day",
    ),
    ({"content": {"kind": "clear"}, "schedule": [{"start": "07:00"}]}, "schedule.0.end: Field required"),
    (
        {"content": {"kind": "clear"}, "schedule": [{"start": "07:00", "end": "08:00", "days": ["mon", "mon"]}]},
        "schedule.0: Value error, days: each day once",
    ),
    (
        {"content": {"kind": "clear"}, "schedule": [{"start": "07:00", "end": "08:00", "days": ["monday"]}]},
        "schedule.0.days.0: Input should be 'mon'",
    ),
    (
        {"content": {"kind": "clear"}, "schedule": [{"start": "07:00", "end": "08:00", "brightness": 5}]},
        "schedule.0.brightness: Extra inputs are not permitted",
    ),
    ({"content": {"kind": "clear"}, "schedule": {"start": "07:00"}}, "schedule: Input should be a valid list"),
    ({"content": {"kind": "clear"}, "lifetime_s": 0}, "lifetime_s: Input should be greater than 0"),
    ({"content": {"kind": "clear"}, "transition": "swirl"}, "transition: Input should be 'cut', 'fade'"),
    (
        {"content": {"kind": "clear"}, "transition_ms": 5001},
        "transition_ms: Input should be less than or equal to 5000",
    ),
    ({"content": {"kind": "clear"}, "lifetime_s": 604801}, "lifetime_s: Input should be less than or equal"),
]


@pytest.mark.parametrize(("body", "reason"), BAD_APPS, ids=[r.split(":")[0] for _, r in BAD_APPS])
def test_a_bad_app_is_refused_with_a_reason_naming_the_field(stack, body, reason):
    before = stack.request("GET", "/api/v1/apps")[1]["apps"]
    status, answer, _ = stack.request("PUT", "/api/v1/apps/bad", body)
    assert status in (415, 422) and reason in answer["error"], (status, answer)
    assert stack.request("GET", "/api/v1/apps")[1]["apps"] == before


def test_app_names_and_bodies_http_refuses(stack):
    assert stack.request("PUT", "/api/v1/apps/no%20spaces", {"content": {"kind": "clear"}})[0] == 422
    status, answer, _ = stack.request("PUT", "/api/v1/apps/x", b"{not json", {"Content-Type": "application/json"})
    assert (status, answer) == (400, {"error": "body is not valid JSON"})


def test_more_apps_than_display_max_apps_are_refused(make_appliance):
    appliance = make_appliance(display_max_apps=2)
    appliance.start_web()
    for name in ("x1", "x2"):
        put_app(appliance, name, content={"kind": "clear"})
    status, answer, _ = appliance.request("PUT", "/api/v1/apps/x3", {"content": {"kind": "clear"}})
    assert status == 422 and "at most 2 apps (display.max_apps)" in answer["error"], answer
    put_app(appliance, "x2", content={"kind": "clear"}, dwell_s=3)  # an update is no new app


def test_an_app_whose_frames_would_pass_the_budget_fails_with_a_reason_and_the_rest_plays(make_appliance):
    appliance = make_appliance(display_apps_max_bytes=4 * 64 * 32 * 3)  # four frames of 64x32
    appliance.start_web()
    appliance.start_worker("1")
    appliance.start_display()
    fill_app(appliance, "red", "red", 0.5)
    rendered(appliance, "red")
    gif = {"kind": "animation", "data_b64": base64.b64encode(animated("GIF")).decode()}  # three frames
    put_app(appliance, "rgb", content=gif)
    wait_for(lambda: appliance.request("GET", "/api/v1/apps/rgb")[1]["error"], what="the render refused")
    refused = appliance.request("GET", "/api/v1/apps/rgb")[1]
    assert refused["rendered"] is False and "do not fit" in refused["error"], refused
    assert "the other apps' take 6 KiB of display.apps_max_bytes (24 KiB)" in refused["error"]
    assert appliance.request("GET", "/api/v1/apps")[1]["showing"] == "red"
    appliance.request("DELETE", "/api/v1/apps/red")
    again = put_app(appliance, "rgb", content=gif)  # the same app: it renders again, and now fits
    assert again["changed"] is False
    rendered(appliance, "rgb")
    assert appliance.request("GET", "/api/v1/apps/rgb")[1]["error"] is None
    showing(appliance, "rgb")


def test_changing_the_rotation_needs_the_token(guarded):
    body = {"content": {"kind": "clear"}}
    for method, path, payload in (("PUT", "/api/v1/apps/t", body), ("DELETE", "/api/v1/apps/t", None),
                                  ("POST", "/api/v1/rotation/next", None)):  # fmt: skip
        assert guarded.request(method, path, payload, token="")[0] == 401, (method, path)
    assert guarded.request("PUT", "/api/v1/apps/t", body, token="s3cret-token")[0] == 200
    assert guarded.request("GET", "/api/v1/apps", token="")[0] == 200
