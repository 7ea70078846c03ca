"""What pixie_app applies from the inventory through the device's API (its `declared`
entry point: pixie_app_night_mode, pixie_app_apps), for REAL by ansible-playbook against a
real appliance's API (pixie-web behind a token, real Redis): a second run changes nothing,
what the device refuses fails the run naming the variable and keeps what it had, and what
users made through the API is left alone."""

from __future__ import annotations

import pytest
from roles_support import app_tasks_play

from appliance import Appliance
from media import animated
from pixie import store
from testsupport.servers import free_port

TOKEN = "declared-test-token"


# the role's own defaults and vars, its declared tasks only (nothing else touches this machine)
PLAYS = app_tasks_play("Declared", "declared.yml")


def apply(run_play, appliance, night_mode=None, apps=None):
    port = appliance.url.rsplit(":", 1)[1]
    return run_play(
        PLAYS,
        extra_vars={
            "pixie_common_web_port": int(port),
            "pixie_common_web_token_enabled": True,
            "pixie_common_web_token": TOKEN,
            "pixie_app_night_mode": night_mode,
            "pixie_app_apps": apps or {},
        },
    )


@pytest.fixture(scope="module")
def device(redis_server, tmp_path_factory):
    appliance = Appliance(redis_server, tmp_path_factory.mktemp("declared"), token=TOKEN)
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


@pytest.fixture
def apps(device):
    yield lambda: {a["name"]: a for a in device.request("GET", "/api/v1/apps")[1]["apps"]}
    for name in list(device.request("GET", "/api/v1/apps")[1]["apps"]):
        device.request("DELETE", f"/api/v1/apps/{name['name']}", token=TOKEN)


def test_the_declared_apps_are_put_then_a_second_run_changes_nothing(run_play, device, apps):
    assert device.request("PUT", "/api/v1/apps/users", {"content": {"kind": "clear"}}, token=TOKEN)[0] == 200
    declared = {
        "clock": {"content": {"kind": "clock"}, "dwell_s": 10, "position": 0},
        "hello": {"content": {"kind": "text", "text": "Hello", "color": "orange"}},
    }
    first = apply(run_play, device, apps=declared)
    assert first.rc == 0 and first.changed == 1, first.stdout  # one task, two items
    got = apps()
    assert [name for name in got] == ["clock", "users", "hello"]
    assert got["hello"]["content"]["color"] == "#ffa500" and got["clock"]["dwell_s"] == 10
    again = apply(run_play, device, apps=declared)
    assert again.rc == 0 and again.changed == 0, again.stdout
    assert apps() == got
    declared["hello"]["dwell_s"] = 4
    changed = apply(run_play, device, apps=declared)
    assert changed.rc == 0 and changed.changed == 1 and apps()["hello"]["dwell_s"] == 4
    assert apps()["clock"]["rev"] == got["clock"]["rev"]  # only what changed was put again


def test_a_declared_animation_is_read_from_the_controller_and_sent_only_when_it_changed(
    run_play, device, apps, tmp_path
):
    gif = tmp_path / "blink.gif"
    gif.write_bytes(animated("GIF"))
    mornings = [{"start": "07:00", "end": "08:30", "days": ["mon", "fri"]}]
    declared = {"blink": {"content": {"kind": "animation", "file": str(gif)}, "schedule": mornings, "lifetime_s": 900}}
    first = apply(run_play, device, apps=declared)
    assert first.rc == 0 and first.changed == 1, first.stdout
    assert device.r.get(store.app_media_key("blink")) == gif.read_bytes()
    assert (apps()["blink"]["schedule"], apps()["blink"]["lifetime_s"]) == (mornings, 900)
    again = apply(run_play, device, apps=declared)
    assert again.rc == 0 and again.changed == 0, again.stdout
    gif.write_bytes(animated("GIF", colors=((255, 255, 0), (0, 0, 0))))
    changed = apply(run_play, device, apps=declared)
    assert changed.rc == 0 and changed.changed == 1
    assert device.r.get(store.app_media_key("blink")) == gif.read_bytes()
    gif.unlink()
    missing = apply(run_play, device, apps=declared)
    assert missing.rc != 0 and "blink.gif" in missing.stdout
    assert device.r.get(store.app_media_key("blink")) is not None  # what it had is kept


def test_an_app_the_device_refuses_fails_naming_it_and_the_others_are_put(run_play, device, apps):
    declared = {"bad": {"content": {"kind": "text", "text": ""}}, "good": {"content": {"kind": "clear"}}}
    result = apply(run_play, device, apps=declared)
    assert result.rc != 0
    message = result.result("Say why the device refused an app")["msg"]
    assert message.startswith("pixie_app_apps.bad: content.text: "), message
    assert set(apps()) == {"good"}
    assert TOKEN not in result.stdout


def test_a_declared_app_with_live_values_is_written_unsafe_and_put_as_written(run_play, device, apps, tmp_path):
    """An inventory's text with {{topic}} placeholders, tagged !unsafe as the role's defaults say (else
    Ansible would template the braces itself): put with its placeholders intact; a bad one fails the
    run naming the app and the field, as the API does."""
    inventory = tmp_path / "apps.yml"
    inventory.write_text(
        "pixie_app_apps:\n"
        '  temp: {content: {kind: text, text: !unsafe "{{home/temp|round:1}} °C"}}\n'
        '  bad: {content: {kind: text, text: !unsafe "{{home/temp|bold}}"}}\n'
    )
    plays = [{**PLAYS[0], "vars_files": [*PLAYS[0]["vars_files"], str(inventory)]}]
    port = int(device.url.rsplit(":", 1)[1])
    token = {"pixie_common_web_port": port, "pixie_common_web_token_enabled": True, "pixie_common_web_token": TOKEN}
    result = run_play(plays, extra_vars=token)
    assert result.rc != 0
    message = result.result("Say why the device refused an app")["msg"]
    assert message.startswith("pixie_app_apps.bad: content.text: {{home/temp|bold}}: unknown filter 'bold'"), message
    assert set(apps()) == {"temp"}
    assert apps()["temp"]["content"]["text"] == "{{home/temp|round:1}} °C"
    assert apps()["temp"]["live"][0]["topic"] == "home/temp"


def test_a_check_run_against_a_device_without_its_api_yet_skips_what_it_cannot_ask(run_play):
    nothing_there = {"pixie_common_web_port": free_port(), "pixie_app_apps": {"a": {"content": {"kind": "clear"}}}}
    result = run_play(PLAYS, extra_vars={**nothing_there, "pixie_app_night_mode": []}, check=True)
    assert result.rc == 0 and result.changed == 0, result.stdout
