"""pixie_app's health gate (prove.yml, what site.yml runs after switching to a new
release), for REAL by ansible-playbook: a real appliance passes it; a release that
never answers healthy fails it after pixie_app_health_timeout_s seconds of the
controller's clock, however long each try takes (in an emulated VM one try over
SSH took 6 s, and a gate counting tries waited 540 s for its 180)."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from roles_support import app_tasks_play

TOKEN = "gate-test-token"
PLAYS = app_tasks_play("Prove", "prove.yml")
HEALTH_TASK = "Wait for /healthz to answer 200 (0.1.0-abc)"


def prove(run_play, port: int, timeout_s: int):
    return run_play(
        PLAYS,
        extra_vars={
            "pixie_common_web_port": port,
            "pixie_common_web_token_enabled": True,
            "pixie_common_web_token": TOKEN,
            "pixie_app_health_timeout_s": timeout_s,
            "__pixie_app_proving": "/opt/pixie/releases/0.1.0-abc",
        },
    )


def seconds(run, name: str) -> float:
    """How long the task took, from the JSON callback's own timestamps."""
    (task,) = [t["task"] for p in run.data["plays"] for t in p["tasks"] if t["task"]["name"] == name]
    start, end = (datetime.fromisoformat(task["duration"][k].replace("Z", "+00:00")) for k in ("start", "end"))
    return (end - start).total_seconds()


@pytest.fixture
def hung_release():
    """Stands in for a broken release's pixie-web: each request takes 4 s, then 503."""

    class Slow(BaseHTTPRequestHandler):
        def do_GET(self):
            time.sleep(4)
            self.send_response(503)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def test_a_release_that_plays_passes_the_gate(run_play, make_appliance):
    appliance = make_appliance(token=TOKEN)
    appliance.start_web()
    appliance.start_worker("1")
    appliance.start_display()
    run = prove(run_play, int(appliance.url.rsplit(":", 1)[1]), timeout_s=120)
    assert run.rc == 0, run
    probe = run.result("Submit the probe job")["json"]["id"]
    assert appliance.state(probe)["state"] == "done"


def test_a_release_that_never_answers_fails_after_its_seconds_not_its_tries(run_play, hung_release):
    run = prove(run_play, hung_release, timeout_s=10)
    assert run.rc != 0
    assert run.result(HEALTH_TASK)["failed"] is True
    assert "503" in run.result(HEALTH_TASK)["msg"]
    # 10 s of tries 6 s apart: the deadline ends it after the try that crosses it
    # (10-16 s); counting tries (5 of them) would take 30 s
    assert 10 <= seconds(run, HEALTH_TASK) < 24
