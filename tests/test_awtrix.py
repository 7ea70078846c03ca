"""AWTRIX 3's HTTP API, end to end: requests as AWTRIX's docs/api.md writes them (its examples'
payloads, sent as raw bodies the way AWTRIX clients send them), over real HTTP to a whole
appliance; what plays is read from the frames of the headless STAND-IN panel."""

import base64
import json
import re
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from pixie import awtrix
from testsupport.servers import wait_for

README = Path(__file__).parents[1] / "README.md"
# The keys of a notification or custom app, as AWTRIX's docs/api.md (Blueforcer/awtrix3 at 03947ba,
# "JSON Properties") lists them, written here from the docs, not from Pixie's code.
DOCUMENTED_FIELDS = (
    "text textCase topText textOffset center color gradient blinkText fadeText background rainbow icon pushIcon"
    " repeat duration hold sound rtttl loopSound bar line autoscale barBC progress progressC progressBC pos draw"
    " lifetime lifetimeMode stack wakeup noScroll clients scrollSpeed effect effectSettings save overlay"
).split()
# What Pixie promises not to draw (yet, or ever: no speaker, no other AWTRIX devices).
NOT_HONOURED = (
    "sound rtttl loopSound bar line autoscale barBC progress progressC progressBC draw clients effect"
    " effectSettings overlay"
).split()
RED, GREEN = (255, 0, 0), (0, 255, 0)
# /api/stats's fields, as AWTRIX's getStats() sends them.
STATS = {
    "bat": int,
    "bat_raw": int,
    "type": int,
    "lux": int,
    "ldr_raw": int,
    "ram": int,
    "bri": int,
    "temp": float,
    "hum": int,
    "uptime": int,
    "wifi_signal": int,
    "messages": int,
    "version": str,
    "indicator1": bool,
    "indicator2": bool,
    "indicator3": bool,
    "app": str,
    "uid": str,
    "matrix": bool,
    "ip_address": str,
}


def call(appliance, method: str, path: str, body=None, auth: str | None = None):
    """(status, body text, headers) of an AWTRIX-style request: a raw body, no Content-Type needed."""
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    headers = {"Authorization": auth} if auth else {}
    request = urllib.request.Request(appliance.url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, resp.read().decode(), resp.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), e.headers


def post(appliance, path: str, body=None) -> None:
    status, text, headers = call(appliance, "POST", path, body)
    assert (status, text) == (200, "OK"), (path, status, text)
    assert headers["Content-Type"].startswith("text/plain")


def get(appliance, path: str):
    status, text, headers = call(appliance, "GET", path)
    assert status == 200, (path, status, text)
    assert headers["Content-Type"] == "application/json"
    return json.loads(text)


def newest_job(appliance) -> dict:
    return appliance.request("GET", "/api/v1/jobs?limit=1")[1]["jobs"][0]


def colours(frame: bytes) -> set:
    return set(zip(frame[0::3], frame[1::3], frame[2::3], strict=True))


def shown_since(appliance, mark: int) -> set:
    found = set()
    for _, frame in appliance.frames()[mark:]:
        found |= colours(frame)
    return found


@pytest.fixture(autouse=True)
def clean(stack):
    yield
    for app in stack.request("GET", "/api/v1/apps")[1]["apps"]:
        stack.request("DELETE", f"/api/v1/apps/{app['name']}")
    stack.request("PUT", "/api/v1/power", {"on": True})
    stack.v.delete("pixie:display:indicators")
    stack.r.delete("pixie:awtrix:settings")


def test_a_notification_in_coloured_fragments_plays_in_its_colours(stack):
    mark = len(stack.frames())
    post(stack, "/api/notify", {"text": [{"t": "Hello, ", "c": "FF0000"}, {"t": "world!", "c": "00FF00"}], "repeat": 2})
    job = newest_job(stack)
    stack.wait_state(job["id"], "done", timeout=60)
    shown = shown_since(stack, mark)
    assert RED in shown and GREEN in shown


def test_a_notification_plays_for_its_duration(stack):
    post(stack, "/api/notify", {"text": "Hi", "duration": 1})
    job = stack.wait_state(newest_job(stack)["id"], "done", timeout=30)
    assert 0.9 <= job["finished"] - job["started"] <= 2.0


