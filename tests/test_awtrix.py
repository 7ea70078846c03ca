"""AWTRIX 3's HTTP API, end to end: requests as AWTRIX's docs/api.md writes them (its examples'
payloads, sent as raw bodies the way AWTRIX clients send them), over real HTTP to a whole
appliance; what plays is read from the frames of the headless STAND-IN panel."""

import base64
import http.server
import io
import json
import re
import statistics
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from PIL import Image

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
NOT_HONOURED = ("sound rtttl loopSound clients").split()
# The keys of /api/settings, as the same docs/api.md (03947ba6fdfbe793ebf54ecf2c341252f7e2eea0, "Change Settings",
# "JSON Properties") lists them.
DOCUMENTED_SETTINGS = (
    "ATIME TEFF TSPEED TCOL TMODE CHCOL CBCOL CTCOL WD WDCA WDCI BRI ABRI ATRANS CCORRECTION CTEMP TFORMAT DFORMAT"
    " SOM CEL BLOCKN UPPERCASE TIME_COL DATE_COL TEMP_COL HUM_COL BAT_COL SSPEED TIM DAT HUM TEMP BAT MATP VOL OVERLAY"
).split()
# The settings Pixie carries out (each tried below); the others it accepts and ignores.
HONOURED_SETTINGS = "BRI MATP ATRANS ATIME UPPERCASE TCOL SSPEED TEFF TSPEED".split()
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


# docs/api.md's "Drawing Instructions" example: a red circle, a blue rectangle and the text "Hello" in green.
DRAW_EXAMPLE = {
    "draw": [{"dc": [28, 4, 3, "#FF0000"]}, {"dr": [20, 4, 4, 4, "#0000FF"]}, {"dt": [0, 0, "Hello", "#00FF00"]}]
}


def drawing_example() -> bytes:
    """The example as test_render_draw draws it, in Pixie's words (its golden picture)."""
    return Image.open(Path(__file__).parent / "golden" / "draw_awtrix_example.png").convert("RGB").tobytes()


def test_the_docs_drawing_example_draws_its_circle_rectangle_and_text_on_the_panel(stack):
    mark = len(stack.frames())
    post(stack, "/api/notify", DRAW_EXAMPLE)
    job = stack.wait_state(newest_job(stack)["id"], "done", timeout=30)
    assert job["kind"] == "draw" and 4.5 <= job["finished"] - job["started"] <= 6.5  # a notification's 5 s
    assert drawing_example() in [frame for _, frame in stack.frames()[mark:]]


def test_a_drawing_is_drawn_over_the_text_in_any_colour_form(stack):
    body = {
        "text": "Hi",
        "color": [0, 0, 255],
        "duration": 1,
        "draw": [{"dp": [0, 0, [255, 0, 0]]}, {"dp": [1, 0, "00FF00"]}],
    }
    body["draw"].append({"db": [2, 0, 2, 1, [0xFFFF00, "#FF00FF"]]})
    mark = len(stack.frames())
    post(stack, "/api/notify", body)
    stack.wait_state(newest_job(stack)["id"], "done", timeout=30)
    drawn = [f for _, f in stack.frames()[mark:] if (0, 0, 255) in colours(f)]
    assert drawn and all(f[:12] == bytes([255, 0, 0, 0, 255, 0, 255, 255, 0, 255, 0, 255]) for f in drawn)


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
    assert stack.wait_state(job_id, "canceled", timeout=10)["reason"] == "dismissed"


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
    ignored.update(sound="alarm")
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


def test_a_custom_apps_placeholder_keeps_its_topic_under_the_uppercase_setting(stack):
    post(stack, "/api/custom?name=temp", {"text": "out {{home/outside/temp}}"})
    app = stack.request("GET", "/api/v1/apps/temp")[1]
    assert app["content"]["text"] == "OUT {{home/outside/temp|upper}}"  # the topic as sent, its value in capitals
    assert [p["topic"] for p in app["live"]] == ["home/outside/temp"]
    post(stack, "/api/custom?name=temp", b"")


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
    post(stack, "/api/settings", {"BRI": 128, "UPPERCASE": False, "TCOL": [0, 255, 0]})
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


