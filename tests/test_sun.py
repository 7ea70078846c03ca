"""Windows at sunrise and sunset, end to end with the appliance's real processes on the headless
STAND-IN panel. The clock is the real one: the test chooses the place, one whose sun sets seconds after
the appliance is up, and night mode and the apps' windows switch as it sets. Where no location is set,
a sun window is refused with the field named: over HTTP, from the CLI and over MQTT (one rule)."""

import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import astral
import astral.sun
import pytest

from pixie import schedule
from testsupport.mqtt import Client
from testsupport.servers import wait_for

PIXIE = Path(sys.executable).parent / "pixie"  # the installed entry point
GREEN, BLUE = (0, 255, 0), (0, 0, 255)
DIM_BLUE = (0, 0, 51)  # blue at 20 %, as the stand-in applies brightness
NO_LOCATION = "needs the device's location, which is not set"


def sunset_at(moment: datetime, latitude: float = 0.0) -> tuple[float, float]:
    """A place on `latitude` whose sunset on `moment`'s day is `moment` (astral's sunset: the library the
    appliance uses; the pure tests hold both to published times). The sun sets 4 minutes earlier for
    each degree east: bisect between the two whole degrees that bracket it."""

    def sunset(longitude: float) -> datetime:
        return astral.sun.sunset(astral.Observer(latitude, longitude), moment.date(), moment.tzinfo)

    for west in range(-180, 180):
        east = west + 1
        if sunset(east) <= moment <= sunset(west) and sunset(west) - sunset(east) < timedelta(minutes=10):
            break
    else:
        raise AssertionError(f"no longitude has its sunset at {moment}")
    for _ in range(40):
        middle = (west + east) / 2
        west, east = (west, middle) if sunset(middle) <= moment else (middle, east)
    return latitude, west


