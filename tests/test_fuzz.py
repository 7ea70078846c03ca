"""API fuzzing with schemathesis against the app's own OpenAPI document, on a
running appliance (real web, display and Redis; the render worker joins
afterwards). Every phase runs: the schema's examples, coverage (boundaries and
type violations of every field), random fuzzing and stateful sequences
(POST a job, then GET / DELETE / requeue it). Checks: all of them — no 5xx,
every status code, content type and body as documented, schema-invalid input
rejected, schema-valid input accepted — and no response slower than
MAX_RESPONSE_S (no hang). As on a shared network: over HTTPS (a CA made for the run) with an
admin token, so the guard and the audit are in every call's path.

Bounded for CI (~1-2 minutes): FUZZ_EXAMPLES per operation, a fixed seed.
More: `PIXIE_FUZZ_EXAMPLES=500 PIXIE_FUZZ_SEED=random pytest tests/test_fuzz.py -s`.

What it found and got fixed in app/pixie/web.py: 500 on job ids RQ refuses
(`/api/v1/jobs/%29`), 500 on non-ASCII `data_b64`, FastAPI's own 400/404/405
bodies not in the documented {"error"} shape, 405 without the path's other
methods in Allow, `{"brightness": true}` accepted, the legacy `n` and the
multipart fields and `duration_s`/`repeat` exclusivity not said in the schema.
"""

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from appliance import Appliance
from testsupport import tls
from testsupport.servers import wait_for

FUZZ_EXAMPLES = int(os.environ.get("PIXIE_FUZZ_EXAMPLES", "25"))
SEED = os.environ.get("PIXIE_FUZZ_SEED", "20261123")
MAX_RESPONSE_S = 5.0
RUN_TIMEOUT_S = int(os.environ.get("PIXIE_FUZZ_TIMEOUT_S", "600"))

# Per-operation expectations schemathesis cannot read from the schema:
# - an upload's bytes are a schema-valid "binary string" yet may be no image, too many frames or too
#   large: 413/415/422 are right answers to schema-valid uploads; a timed job's `at` may be past or
#   more than a day ahead (422), and this appliance runs no scheduler for one (409);
# - DELETE cancels a job and keeps its record (state "canceled", readable for a day, by design), so
#   use_after_free (a deleted resource must 404) does not apply;
# - an app's file likewise (and an image or animation app without one is refused), and a full
#   rotation (display.max_apps) refuses a new app: 422 is a right answer to a schema-valid PUT;
# - a window's sun offset matches its pattern up to 99h but is at most 12h (a pattern cannot bound the
#   sum of its parts): 422 is a right answer to a schema-valid PUT of the schedule or an app;
# - a font or icon upload likewise (not a font, a built-in font's name, a full library: 409), and a
#   built-in font cannot be deleted (422);
# - a restore's document may be schema-valid and still refused (422): a newer format, a sha256 that does not
#   match, an app or a file inside that its own checks refuse;
# - /healthz answers a documented 503 while no render worker runs (during the fuzz, on purpose);
# - /api/v1/events is a stream that never ends (tests/test_events.py reads it).
CONFIG = """
[[operations]]
include-name = "GET /api/v1/events"
enabled = false

[[operations]]
include-name = "POST /api/v1/jobs"
checks.positive_data_acceptance.expected-statuses = [202, 409, 413, 415, 422]

[[operations]]
include-name = "PUT /api/v1/apps/{name}"
checks.positive_data_acceptance.expected-statuses = [200, 413, 415, 422]

[[operations]]
include-name = "POST /api/v1/restore"
checks.positive_data_acceptance.expected-statuses = [200, 422]

[[operations]]
include-name = "PUT /api/v1/schedule"
checks.positive_data_acceptance.expected-statuses = [200, 422]

[[operations]]
include-name = "PUT /api/v1/fonts/{name}"
checks.positive_data_acceptance.expected-statuses = [200, 409, 413, 415, 422]

[[operations]]
include-name = "DELETE /api/v1/fonts/{name}"
checks.positive_data_acceptance.expected-statuses = [200, 404, 422]

[[operations]]
include-name = "PUT /api/v1/icons/{name}"
checks.positive_data_acceptance.expected-statuses = [200, 409, 413, 415, 422]

[[operations]]
include-name = "GET /healthz"
checks.not_a_server_error.expected-statuses = [200, 405, 503]
"""
EXCLUDED_CHECKS = "use_after_free"

