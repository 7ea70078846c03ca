"""Every endpoint and every class of bad input, over real HTTP against a real
Redis. No workers run here, so accepted jobs stay queued and the tests can
check that bad requests never disturb them."""

import base64
import io
import re
from pathlib import Path

import pytest
from PIL import Image

from appliance import Appliance
from media import animated, multipart, png_bomb, still

MAX_BODY = 300_000
MAX_FRAMES = 20


@pytest.fixture(scope="module")
def api(redis_server, tmp_path_factory):
    appliance = Appliance(
        redis_server,
        tmp_path_factory.mktemp("api"),
        web_max_body_bytes=MAX_BODY,
        render_max_frames=MAX_FRAMES,
        render_max_animation_s=5,
    )
    appliance.start_web()
    yield appliance
    appliance.stop()


def queued(api) -> dict:
    return {name: q["queued"] for name, q in api.request("GET", "/api/v1/queue")[1]["queues"].items()}


@pytest.mark.parametrize(
    "job",
    [
        {"kind": "text", "text": "hello", "color": "orange", "scroll": True, "speed": 40},
        {"kind": "fill", "color": "#00ff00", "duration_s": 2},
        {"kind": "clear"},
        {"kind": "pattern", "pattern": "grid", "repeat": 2},
        {"kind": "demo", "n": 3},
        {"kind": "image", "data_b64": base64.b64encode(still("JPEG")).decode(), "fit": "fill"},
        {"kind": "animation", "data_b64": base64.b64encode(animated("WEBP")).decode()},
        {"kind": "progress", "progress": 40, "text": "Print"},
        {"kind": "chart", "values": [1, 5.5, -3, 8], "style": "line", "min": -5},
    ],
    ids=lambda job: job["kind"],
)
def test_every_kind_is_accepted_and_queued(api, job):
    status, body, _ = api.request("POST", "/api/v1/jobs", {**job, "priority": "low"})
    assert status == 202, body
    assert body["url"] == f"/api/v1/jobs/{body['id']}"
    state = api.state(body["id"])
    assert (state["state"], state["kind"], state["priority"]) == ("queued", job["kind"], "low")


@pytest.mark.parametrize("fmt", ["PNG", "BMP", "WEBP", "JPEG"])
def test_raw_image_body_is_a_still_image_job(api, fmt):
    status, body, _ = api.request(
        "POST", "/api/v1/jobs?fit=center&priority=high", still(fmt), {"Content-Type": f"image/{fmt.lower()}"}
    )
    assert status == 202, body
    assert api.state(body["id"])["kind"] == "image"
    assert api.state(body["id"])["priority"] == "high"


def test_multipart_gif_upload_is_an_animation(api):
    body, content_type = multipart({"priority": "default", "repeat": "2"}, animated("GIF"), "a.gif", "image/gif")
    status, answer, _ = api.request("POST", "/api/v1/jobs", body, {"Content-Type": content_type})
    assert status == 202, answer
    assert api.state(answer["id"])["kind"] == "animation"


def test_same_name_replaces_the_earlier_job(api):
    first = api.submit(kind="text", text="first", name="weather", priority="low")
    second = api.submit(kind="text", text="second", name="weather", priority="low")
    old = api.state(first)
    assert old["state"] == "canceled"
    assert old["reason"] == f"replaced by {second}"
    assert api.state(second)["state"] == "queued"


def test_delete_cancels_a_queued_job_and_then_conflicts(api):
    job = api.submit(kind="fill", color="red", priority="low")
    before = queued(api)["low"]
    status, body, _ = api.request("DELETE", f"/api/v1/jobs/{job}")
    assert (status, body["state"]) == (200, "canceled")
    assert queued(api)["low"] == before - 1
    status, body, _ = api.request("DELETE", f"/api/v1/jobs/{job}")
    assert status == 409
    assert "already ended" in body["error"]


def test_unknown_job_is_404(api):
    status, body, _ = api.request("GET", "/api/v1/jobs/nope")
    assert status == 404
    assert "no job nope" in body["error"]


def test_legacy_queue_endpoint(api):
    for method in ("GET", "POST"):
        status, body, _ = api.request(method, "/pixie/queue?n=5")
        assert status == 202, body
        assert api.state(body["id"])["kind"] == "demo"
    for bad in ("0", "1000", "abc", "-3", "2.5", ""):
        status, body, _ = api.request("GET", f"/pixie/queue?n={bad}")
        assert status == 400, bad
        assert "n must be an integer from 1 to 999" in body["error"]
    assert api.request("POST", "/pixie/queue")[0] == 400