def test_the_docs_rainbow_example_scrolls_through_in_many_hues(stack):
    mark = len(stack.frames())
    post(stack, "/api/notify", {"text": "Hello, AWTRIX 3!", "rainbow": True, "repeat": 1})
    stack.wait_state(newest_job(stack)["id"], "done", timeout=30)
    pure = {c for c in shown_since(stack, mark) if max(c) == 255 and min(c) == 0}  # fully saturated hues
    assert len(pure) >= 6, pure


def test_a_gradient_runs_from_one_colour_to_the_other(stack):
    mark = len(stack.frames())
    post(stack, "/api/notify", {"text": "IIIIIIII", "gradient": ["#FF0000", [0, 0, 255]], "noScroll": True})
    stack.wait_state(newest_job(stack)["id"], "done", timeout=30)
    shown = shown_since(stack, mark)
    assert RED in shown and (0, 0, 255) in shown
    assert any(r > 0 and b > 0 and g == 0 for r, g, b in shown)  # the letters between are mixed


def test_a_hold_notification_stays_until_dismissed(stack):
    post(stack, "/api/notify", {"text": "hold", "hold": True})
    job_id = newest_job(stack)["id"]
    stack.wait_state(job_id, "playing", timeout=30)
    post(stack, "/api/notify/dismiss")
    assert stack.wait_state(job_id, "canceled", timeout=10)["reason"] == "canceled"


def test_stack_false_replaces_the_notification_on_the_panel(stack):
    post(stack, "/api/notify", {"text": "first", "hold": True})
    first = newest_job(stack)["id"]
    stack.wait_state(first, "playing", timeout=30)
    post(stack, "/api/notify", {"text": "second", "stack": False, "duration": 1})
    second = newest_job(stack)["id"]
    assert stack.wait_state(first, "canceled", timeout=10)
    assert stack.wait_state(second, "done", timeout=30)


def test_fields_pixie_does_not_draw_are_ignored_and_the_rest_applies(stack):
    ignored = {field: 1 for field in NOT_HONOURED}
    ignored.update(sound="alarm", draw=[{"dp": [0, 0, "#FF0000"]}], bar=[1, 2, 3], effect="Matrix")
    mark = len(stack.frames())
    post(stack, "/api/notify", {**ignored, "text": "ok", "color": [0, 255, 0], "duration": 1})
    stack.wait_state(newest_job(stack)["id"], "done", timeout=30)
    assert GREEN in shown_since(stack, mark)


def test_several_custom_apps_at_once_get_suffixes_and_an_empty_body_deletes_them_all(stack):
    post(stack, "/api/custom?name=test", [{"text": "1"}, {"text": "2"}])
    post(stack, "/api/custom?name=other", {"text": "3"})
    assert get(stack, "/api/loop") == {"test0": 0, "test1": 1, "other": 2}
    post(stack, "/api/custom?name=test", b"")
    assert get(stack, "/api/loop") == {"other": 0}


def test_a_custom_app_takes_its_duration_position_and_lifetime(stack):
    post(stack, "/api/custom?name=first", {"text": "a"})
    post(stack, "/api/custom?name=solar", {"text": "5 kW", "duration": 3, "pos": 0, "lifetime": 120})
    app = stack.request("GET", "/api/v1/apps/solar")[1]
    assert (app["dwell_s"], app["position"], app["lifetime_s"]) == (3, 0, 120)
    assert app["content"]["text"] == "5 KW"  # AWTRIX's UPPERCASE setting is on by default
    assert list(get(stack, "/api/loop")) == ["solar", "first"]


def test_next_previous_and_switch_move_through_the_loop(stack):
    for name, colour in (("a", "#FF0000"), ("b", "#00FF00"), ("c", "#0000FF")):
        post(stack, f"/api/custom?name={name}", {"background": colour, "duration": 60})
    wait_for(lambda: all(a["rendered"] for a in stack.request("GET", "/api/v1/apps")[1]["apps"]), what="rendered")

    def showing(name):
        wait_for(lambda: get(stack, "/api/stats")["app"] == name, timeout=15, what=f"{name} showing")

    # Whichever app renders first takes the panel for its 60 s: the walk starts from a switch.
    post(stack, "/api/switch", {"name": "a"})
    showing("a")
    post(stack, "/api/nextapp")
    showing("b")
    post(stack, "/api/previousapp")
    showing("a")
    post(stack, "/api/switch", {"name": "c"})
    showing("c")
    post(stack, "/api/nextapp")
    showing("a")