def cli(*args: str, home: Path) -> subprocess.CompletedProcess:
    """`pixie` as installed, with a home of its own and no PIXIE_* from outside."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXIE_") and k != "XDG_CONFIG_HOME"}
    return subprocess.run([str(PIXIE), *args], env={**env, "HOME": str(home)}, capture_output=True, text=True)


def solid(frame: bytes):
    found = set(zip(frame[0::3], frame[1::3], frame[2::3], strict=True))
    return found.pop() if len(found) == 1 else None


def test_night_mode_and_the_apps_switch_as_the_sun_sets(make_appliance, tmp_path):
    zone = schedule.local_zone()  # the appliance's processes share this one's
    sets = datetime.now(zone).replace(microsecond=0) + timedelta(seconds=40)
    latitude, longitude = sunset_at(sets)
    stack = make_appliance(location_latitude=latitude, location_longitude=longitude)
    stack.start_web()
    stack.start_worker("1")
    stack.start_display()
    for name, color, window in (("day", "lime", "sunrise-sunset"), ("night", "blue", "sunset-sunrise")):
        start, end = window.split("-")
        app = {"content": {"kind": "fill", "color": color}, "dwell_s": 0.5, "schedule": [{"start": start, "end": end}]}
        assert stack.request("PUT", f"/api/v1/apps/{name}", app)[0] == 200
    home = tmp_path / "home"
    home.mkdir()
    set_ = cli("--host", stack.url, "schedule", "set", "sunset-sunrise=20", home=home)
    assert set_.returncode == 0, set_.stderr
    assert "sunset-sunrise   20 %" in set_.stdout and "no window open" in set_.stdout, set_.stdout
    night = stack.request("GET", "/api/v1/schedule")[1]
    assert abs(datetime.fromisoformat(night["next_change"]) - sets) < timedelta(seconds=1), (night, sets)
    wait_for(lambda: all(a["rendered"] for a in stack.request("GET", "/api/v1/apps")[1]["apps"]), what="rendered")
    listed = {a["name"]: a["on_schedule"] for a in stack.request("GET", "/api/v1/apps")[1]["apps"]}
    assert listed == {"day": True, "night": False}
    wait_for(lambda: solid(stack.frames()[-1][1]) == GREEN, what="the day app")
    assert time.time() < sets.timestamp() - 3, "the appliance took too long to start: the sun set meanwhile"
    mark = len(stack.frames())
    wait_for(lambda: solid(stack.frames()[-1][1]) == DIM_BLUE, timeout=60, what="the night app, dimmed")
    swaps = [(ns / 1e9, solid(frame)) for ns, frame in stack.frames()[mark:]]
    changed = [t for t, color in swaps if color != GREEN]
    # never before the sun sets; the display looks each second (3 s: a busy machine)
    assert sets.timestamp() <= changed[0] < sets.timestamp() + 3, (changed[0] - sets.timestamp(), swaps[:5])
    dimmed = [t for t, color in swaps if color == DIM_BLUE]
    assert dimmed[0] < sets.timestamp() + 3, dimmed[0] - sets.timestamp()
    assert GREEN not in [color for t, color in swaps if t >= changed[0] + 1]  # the day app is off
    listed = {a["name"]: a["on_schedule"] for a in stack.request("GET", "/api/v1/apps")[1]["apps"]}
    assert listed == {"day": False, "night": True}
    night = stack.request("GET", "/api/v1/schedule")[1]
    assert (night["window_open"], night["brightness"]) == (True, 20)
    print(f"switched {changed[0] - sets.timestamp():.3f} s after sunset, dimmed {dimmed[0] - sets.timestamp():.3f} s")


@pytest.fixture(scope="module")
def unlocated(redis_server, broker, tmp_path_factory):
    """An appliance with no location (web and MQTT bridge): sun windows are refused."""
    from appliance import Appliance

    appliance = Appliance(
        redis_server, tmp_path_factory.mktemp("unlocated"), mqtt_enabled="1", mqtt_port=broker, mqtt_device="sun"
    )
    appliance.start_web()
    appliance.start_mqtt()
    yield appliance
    appliance.stop()


NIGHT = {"start": "22:00", "end": "07:00", "brightness": 5, "days": ["sun"], "fade_min": 0}


def test_without_a_location_http_refuses_a_sun_window_naming_the_field_and_keeps_what_was_set(unlocated):
    assert unlocated.request("PUT", "/api/v1/schedule", {"windows": [NIGHT]})[0] == 200
    windows = [NIGHT, {"start": "21:00", "end": "sunrise+30m", "brightness": 0}]
    status, body, _ = unlocated.request("PUT", "/api/v1/schedule", {"windows": windows})
    assert status == 422 and body["error"].startswith(f"windows.1.end: sunrise+30m {NO_LOCATION}"), body
    assert unlocated.request("GET", "/api/v1/schedule")[1]["windows"] == [NIGHT]
    app = {"content": {"kind": "fill", "color": "blue"}, "schedule": [{"start": "sunset-30m", "end": "23:00"}]}
    status, body, _ = unlocated.request("PUT", "/api/v1/apps/evening", app)
    assert status == 422 and body["error"].startswith(f"schedule.0.start: sunset-30m {NO_LOCATION}"), body
    assert unlocated.request("GET", "/api/v1/apps/evening")[0] == 404
    wall_clock = {**app, "schedule": [{"start": "18:00", "end": "23:00"}]}  # needs no location
    assert unlocated.request("PUT", "/api/v1/apps/evening", wall_clock)[0] == 200
    unlocated.request("DELETE", "/api/v1/apps/evening")


def test_without_a_location_the_cli_says_why_in_one_line(unlocated, tmp_path):
    refused = cli("--host", unlocated.url, "schedule", "set", "sunset-30m-sunrise=10", home=tmp_path)
    assert refused.returncode == 1, (refused.stdout, refused.stderr)
    assert refused.stderr.strip() == f"pixie: 422 windows.0.start: sunset-30m {NO_LOCATION} " + (
        "([location] latitude and longitude; pixie_app_location_latitude/longitude)"
    )
    app = cli("--host", unlocated.url, "app", "set", "dusk", "--fill", "red", "--window", "sunset-23:00", home=tmp_path)
    assert app.returncode == 1 and f"schedule.0.start: sunset {NO_LOCATION}" in app.stderr, app.stderr


def test_without_a_location_mqtt_publishes_the_reason_http_gives(unlocated, broker):
    c = Client(broker, "pixie/sun/availability", "pixie/sun/error")
    try:
        c.wait(lambda: [m for m in c.on("pixie/sun/availability") if m.payload == b"online"], "the bridge online")
        app = {"content": {"kind": "fill", "color": "blue"}, "schedule": [{"start": "sunset", "end": "sunrise"}]}
        _, answer, _ = unlocated.request("PUT", "/api/v1/apps/evening", app)
        c.publish("pixie/sun/apps/evening", app)
        error = c.wait(lambda: c.json_on("pixie/sun/error"), "an error")[0]
        assert error == {"topic": "pixie/sun/apps/evening", "error": answer["error"]}
        assert answer["error"].startswith(f"schedule.0.start: sunset {NO_LOCATION}")
        assert unlocated.request("GET", "/api/v1/apps/evening")[0] == 404
    finally:
        c.close()