BAD_JSON_JOBS = [
    ({"kind": "text", "text": "x" * 201}, "at most 200 characters"),
    ({"kind": "hologram"}, "kind must be one of"),
    ({"text": "no kind"}, "kind"),
    ({"kind": "text", "text": "hi", "priority": "urgent"}, "priority"),
    ({"kind": "text", "text": "hi", "duration_s": -1}, "duration_s"),
    ({"kind": "text", "text": "hi", "repeat": 0}, "repeat"),
    ({"kind": "text", "text": "hi", "repeat": 2, "duration_s": 3}, "not both"),
    ({"kind": "text", "text": "hi", "color": "blurple"}, "not a colour"),
    ({"kind": "text", "text": "hi", "size": 1000}, "size"),
    ({"kind": "text", "text": "hi", "bogus": 1}, "bogus"),
    ({"kind": "fill"}, "color"),
    ({"kind": "demo", "n": 0}, "n"),
    ({"kind": "image"}, "needs a file"),
    ({"kind": "image", "data_b64": "%%%"}, "not valid base64"),
    ({"kind": "text", "text": "hi", "name": "has space"}, "name"),
    ({"kind": "clear", "at": "07:30", "in_s": 5}, "give at or in_s, not both"),
    ({"kind": "clear", "in_s": 0}, "in_s: Input should be greater than 0"),
    ({"kind": "clear", "in_s": 86401}, "in_s: Input should be less than or equal to 86400"),
    ({"kind": "clear", "in_s": "5"}, "in_s: Input should be a valid number"),
    ({"kind": "clear", "at": "tomorrowish"}, "at: Value error, not an ISO 8601 date-time"),
    ({"kind": "clear", "at": 1800000000}, "at: Value error, not an ISO 8601 date-time"),
    ({"kind": "clear", "at": "2020-01-01T00:00:00Z"}, "is not between now and 24 h ahead"),
    ({"kind": "clear", "at": "2999-01-01T00:00:00Z"}, "is not between now and 24 h ahead"),
]


@pytest.mark.parametrize("job,reason", BAD_JSON_JOBS, ids=[reason for _, reason in BAD_JSON_JOBS])
def test_bad_json_jobs_get_422_with_a_reason(api, job, reason):
    before = queued(api)
    status, body, _ = api.request("POST", "/api/v1/jobs", job)
    assert status == 422, body
    assert reason in body["error"]
    assert queued(api) == before


BAD_UPLOADS = [
    (b"", "image/png", 422, "empty"),
    (b"this is not an image", "image/png", 415, "not an image"),
    (still("PNG")[:60], "image/png", 422, "corrupt"),
    (png_bomb(), "image/png", 413, "more than"),
    (animated("GIF", colors=[(i, i, i) for i in range(MAX_FRAMES + 5)]), "image/gif", 413, "frames"),
    (animated("GIF", delay_ms=1000, colors=[(i, 0, 0) for i in range(10)]), "image/gif", 413, "lasts"),
    (b"\0" * (MAX_BODY + 1), "image/png", 413, "larger than"),
    (still("PNG"), "text/plain", 415, "send application/json"),
]


@pytest.mark.parametrize("data,ctype,code,reason", BAD_UPLOADS, ids=[b[3] for b in BAD_UPLOADS])
def test_bad_uploads_get_4xx_with_a_reason(api, data, ctype, code, reason):
    before = queued(api)
    status, body, _ = api.request("POST", "/api/v1/jobs", data, {"Content-Type": ctype})
    assert status == code, body
    assert reason in body["error"]
    assert queued(api) == before


def test_malformed_bodies(api):
    assert api.request("POST", "/api/v1/jobs", b"{not json", {"Content-Type": "application/json"})[0] == 400
    assert api.request("POST", "/api/v1/jobs", b"[1, 2]", {"Content-Type": "application/json"})[0] == 400
    body, ctype = multipart({"kind": "text"}, still("PNG"), "a.png", "image/png")
    status, answer, _ = api.request("POST", "/api/v1/jobs", body, {"Content-Type": ctype})
    assert status == 422
    assert "takes no file" in answer["error"]
    status, answer, _ = api.request("POST", "/api/v1/jobs", b"--x\r\ngarbage", {"Content-Type": ctype})
    assert status in (400, 422), answer