def test_power_and_sleep_darken_the_panel_and_sleep_ends_by_itself(stack):
    post(stack, "/api/power", {"power": False})
    assert get(stack, "/api/stats")["matrix"] is False
    assert stack.request("GET", "/api/v1/state")[1]["power"] is False
    post(stack, "/api/power", {"power": True})
    assert get(stack, "/api/stats")["matrix"] is True
    post(stack, "/api/sleep", {"sleep": 2})
    assert get(stack, "/api/stats")["matrix"] is False
    wait_for(lambda: get(stack, "/api/stats")["matrix"], timeout=10, what="awake again")


def test_settings_brightness_case_colour_and_auto_transition(stack):
    post(stack, "/api/settings", {"BRI": 128, "UPPERCASE": False, "TCOL": [0, 255, 0], "TEFF": 3})
    assert stack.request("GET", "/api/v1/brightness")[1]["brightness"] == 50
    settings = get(stack, "/api/settings")
    assert (settings["BRI"], settings["UPPERCASE"], settings["TCOL"]) == (128, False, "#00ff00")
    post(stack, "/api/custom?name=lower", {"text": "abc"})
    content = stack.request("GET", "/api/v1/apps/lower")[1]["content"]
    assert (content["text"], content["color"]) == ("abc", "#00ff00")
    wait_for(lambda: get(stack, "/api/stats")["app"] == "lower", timeout=15, what="lower showing")
    post(stack, "/api/settings", {"ATRANS": False})
    assert stack.request("GET", "/api/v1/apps")[1]["pinned"] == "lower"
    post(stack, "/api/settings", {"ATRANS": True})
    assert stack.request("GET", "/api/v1/apps")[1]["pinned"] is None
    post(stack, "/api/settings", {"BRI": 255})


def test_stats_have_every_field_awtrix_sends(stack):
    stats = get(stack, "/api/stats")
    assert {k: type(v) for k, v in stats.items()} == STATS
    assert stats["ram"] > 0 and stats["uptime"] > 0


def test_screen_is_the_panel_as_24_bit_integers(stack):
    post(stack, "/api/notify", {"background": [255, 0, 0], "hold": True})
    job_id = newest_job(stack)["id"]
    stack.wait_state(job_id, "playing", timeout=30)
    wait_for(lambda: set(get(stack, "/api/screen")) == {0xFF0000}, timeout=10, what="red on the screen")
    assert len(get(stack, "/api/screen")) == 64 * 32
    post(stack, "/api/notify/dismiss")


def test_effects_and_transitions_are_lists(stack):
    assert get(stack, "/api/effects") == []
    assert get(stack, "/api/transitions") == []


def pixel(frame: bytes, x: int, y: int, width: int = 64) -> tuple:
    return tuple(frame[(y * width + x) * 3 : (y * width + x) * 3 + 3])


def test_an_indicator_lights_its_corner_over_what_plays_and_hides_again(stack):
    post(stack, "/api/notify", {"background": "#0000FF", "hold": True})
    stack.wait_state(newest_job(stack)["id"], "playing", timeout=30)
    mark = len(stack.frames())
    post(stack, "/api/indicator1", {"color": [255, 0, 0]})
    assert get(stack, "/api/stats")["indicator1"] is True
    wait_for(lambda: any(pixel(f, 63, 0) == RED for _, f in stack.frames()[mark:]), timeout=10, what="the corner red")
    lit = next(f for _, f in stack.frames()[mark:] if pixel(f, 63, 0) == RED)
    assert pixel(lit, 0, 0) == pixel(lit, 63, 31) == (0, 0, 255)  # the rest is the notification's
    mark = len(stack.frames())
    post(stack, "/api/indicator1", {"color": "0"})
    assert get(stack, "/api/stats")["indicator1"] is False
    wait_for(lambda: any(pixel(f, 63, 0) == (0, 0, 255) for _, f in stack.frames()[mark:]), timeout=10, what="hidden")
    post(stack, "/api/notify/dismiss")