def test_teff_and_tspeed_set_pixies_default_transition_by_awtrixs_codes(stack):
    # AWTRIX's docs/api.md "Available Transition Effects", codes 0-10 in order
    documented = "Random Slide Dim Zoom Rotate Pixelate Curtain Ripple Blink Reload Fade".split()
    assert get(stack, "/api/transitions") == documented
    try:
        post(stack, "/api/settings", {"TEFF": 6, "TSPEED": 250})
        assert stack.request("GET", "/api/v1/transition")[1] | {"names": None} == {
            "transition": "curtain", "transition_ms": 250, "names": None
        }  # fmt: skip
        assert (get(stack, "/api/settings")["TEFF"], get(stack, "/api/settings")["TSPEED"]) == (6, 250)
        post(stack, "/api/settings", {"TEFF": 10})  # the time stays
        assert stack.request("GET", "/api/v1/transition")[1]["transition"] == "fade"
        assert get(stack, "/api/settings")["TSPEED"] == 250
        for bad in ({"TEFF": 11}, {"TEFF": "zoom"}, {"TSPEED": -1}, {"TSPEED": 60000}):
            status, answer = stack.request("POST", "/api/settings", bad)[:2]
            assert status == 422 and next(iter(bad)) in answer["error"], (bad, answer)
        assert stack.request("GET", "/api/v1/transition")[1]["transition"] == "fade"  # nothing changed
        stack.request("PUT", "/api/v1/transition", {"transition": "wipe-left", "transition_ms": 300})
        assert "TEFF" not in get(stack, "/api/settings")  # AWTRIX has no code for a wipe
    finally:
        stack.request("PUT", "/api/v1/transition", {"transition": "cut", "transition_ms": 400})


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
        ("/api/notify", {"draw": [{"dx": [0, 0, "#FF0000"]}]}, 422, "draw.0.dx: no such drawing command"),
        ("/api/notify", {"draw": [{"dl": [0, 0, 5, "#FF0000"]}]}, 422, "draw.0.dl: expected [x0, y0, x1, y1, cl]"),
        ("/api/notify", {"draw": [{"dp": [0, "0", "#FF0000"]}]}, 422, "draw.0.dp.y: expected a number"),
        ("/api/notify", {"draw": [{"db": [0, 0, 100, 100, [0] * 10_000]}]}, 422, "draw.0.db.bmp: at most 4096"),
        ("/api/notify", {"draw": [{}] * 10**6}, 422, "draw: at most 256 drawing commands"),
        ("/api/custom?name=art", {"draw": [{"dc": [0, 0, -1, "#FF0000"]}]}, 422, "content.draw.0.r"),
        ("/api/custom?name=art", {"text": "x", "draw": [{"dfc": [0, 0, 1, "nope"]}]}, 422, "draw.0.dfc.cl"),
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


def test_the_code_and_the_readme_know_every_documented_setting_and_ignore_only_what_pixie_does_not_carry_out():
    assert sorted(awtrix.SETTINGS) == sorted(DOCUMENTED_SETTINGS)
    assert sorted(setting for setting, how in awtrix.SETTINGS.items() if how) == sorted(HONOURED_SETTINGS)
    table = README.read_text().split("Settings (`GET`/`POST /api/settings`")[1].split("\n\n")[1]
    rows = dict(re.findall(r"^\| `(\w+)` \| (.+) \|$", table, re.M))
    assert sorted(rows) == sorted(DOCUMENTED_SETTINGS)
    assert sorted(s for s, how in rows.items() if not how.startswith("ignored")) == sorted(HONOURED_SETTINGS)


def test_settings_pixie_does_not_carry_out_are_accepted_and_change_nothing(stack):
    before = get(stack, "/api/settings")
    post(stack, "/api/settings", dict.fromkeys(set(DOCUMENTED_SETTINGS) - set(HONOURED_SETTINGS), 1))
    assert get(stack, "/api/settings") == before