def test_power_and_state(api):
    assert api.request("GET", "/api/v1/power")[1] == {"on": True}
    assert api.request("PUT", "/api/v1/power", {"on": False})[:2] == (200, {"on": False})
    state = api.request("GET", "/api/v1/state")[1]
    assert state["power"] is False and state["now_playing"] in ("idle",) + tuple(state["apps"])
    for bad in ({"on": "yes"}, {"on": 1}, {}):
        status, body, _ = api.request("PUT", "/api/v1/power", bad)
        assert status == 422 and "on" in body["error"], (bad, body)
    assert api.request("PUT", "/api/v1/power", {"on": True})[:2] == (200, {"on": True})


def test_brightness(api):
    assert api.request("PUT", "/api/v1/brightness", {"brightness": 40})[:2] == (200, {"brightness": 40})
    assert api.request("GET", "/api/v1/brightness")[1] == {"brightness": 40}
    for bad in (-1, 101, "high"):
        status, body, _ = api.request("PUT", "/api/v1/brightness", {"brightness": bad})
        assert status == 422
        assert "brightness" in body["error"]
    assert api.request("GET", "/api/v1/brightness")[1] == {"brightness": 40}


KINDS = "text, image, animation, fill, clear, pattern, demo, clock, countdown, draw, progress, chart or layout"
# What a person who got it wrong reads: one sentence naming the field and what it takes (not a regular
# expression, the list of 101 allowed values, or the validation library's words).
SENTENCES = [
    ("PUT", "/api/v1/brightness", {"brightness": 101}, "brightness must be 0..100, got 101"),
    ("PUT", "/api/v1/brightness", {"brightness": "high"}, 'brightness must be 0..100, got "high"'),
    (
        "PUT",
        "/api/v1/schedule",
        {"windows": [{"start": "25:00", "end": "07:00", "brightness": 0}]},
        'windows.0.start must be a time of day (HH:MM or HH:MM:SS, 00:00 to 23:59)… got "25:00"',
    ),
    ("POST", "/api/v1/jobs", {"kind": "sparkles"}, f'kind must be one of {KINDS}, got "sparkles"'),
    ("POST", "/api/v1/jobs", {"text": "no kind"}, f"kind must be one of {KINDS}"),
    (
        "PUT",
        "/api/v1/apps/glitter",
        {"content": {"kind": "sparkles"}},
        f'content.kind must be one of {KINDS}, got "sparkles"',
    ),
]


@pytest.mark.parametrize("method,path,body,sentence", SENTENCES, ids=[s[3].split(" must")[0] for s in SENTENCES])
def test_a_refusal_is_one_sentence_naming_the_field_and_what_it_takes(api, method, path, body, sentence):
    """`…`: what the sentence goes on to say there (a window's time may be the sun's too)."""
    status, answer, _ = api.request(method, path, body)
    head, _, tail = sentence.partition("…")
    assert status == 422 and answer["error"].startswith(head) and answer["error"].endswith(tail), answer
    assert len(answer["error"]) < 250 and "\n" not in answer["error"] and "^" not in answer["error"], answer


def test_the_kinds_a_refusal_names_are_the_kinds_the_readme_documents(api):
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    table = readme[readme.index("| kind | fields |") :].split("\n\n")[0]
    documented = re.findall(r"^\| `(\w+)` \|", table, re.M)
    error = api.request("POST", "/api/v1/jobs", {"kind": "sparkles"})[1]["error"]
    named = re.split(r", | or ", error.removeprefix("kind must be one of ").removesuffix(', got "sparkles"'))
    assert sorted(named) == sorted(documented), (error, documented)


def test_night_mode_schedule_is_read_and_replaced(api):
    windows = [{"start": "22:30", "end": "07:00", "brightness": 0, "days": ["fri", "sat"], "fade_min": 15}]
    status, body, _ = api.request("PUT", "/api/v1/schedule", {"windows": windows})
    assert status == 200, body
    assert body["windows"] == windows and body["timezone"]
    assert isinstance(body["window_open"], bool) and body["next_change"]
    assert api.request("GET", "/api/v1/schedule")[1]["windows"] == windows
    assert api.request("PUT", "/api/v1/schedule", {"windows": []})[1]["windows"] == []
    assert api.request("GET", "/api/v1/schedule")[1]["next_change"] is None