BEFORE = [
    {"kind": "text", "text": "queued before the fuzz", "priority": "low"},
    {"kind": "fill", "color": "#102030", "priority": "default", "duration_s": 1},
    {"kind": "pattern", "pattern": "grid", "priority": "high", "repeat": 1},
    {"kind": "demo", "n": 2, "priority": "low", "name": "before-fuzz"},
]
SETTLED = ("ready", "playing", "done", "failed", "canceled")
TOKEN = "fuzz-admin-token"


def schemathesis_cli() -> str:
    beside = Path(sys.executable).parent / "st"
    if not beside.exists():
        pytest.fail("schemathesis is not installed: pip install -r requirements-dev.txt (schemathesis==4.32.5)")
    return str(beside)


@pytest.fixture(scope="module")
def target(redis_server, tmp_path_factory):
    """Web and display, no render worker yet: what was queued before the fuzz stays queued through it."""
    folder = tmp_path_factory.mktemp("fuzz")
    issued = tls.issue(folder / "tls")
    appliance = Appliance(
        redis_server,
        folder,
        token=TOKEN,
        ca=issued.ca,
        web_tls_cert=issued.cert,
        web_tls_key=issued.key,
        web_max_body_bytes=300_000,
        render_max_frames=60,
        render_max_animation_s=10,
        worker_job_timeout_s=20,
        # the one worker renders every job the fuzz got accepted (on the device systemd restarts it at 500)
        worker_max_jobs=100_000,
        # no worker renders during the fuzz: all it gets accepted waits (past the cap a POST is refused, 429,
        # and the fuzz would reach no further into it; tests/test_security.py holds the cap)
        web_max_queued_per_priority=1_000_000,
        # a place, so a schema-valid sunrise/sunset window is a valid one (test_sun: refused without)
        location_latitude="52.52",
        location_longitude="13.40",
    )
    try:
        appliance.start_web()
        appliance.start_display()
        yield appliance
    finally:
        appliance.stop()


def job_records(appliance) -> dict[str, dict]:
    out = {}
    for key in appliance.r.scan_iter("pixie:job:*", count=500):
        record = {k.decode(): v.decode() for k, v in appliance.r.hgetall(key).items()}
        out[key.decode().removeprefix("pixie:job:")] = record
    return out


def test_fuzz_the_api_from_its_own_schema(target, tmp_path):
    before = {target.submit(**job): job for job in BEFORE}
    queue_before = {p: target.r.lrange(f"rq:queue:{p}", 0, -1) for p in ("high", "default", "low")}
    states_before = {job_id: target.state(job_id) for job_id in before}

    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    seed = str(random.randrange(2**31)) if SEED == "random" else SEED
    reports = tmp_path / "reports"
    cmd = [
        schemathesis_cli(),
        "--config-file",
        str(config),
        "run",
        f"{target.url}/openapi.json",
        "--tls-verify",
        str(target.ca),
        "--header",
        f"Authorization: Bearer {TOKEN}",
        "--checks",
        "all",
        "--exclude-checks",
        EXCLUDED_CHECKS,
        "--max-examples",
        str(FUZZ_EXAMPLES),
        "--seed",
        seed,
        # One worker: hypothesis's lambda descriptions are not thread-safe on Python 3.11 (AST recursion error).
        "--workers",
        "1",
        "--request-timeout",
        "15",
        "--max-response-time",
        str(MAX_RESPONSE_S),
        "--report",
        "json,junit",
        "--report-dir",
        str(reports),
        "--no-color",
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "", "NO_COLOR": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, env=env, cwd=tmp_path)
    report = json.loads(next(reports.glob("json-*.json")).read_text())
    cases = report["test_cases"]
    print(
        f"\nschemathesis {report['schemathesis_version']}: {cases['generated']} cases over "
        f"{report['operations']['tested']} operations in {report['running_time']:.1f}s (seed {seed}, "
        f"{FUZZ_EXAMPLES} examples per operation), {cases['with_failures']} with failures, "
        f"{len(report['errors'])} errors; phases "
        + ", ".join(f"{name} {phase['status']}" for name, phase in report["phases"].items())
    )
    assert proc.returncode == 0 and not report["failures"] and not report["errors"], (
        proc.stdout[-12000:] + proc.stderr[-3000:]
    )
    assert report["operations"]["tested"] == report["operations"]["total"] - 1 >= 13  # all but the event stream
    assert cases["generated"] >= 100

    # The appliance survived and nothing queued before the fuzz was touched.
    assert target.procs["web"].poll() is None and target.procs["display"].poll() is None
    assert target.request("GET", "/healthz")[1]["redis"] is True
    for job_id in before:
        assert target.state(job_id) == states_before[job_id]
    for priority, ids in queue_before.items():
        now = target.r.lrange(f"rq:queue:{priority}", 0, -1)
        assert [i for i in now if i in ids] == ids, f"queue {priority} lost or reordered jobs queued before the fuzz"

    # A render worker joins: every job the fuzz got accepted is rendered or fails with a reason; none is lost.
    target.start_worker("1")
    records = job_records(target)
    assert set(before) <= set(records)

    def settled():
        pending = [i for i, rec in job_records(target).items() if target.state(i)["state"] not in SETTLED]
        return not pending or print(f"{len(pending)} jobs still to render") or False

    wait_for(settled, timeout=240, interval=1.0, what="every accepted job rendered or failed")
    final = {job_id: target.state(job_id) for job_id in records}
    failed = {i: s["reason"] for i, s in final.items() if s["state"] == "failed"}
    assert all(failed.values()), f"failed jobs without a reason: {failed}"
    counts = {state: sum(s["state"] == state for s in final.values()) for state in SETTLED}
    print(f"jobs accepted during the fuzz: {len(records) - len(before)}; all jobs now: {counts}")
    reasons = sorted({reason[:100] for reason in failed.values()})
    print("failure reasons:\n  " + "\n  ".join(reasons))
    assert target.procs["worker1"].poll() is None and target.procs["display"].poll() is None