def test_a_blinking_indicator_goes_on_and_off(stack):
    post(stack, "/api/notify", {"background": "#000000", "hold": True})
    stack.wait_state(newest_job(stack)["id"], "playing", timeout=30)
    mark = len(stack.frames())
    post(stack, "/api/indicator3", {"color": "#00FF00", "blink": 300})
    assert get(stack, "/api/stats")["indicator3"] is True

    def corner():
        return [pixel(f, 63, 31) for _, f in stack.frames()[mark:]]

    wait_for(lambda: corner().count(GREEN) >= 3 and corner().count((0, 0, 0)) >= 3, timeout=15, what="blinks")
    post(stack, "/api/indicator3", b"")
    assert get(stack, "/api/stats")["indicator3"] is False
    post(stack, "/api/notify/dismiss")


def test_sound_and_rtttl_succeed_without_a_sound(stack):
    post(stack, "/api/sound", {"sound": "alarm"})
    post(stack, "/api/rtttl", b"two short:d=4,o=5,b=100:16e6,16e6")


@pytest.mark.parametrize(
    "path,body,status,reason",
    [
        ("/api/notify", b"{not json", 422, "ErrorParsingJson"),
        ("/api/notify", b"", 422, "ErrorParsingJson"),
        ("/api/notify", {"text": 5}, 422, "text"),
        ("/api/notify", {"text": "x", "color": "nope"}, 422, "color"),
        ("/api/notify", {"text": "x", "duration": "long"}, 422, "duration"),
        ("/api/notify", {"text": "x" * 201}, 422, "text"),
        ("/api/custom", {"text": "x"}, 422, "name"),
        ("/api/custom?name=bad%20name", {"text": "x"}, 422, "app name"),
        ("/api/custom?name=two", [{"text": "ok"}, {"text": 5}], 422, "text"),
        ("/api/custom?name=nothing", b"", 404, "no app nothing"),
        ("/api/switch", {"name": "nowhere"}, 404, "no app nowhere"),
        ("/api/switch", {}, 422, "name"),
        ("/api/power", {"on": True}, 422, "power"),
        ("/api/sleep", {"sleep": -1}, 422, "sleep"),
        ("/api/settings", {"BRI": 300}, 422, "BRI"),
        ("/api/indicator2", {"color": [1, 2]}, 422, "color"),
    ],
)
def test_bad_payloads_are_refused_with_a_reason_and_nothing_is_queued(stack, path, body, status, reason):
    before = stack.request("GET", "/api/v1/jobs")[1]["jobs"]
    code, text, headers = call(stack, "POST", path, body)
    assert code == status, text
    assert headers["Content-Type"] == "application/json"
    assert reason in json.loads(text)["error"]
    assert stack.request("GET", "/api/v1/jobs")[1]["jobs"] == before
    assert stack.request("GET", "/api/v1/apps")[1]["apps"] == []


def test_reboot_restarts_the_display_process(make_appliance):
    appliance = make_appliance()
    appliance.start_web()
    appliance.start_display()
    post(appliance, "/api/reboot")
    display = appliance.procs["display"]
    assert display.wait(10) == 75  # the supervisor's cue (systemd's Restart=always, pixie-local) to start it again


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_awtrix_clients_authenticate_with_basic_auth(guarded):
    for auth in (None, basic("pixie", "wrong"), basic("admin", "s3cret-token"), "Basic !!", "Bearer wrong"):
        status, text, headers = call(guarded, "POST", "/api/nextapp", auth=auth)
        assert status == 401, auth
        assert "API token" in json.loads(text)["error"]
        assert headers["WWW-Authenticate"] == 'Basic realm="pixie"'
    for auth in (basic("pixie", "s3cret-token"), "Bearer s3cret-token"):
        status, text, _ = call(guarded, "POST", "/api/power", {"power": True}, auth=auth)
        assert (status, text) == (200, "OK"), auth
    assert call(guarded, "GET", "/api/settings")[0] == 200  # reads stay open, as the rest of the API's


def test_the_code_and_the_readme_know_every_documented_field_and_ignore_only_what_pixie_does_not_draw():
    assert sorted(awtrix.FIELDS) == sorted(DOCUMENTED_FIELDS)
    assert sorted(field for field, how in awtrix.FIELDS.items() if not how) == sorted(NOT_HONOURED)
    rows = dict(re.findall(r"^\| `(\w+)` \| (.+) \|$", README.read_text(), re.M))
    assert sorted(f for f in DOCUMENTED_FIELDS if rows[f].startswith("ignored")) == sorted(NOT_HONOURED)
    for setting in awtrix.SETTINGS:
        assert setting in rows, setting