@pytest.mark.parametrize(
    "window,field",
    [
        ({"start": "24:00", "end": "07:00", "brightness": 0}, "start"),
        ({"start": "7:00", "end": "08:00", "brightness": 0}, "start"),
        ({"start": "22:00", "end": "07:61", "brightness": 0}, "end"),
        ({"start": "22:00", "end": "07:00", "brightness": 101}, "brightness"),
        ({"start": "22:00", "end": "07:00", "brightness": "0"}, "brightness"),
        ({"start": "22:00", "end": "07:00", "brightness": True}, "brightness"),
        ({"start": "22:00", "end": "07:00", "brightness": 0, "days": ["friday"]}, "days"),
        ({"start": "22:00", "end": "07:00", "brightness": 0, "days": []}, "days"),
        ({"start": "22:00", "end": "07:00", "brightness": 0, "days": ["mon", "mon"]}, "each day once"),
        ({"start": "22:00", "end": "07:00", "brightness": 0, "fade_min": -1}, "fade_min"),
        ({"start": "22:00", "end": "07:00", "brightness": 0, "fade_min": 181}, "fade_min"),
        ({"start": "22:00", "end": "07:00", "brightness": 0, "colour": "red"}, "colour"),
        ({"end": "07:00", "brightness": 0}, "start"),
    ],
)
def test_a_bad_night_window_is_422_naming_the_field_and_keeps_the_schedule(api, window, field):
    good = [{"start": "21:00", "end": "06:00", "brightness": 5, "days": ["sun"], "fade_min": 0}]
    assert api.request("PUT", "/api/v1/schedule", {"windows": good})[0] == 200
    status, body, _ = api.request("PUT", "/api/v1/schedule", {"windows": [window]})
    assert status == 422, body
    assert field in body["error"]
    assert api.request("GET", "/api/v1/schedule")[1]["windows"] == good


def test_night_mode_takes_at_most_16_windows(api):
    window = {"start": "22:00", "end": "07:00", "brightness": 0}
    status, body, _ = api.request("PUT", "/api/v1/schedule", {"windows": [window] * 17})
    assert status == 422 and "windows" in body["error"]


def test_screen_png_is_the_panel_scaled(api):
    status, body, headers = api.request("GET", "/api/v1/screen.png?scale=4")
    assert status == 200
    assert headers["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(body)).size == (64 * 4, 32 * 4)
    assert api.request("GET", "/api/v1/screen.png?scale=99")[0] == 422


def test_healthz_is_503_without_workers_or_display(api):
    status, body, _ = api.request("GET", "/healthz")
    assert status == 503
    assert body["redis"] is True
    assert body["workers"] == 0
    assert body["display_heartbeat_age_s"] is None


def test_openapi_documents_the_job_kinds(api):
    status, schema, _ = api.request("GET", "/openapi.json")
    assert status == 200
    body = schema["paths"]["/api/v1/jobs"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data", "image/png"} <= set(body)
    mapping = schema["components"]["schemas"]["JobSpec"]["discriminator"]["mapping"]
    assert set(mapping) == {
        *("text", "image", "animation", "fill", "clear", "pattern", "demo", "clock", "countdown"),
        *("draw", "progress", "chart", "layout"),
    }


def test_queue_view_lists_queues_and_counts(api):
    before = queued(api)["high"]
    api.submit(kind="clear", priority="high")
    status, body, _ = api.request("GET", "/api/v1/queue")
    assert status == 200
    assert body["queues"]["high"]["queued"] == before + 1
    assert body["workers"] == []
    assert body["now_playing"] is None


@pytest.mark.parametrize(
    "method,path,body",
    [
        ("POST", "/api/v1/jobs", {"kind": "clear"}),
        ("GET", "/pixie/queue?n=3", None),
        ("PUT", "/api/v1/brightness", {"brightness": 10}),
        ("PUT", "/api/v1/schedule", {"windows": []}),
        ("DELETE", "/api/v1/jobs/anything", None),
    ],
)
def test_token_guards_every_mutating_call(guarded, method, path, body):
    for token in ("", "wrong"):
        status, answer, _ = guarded.request(method, path, body, token=token)
        assert status == 401, (method, path, token)
        assert "API token" in answer["error"]
    assert guarded.r.llen("rq:queue:default") == 0


def test_token_lets_the_owner_in_and_reads_stay_open(guarded):
    status, body, _ = guarded.request("POST", "/api/v1/jobs", {"kind": "clear"})
    assert status == 202
    assert guarded.request("GET", f"/api/v1/jobs/{body['id']}", token="")[0] == 200
    assert guarded.request("GET", "/api/v1/queue", token="")[0] == 200


def test_a_timed_job_without_a_scheduler_is_refused_and_nothing_is_queued(api):
    """This appliance runs no worker --with-scheduler: a timed job would never play."""
    before = queued(api)
    status, body, _ = api.request("POST", "/api/v1/jobs", {"kind": "clear", "in_s": 5})
    assert status == 409 and body["error"].startswith("no scheduler runs for timed jobs: a worker --with-scheduler")
    assert queued(api) == before
