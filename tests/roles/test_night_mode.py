"""pixie_app's night mode from the inventory (pixie_app_night_mode), applied for REAL by
ansible-playbook through a real appliance's API (pixie-web behind a token, real Redis):
PUT only when the windows differ, a second run changes nothing, a window the device
refuses fails the run naming the variable and keeps the windows it had."""

from __future__ import annotations

import pytest
from roles_support import ROLES, role_defaults, role_tasks

from appliance import Appliance

TOKEN = "night-mode-test-token"


def apply(run_play, appliance, night_mode):
    plays = [
        {
            "hosts": "localhost",
            "gather_facts": False,
            # the role's own defaults and vars, its night-mode tasks only (nothing else touches this machine)
            "vars_files": [*role_defaults("pixie_common", "pixie_app"), str(ROLES / "pixie_app" / "vars" / "main.yml")],
            "tasks": [
                {"name": "Night mode", "ansible.builtin.import_tasks": role_tasks("pixie_app", "night_mode.yml")}
            ],
        }
    ]
    port = appliance.url.rsplit(":", 1)[1]
    return run_play(
        plays,
        extra_vars={
            "pixie_common_web_port": int(port),
            "pixie_common_web_token_enabled": True,
            "pixie_common_web_token": TOKEN,
            "pixie_app_night_mode": night_mode,
        },
    )


@pytest.fixture(scope="module")
def device(redis_server, tmp_path_factory):
    appliance = Appliance(redis_server, tmp_path_factory.mktemp("night"), token=TOKEN)
    appliance.start_web()
    yield appliance
    appliance.stop()


@pytest.fixture
def windows(device):
    yield lambda: device.request("GET", "/api/v1/schedule")[1]["windows"]
    device.request("PUT", "/api/v1/schedule", {"windows": []})


def test_the_declared_windows_are_put_once_then_left(run_play, device, windows):
    declared = [
        {"start": "22:30", "end": "07:00", "brightness": 0, "fade_min": 10},
        {"start": "12:00", "end": "13:00", "brightness": 40, "days": ["sat", "sun"]},
    ]
    first = apply(run_play, device, declared)
    assert first.rc == 0 and first.changed == 1, first.stdout
    every_day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    assert windows() == [
        {"start": "22:30", "end": "07:00", "brightness": 0, "days": every_day, "fade_min": 10},
        {"start": "12:00", "end": "13:00", "brightness": 40, "days": ["sat", "sun"], "fade_min": 0},
    ]
    again = apply(run_play, device, declared)
    assert again.rc == 0 and again.changed == 0, again.stdout
    off = apply(run_play, device, [])
    assert off.rc == 0 and off.changed == 1 and windows() == []


def test_a_window_the_device_refuses_fails_naming_the_variable_and_keeps_the_old(run_play, device, windows):
    good = [{"start": "22:30", "end": "07:00", "brightness": 0}]
    assert apply(run_play, device, good).rc == 0
    bad = apply(run_play, device, [{"start": "22:30", "end": "07:00", "brightness": 150}])
    assert bad.rc != 0
    message = bad.result("Say why the device refused the night mode")["msg"]
    assert message.startswith("pixie_app_night_mode: ") and "brightness" in message, message
    assert [w["brightness"] for w in windows()] == [0]
    assert TOKEN not in bad.stdout  # the PUT's headers are not logged