# What the fuzzer found, pinned down (fixed in app/pixie/web.py, spec.py, render/).


@pytest.mark.parametrize("path", ["/api/v1/jobs/%29", "/api/v1/jobs/%C3%A9t%C3%A9", "/api/v1/jobs/a%20b"])
@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_job_ids_rq_refuses_are_404_not_500(target, method, path):
    status, body, _ = target.request(method, path)
    assert status == 404 and body["error"].startswith("no job"), (status, body)
    assert target.request("POST", path + "/requeue")[0] == 404


@pytest.mark.parametrize(
    "job,reason",
    [
        ({"kind": "image", "data_b64": "\u00e9t\u00e9"}, "not valid base64"),
        ({"kind": "text", "text": "hi", "scroll": 0}, "scroll"),
        ({"kind": "text", "text": "hi", "size": "12"}, "size"),
        ({"kind": "demo", "n": True}, "n"),
    ],
)
def test_json_bodies_are_typed_as_json(target, job, reason):
    status, body, _ = target.request("POST", "/api/v1/jobs", job)
    assert status == 422 and reason in body["error"], (status, body)


@pytest.mark.parametrize("bad", [True, "40"])
def test_brightness_is_a_json_integer(target, bad):
    assert target.request("PUT", "/api/v1/brightness", {"brightness": bad})[0] == 422
    assert target.request("PUT", "/api/v1/brightness", {"brightness": 40.0})[:2] == (200, {"brightness": 40})


def test_framework_errors_have_the_documented_shape(target):
    status, body, _ = target.request("PUT", "/api/v1/brightness", b"\xff", {"Content-Type": "application/json"})
    assert status == 400 and set(body) == {"error"}
    status, body, _ = target.request("GET", "/api/v1/nothing-here")
    assert status == 404 and set(body) == {"error"}
    status, body, headers = target.request("PATCH", "/api/v1/jobs")
    assert status == 405 and set(body) == {"error"}
    assert set(headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_schema_says_what_the_code_checks(target):
    schema = target.request("GET", "/openapi.json")[1]
    (n,) = [p for p in schema["paths"]["/pixie/queue"]["get"]["parameters"] if p["name"] == "n"]
    assert n["required"] and n["schema"] == {"type": "integer", "minimum": 1, "maximum": 999}
    assert schema["components"]["schemas"]["Text"]["not"]["required"] == ["duration_s", "repeat"]


def test_pixel_font_shows_characters_it_lacks_instead_of_failing():
    from pixie import spec
    from pixie.render import text

    job = spec.parse({"kind": "text", "text": "caf\u00e9 \u2713 \u65e5\u672c", "font": "pixel"})
    frames = text.text_frames(job, 64, 32)
    assert frames and len(frames[0][0]) == 64 * 32 * 3