def _png(color, size=(8, 8)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def _left_block(frame: bytes, width: int = 64, rows: range = range(4, 28), cols: range = range(0, 8)) -> set:
    return {tuple(frame[(y * width + x) * 3 : (y * width + x) * 3 + 3]) for y in rows for x in cols}


def test_an_icon_from_the_library_shows_left_of_the_text_scaled_crisply(stack):
    assert stack.request("PUT", "/api/v1/icons/8x8/bell", _png(RED), {"Content-Type": "image/png"})[0] in (200, 201)
    mark = len(stack.frames())
    post(stack, "/api/notify", {"text": "Hi", "icon": "8x8/bell", "color": [0, 255, 0], "duration": 1})
    job = stack.wait_state(newest_job(stack)["id"], "done", timeout=30)
    assert job.get("notes") is None
    frames = [frame for _, frame in stack.frames()[mark:]]
    assert any(RED in colours(f) and GREEN in colours(f) for f in frames)
    # scaled by whole pixels: every red pixel sits in one solid square at the left edge
    last = [f for f in frames if RED in colours(f)][-1]
    red = {(i // 3 % 64, i // 3 // 64) for i in range(0, len(last), 3) if tuple(last[i : i + 3]) == RED}
    xs, ys = {x for x, _ in red}, {y for _, y in red}
    assert min(xs) <= 1 and len(red) == len(xs) * len(ys) and len(xs) % 8 == 0 and len(xs) >= 16


def test_a_base64_icon_is_kept_in_the_library_and_drawn(stack):
    mark = len(stack.frames())
    icon = base64.b64encode(_png((0, 0, 255))).decode()
    post(stack, "/api/notify", {"text": "Hi", "icon": icon, "duration": 1})
    stack.wait_state(newest_job(stack)["id"], "done", timeout=30)
    assert (0, 0, 255) in shown_since(stack, mark)
    names = [icon["name"] for icon in stack.request("GET", "/api/v1/icons")[1]["icons"]]
    assert any(name.startswith("b64-") for name in names)


def test_an_icon_the_library_lacks_is_left_out_and_the_notification_plays(stack):
    post(stack, "/api/notify", {"text": "ok", "icon": "no-such-icon", "color": [0, 255, 0], "duration": 1})
    assert stack.wait_state(newest_job(stack)["id"], "done", timeout=30)


@pytest.fixture
def icon_service():
    """A STAND-IN for LaMetric's icon service: /icons/<id> answers a PNG for 4242, garbage for 666, else 404."""

    class Icons(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            if self.path == "/icons/4242":
                body = _png((255, 0, 255))
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            elif self.path == "/icons/666":
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()
                self.wfile.write(b"<html>not an icon</html>")
            else:
                self.send_error(404)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Icons)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/icons/{{id}}"
    server.shutdown()


def test_a_lametric_id_is_fetched_once_into_the_library_and_a_failed_fetch_is_noted(make_appliance, icon_service):
    appliance = make_appliance(icons_fetch_url=icon_service)
    appliance.start_web()
    appliance.start_worker("1")
    appliance.start_display()
    mark = len(appliance.frames())
    post(appliance, "/api/notify", {"text": "Hi", "icon": "4242", "duration": 1})
    assert appliance.wait_state(newest_job(appliance)["id"], "done", timeout=30).get("notes") is None
    assert (255, 0, 255) in shown_since(appliance, mark)
    assert appliance.request("GET", "/api/v1/icons/4242")[0] == 200
    post(appliance, "/api/notify", {"text": "Hi", "icon": "77", "color": [0, 255, 0], "duration": 1})
    job = appliance.wait_state(newest_job(appliance)["id"], "done", timeout=30)
    assert "77" in job["notes"]["icon"] and "404" in job["notes"]["icon"]
    post(appliance, "/api/notify", {"text": "Hi", "icon": "666", "color": [0, 255, 0], "duration": 1})
    job = appliance.wait_state(newest_job(appliance)["id"], "done", timeout=30)
    assert "666" in job["notes"]["icon"] and "PNG, GIF or WebP" in job["notes"]["icon"]
    assert appliance.request("GET", "/api/v1/icons/666")[0] == 404  # garbage is not kept


def test_text_options_topText_textOffset_and_center_move_the_text(stack):
    def drawn(body: dict) -> set:
        mark = len(stack.frames())
        post(stack, "/api/notify", {"text": "I", "color": [0, 255, 0], "noScroll": True, "duration": 1, **body})
        stack.wait_state(newest_job(stack)["id"], "done", timeout=30)
        frame = [f for _, f in stack.frames()[mark:] if GREEN in colours(f)][-1]
        return {(i // 3 % 64, i // 3 // 64) for i in range(0, len(frame), 3) if tuple(frame[i : i + 3]) == GREEN}

    centred, top, left = drawn({}), drawn({"topText": True}), drawn({"center": False})
    shifted = drawn({"center": False, "textOffset": 5})
    assert 24 < min(x for x, _ in centred) < 40
    assert min(y for _, y in top) < min(y for _, y in centred)
    assert min(x for x, _ in left) < 4
    assert min(x for x, _ in shifted) == min(x for x, _ in left) + 5


def test_blink_text_goes_dark_and_comes_back(stack):
    mark = len(stack.frames())
    post(stack, "/api/notify", {"text": "I", "color": [0, 255, 0], "noScroll": True, "blinkText": 200, "duration": 2})
    stack.wait_state(newest_job(stack)["id"], "done", timeout=30)
    lit = [GREEN in colours(frame) for _, frame in stack.frames()[mark:]]
    assert True in lit and False in lit[lit.index(True) :]  # on, then off again


def test_wakeup_lights_a_panel_switched_off_for_the_notification(stack):
    post(stack, "/api/power", {"power": False})
    mark = len(stack.frames())
    post(stack, "/api/notify", {"text": "I", "color": [0, 255, 0], "noScroll": True, "duration": 1})
    stack.wait_state(newest_job(stack)["id"], "done", timeout=30)
    assert GREEN not in shown_since(stack, mark)  # dark: the panel is off
    post(stack, "/api/notify", {"text": "I", "color": [0, 255, 0], "noScroll": True, "duration": 1, "wakeup": True})
    stack.wait_state(newest_job(stack)["id"], "done", timeout=30)
    assert any(g > 0 for _, g, _ in shown_since(stack, mark))
    assert stack.request("GET", "/api/v1/state")[1]["power"] is False  # still off afterwards


def test_lifetime_mode_1_keeps_a_stale_app_inside_a_red_frame(stack):
    post(stack, "/api/custom?name=stale", {"text": "I", "color": [0, 255, 0], "lifetime": 1, "lifetimeMode": 1})
    wait_for(lambda: get(stack, "/api/v1/apps/stale").get("stale"), timeout=30, what="stale")
    assert get(stack, "/api/loop") == {"stale": 0}
    corner = wait_for(lambda: (f := stack.frames()[-1][1])[:3] == bytes(RED) and f, timeout=30, what="red frame")
    assert GREEN in colours(corner)


def test_an_empty_object_deletes_like_an_empty_body_and_an_empty_list_changes_nothing(stack):
    post(stack, "/api/custom?name=keep", {"text": "1"})
    post(stack, "/api/custom?name=keep", [])
    assert get(stack, "/api/loop") == {"keep": 0}
    post(stack, "/api/custom?name=keep", {})
    assert get(stack, "/api/loop") == {}


# -- AWTRIX features the README promises, read from the panel's frames ------------------------------------

# Wider than the 64-pixel panel in the default font: it scrolls in from the right edge.
LONG = "PIXIE SCROLLS THIS IN"
# AWTRIX 3's calls the README's table says Pixie does not offer (404).
NOT_OFFERED = ("moodlight", "apps", "reorder", "doupdate", "erase", "resetSettings", "r2d2")


def green_xs(frame: bytes, width: int = 64) -> list[int]:
    return [i // 3 % width for i in range(0, len(frame), 3) if frame[i : i + 3] == bytes(GREEN)]


def last_text_frame(stack, body: dict) -> bytes:
    """The last frame of a still green notification's text (AWTRIX's fields in `body`)."""
    mark = len(stack.frames())
    post(stack, "/api/notify", {"color": [0, 255, 0], "noScroll": True, "duration": 1, **body})
    stack.wait_state(newest_job(stack)["id"], "done", timeout=30)
    return [frame for _, frame in stack.frames()[mark:] if GREEN in colours(frame)][-1]


def test_text_case_0_follows_the_uppercase_setting_1_forces_upper_case_2_shows_as_sent(stack):
    upper, lower = (
        last_text_frame(stack, {"text": "ABC", "textCase": 2}),
        last_text_frame(stack, {"text": "abc", "textCase": 2}),
    )
    assert upper != lower
    assert last_text_frame(stack, {"text": "abc"}) == upper  # textCase 0, and UPPERCASE is on by default
    post(stack, "/api/settings", {"UPPERCASE": False})
    assert last_text_frame(stack, {"text": "abc", "textCase": 0}) == lower
    assert last_text_frame(stack, {"text": "abc", "textCase": 1}) == upper


def scroll_speed(stack, body: dict) -> float:
    """px/s at which a notification's text moves in from the right edge: its left edge's column against
    the swap times of the frames, until it reaches the left edge."""
    mark = len(stack.frames())
    post(stack, "/api/notify", {"text": LONG, "color": [0, 255, 0], "duration": 3, **body})
    stack.wait_state(newest_job(stack)["id"], "done", timeout=30)
    times, lefts = [], []
    for ns, frame in stack.frames()[mark:]:
        if xs := green_xs(frame):
            if min(xs) <= 1:
                break
            times.append(ns / 1e9)
            lefts.append(min(xs))
    assert len(times) >= 10, lefts
    return -statistics.linear_regression(times, lefts).slope


def test_scroll_speed_and_the_sspeed_setting_are_percentages_of_32_px_per_second(stack):
    # The display keeps each frame's time against a deadline of its own: a busy machine delays a swap,
    # not the scroll's pace, so a speed is measured well within 15 %.
    for body, expected in (({}, 32), ({"scrollSpeed": 50}, 16), ({"scrollSpeed": 200}, 64)):
        assert 0.85 * expected <= scroll_speed(stack, body) <= 1.15 * expected, body
    post(stack, "/api/settings", {"SSPEED": 50})
    assert get(stack, "/api/settings")["SSPEED"] == 50
    assert 0.85 * 16 <= scroll_speed(stack, {}) <= 1.15 * 16


def test_repeat_minus_one_plays_for_the_duration(stack):
    post(stack, "/api/notify", {"text": LONG * 3, "repeat": -1, "duration": 2})  # once through takes 10 s
    job = stack.wait_state(newest_job(stack)["id"], "done", timeout=30)
    assert 1.9 <= job["finished"] - job["started"] <= 3.5


def test_atime_is_the_dwell_of_custom_apps_sent_without_a_duration(stack):
    post(stack, "/api/custom?name=before", {"text": "a"})
    assert stack.request("GET", "/api/v1/apps/before")[1]["dwell_s"] == 7  # AWTRIX's documented default
    post(stack, "/api/settings", {"ATIME": 12})
    assert get(stack, "/api/settings")["ATIME"] == 12
    post(stack, "/api/custom?name=after", {"text": "b"})
    post(stack, "/api/custom?name=own", {"text": "c", "duration": 3})
    dwells = {app["name"]: app["dwell_s"] for app in stack.request("GET", "/api/v1/apps")[1]["apps"]}
    assert dwells == {"before": 7, "after": 12, "own": 3}


def test_matp_switches_the_matrix_off_and_on(stack):
    post(stack, "/api/notify", {"background": "#FF0000", "hold": True})
    stack.wait_state(newest_job(stack)["id"], "playing", timeout=30)
    wait_for(lambda: colours(stack.frames()[-1][1]) == {RED}, timeout=10, what="red on the panel")
    post(stack, "/api/settings", {"MATP": False})
    assert (get(stack, "/api/settings")["MATP"], get(stack, "/api/stats")["matrix"]) == (False, False)
    assert stack.request("GET", "/api/v1/state")[1]["power"] is False
    wait_for(lambda: colours(stack.frames()[-1][1]) == {(0, 0, 0)}, timeout=10, what="the panel dark")
    post(stack, "/api/settings", {"MATP": True})
    assert get(stack, "/api/stats")["matrix"] is True
    wait_for(lambda: colours(stack.frames()[-1][1]) == {RED}, timeout=10, what="red again")
    post(stack, "/api/notify/dismiss")


def test_a_fading_indicator_rises_from_dark_to_full_and_back_over_its_fade_time(stack):
    post(stack, "/api/notify", {"background": "#000000", "hold": True})
    stack.wait_state(newest_job(stack)["id"], "playing", timeout=30)
    mark = len(stack.frames())
    post(stack, "/api/indicator1", {"color": [255, 0, 0], "fade": 1000})

    def levels() -> list[tuple[float, int]]:
        """(swap time, red level of the corner) at each change of it."""
        out = []
        for ns, frame in stack.frames()[mark:]:
            red = pixel(frame, 63, 0)[0]
            if not out or out[-1][1] != red:
                out.append((ns / 1e9, red))
        return out

    def dark_full_dark():
        seen = [red for _, red in levels()]
        dark = seen.index(0) if 0 in seen else len(seen)
        full = seen.index(255, dark) if 255 in seen[dark:] else len(seen)
        return 0 in seen[full:] and (dark, full, seen.index(0, full))

    dark, full, again = wait_for(dark_full_dark, timeout=20, what="the corner dark, full, dark")
    shown = levels()
    rise, fall = [red for _, red in shown[dark : full + 1]], [red for _, red in shown[full : again + 1]]
    assert rise == sorted(rise) and fall == sorted(fall, reverse=True), (rise, fall)
    assert len(set(rise) - {0, 255}) >= 3, rise  # through levels between, not a blink
    assert 0.7 <= shown[full][0] - shown[dark][0] <= 1.4, shown  # fades in over its 1000 ms
    assert 0.7 <= shown[again][0] - shown[full][0] <= 1.4, shown  # and out again
    post(stack, "/api/indicator1", b"")
    post(stack, "/api/notify/dismiss")


@pytest.mark.parametrize("name", NOT_OFFERED)
def test_calls_pixie_does_not_offer_are_404_and_change_nothing(stack, name):
    post(stack, "/api/custom?name=kept", {"text": "k"})
    post(stack, "/api/settings", {"ATIME": 9})
    for method in ("GET", "POST"):
        assert call(stack, method, f"/api/{name}", {"brightness": 170, "kelvin": 2300})[0] == 404, method
    assert get(stack, "/api/loop") == {"kept": 0}
    assert get(stack, "/api/settings")["ATIME"] == 9


def test_the_readme_says_which_calls_are_not_offered():
    row = next(line for line in README.read_text().splitlines() if "not offered (404)" in line)
    assert sorted(re.findall(r"`(\w+)`", row.split("|")[1])) == sorted(NOT_OFFERED)


def test_with_awtrix_disabled_its_paths_are_404_and_pixies_api_works(make_appliance):
    appliance = make_appliance(awtrix_enabled=False)
    appliance.start_web()
    for method, path in (("POST", "/api/notify"), ("POST", "/api/custom?name=x"), ("GET", "/api/stats"),
                         ("GET", "/api/settings"), ("POST", "/api/power")):  # fmt: skip
        assert call(appliance, method, path, {"text": "x", "power": False})[0] == 404, path
    assert appliance.request("GET", "/api/v1/state")[1]["power"] is True
    job = appliance.submit(kind="fill", color="red")
    assert [j["id"] for j in appliance.request("GET", "/api/v1/jobs")[1]["jobs"]] == [job]
