"""MQTT, end to end with a real mosquitto broker: commands published by a client (tests/mqttclient.py,
from MQTT 3.1.1's terms) reach the appliance's real processes through pixie-mqtt, and its state, job
events, errors and Home Assistant discovery come back. The panel is the headless STAND-IN."""

import base64
import importlib.metadata
import io
import json
import re
import signal
from datetime import datetime, timedelta
from pathlib import Path

import jinja2
import pytest
from PIL import Image

from pixie import spec as specs
from pixie.config import Render
from pixie.render import kinds
from testsupport import servers
from testsupport.mqtt import Client
from testsupport.servers import wait_for

RED, BLUE, WHITE, BLACK = (255, 0, 0), (0, 0, 255), (255, 255, 255), (0, 0, 0)
MAX_BYTES = 65536
ENTITIES = 12  # the discovery configs a device publishes (and a number for each progress app)
# Home Assistant's MQTT discovery options and their types, per platform, as its integration pages document
# them in their `{% configuration %}` blocks (home-assistant/home-assistant.io, source/_integrations/
# light.mqtt.markdown (the default schema), notify.mqtt, text.mqtt, select.mqtt, switch.mqtt, button.mqtt,
# sensor.mqtt, number.mqtt and mqtt.markdown's `origin`): (required, {option: type}). The docs' type names, as
# Python types (a float may be written as an integer: Home Assistant coerces it):
STRING = TEMPLATE = ICON = str
INTEGER, BOOLEAN, LIST, MAP, FLOAT = int, bool, list, dict, (int, float)
COMMON = {
    "name": STRING,
    "unique_id": STRING,
    "availability_topic": STRING,
    "device": MAP,
    "origin": MAP,
    "qos": INTEGER,
    "entity_category": STRING,
    "icon": ICON,
}
PLATFORMS = {
    "light": (
        {"command_topic"},
        {
            "command_topic": STRING,
            "state_topic": STRING,
            "state_value_template": TEMPLATE,
            "brightness_command_topic": STRING,
            "brightness_state_topic": STRING,
            "brightness_value_template": TEMPLATE,
            "brightness_scale": INTEGER,
            "payload_on": STRING,
            "payload_off": STRING,
            "optimistic": BOOLEAN,
            "retain": BOOLEAN,
            "on_command_type": STRING,
        },
    ),
    "notify": ({"command_topic"}, {"command_topic": STRING, "command_template": TEMPLATE, "retain": BOOLEAN}),
    "text": (
        {"command_topic"},
        {
            "command_topic": STRING,
            "command_template": TEMPLATE,
            "max": INTEGER,
            "min": INTEGER,
            "mode": STRING,
            "pattern": STRING,
            "state_topic": STRING,
            "value_template": TEMPLATE,
            "retain": BOOLEAN,
        },
    ),
    "select": (
        {"command_topic", "options"},
        {
            "command_topic": STRING,
            "command_template": TEMPLATE,
            "options": LIST,
            "state_topic": STRING,
            "value_template": TEMPLATE,
            "optimistic": BOOLEAN,
            "retain": BOOLEAN,
        },
    ),
    "switch": (
        {"command_topic"},
        {
            "command_topic": STRING,
            "state_topic": STRING,
            "value_template": TEMPLATE,
            "payload_on": STRING,
            "payload_off": STRING,
            "state_on": STRING,
            "state_off": STRING,
            "optimistic": BOOLEAN,
            "retain": BOOLEAN,
            "device_class": STRING,
        },
    ),
    "button": (
        {"command_topic"},
        {"command_topic": STRING, "payload_press": STRING, "device_class": STRING, "retain": BOOLEAN},
    ),
    "sensor": (
        {"state_topic"},
        {
            "state_topic": STRING,
            "value_template": TEMPLATE,
            "unit_of_measurement": STRING,
            "state_class": STRING,
            "device_class": STRING,
            "suggested_display_precision": INTEGER,
        },
    ),
    "number": (
        {"command_topic"},
        {
            "command_topic": STRING,
            "command_template": TEMPLATE,
            "state_topic": STRING,
            "value_template": TEMPLATE,
            "min": FLOAT,
            "max": FLOAT,
            "step": FLOAT,
            "mode": STRING,
            "unit_of_measurement": STRING,
            "device_class": STRING,
            "payload_reset": STRING,
            "optimistic": BOOLEAN,
            "retain": BOOLEAN,
        },
    ),
}
DEVICE = {
    "identifiers": (STRING, LIST),
    "connections": LIST,
    "name": STRING,
    "manufacturer": STRING,
    "model": STRING,
    "sw_version": STRING,
    "hw_version": STRING,
    "configuration_url": STRING,
    "suggested_area": STRING,
    "via_device": STRING,
    "serial_number": STRING,
}
ORIGIN = {"name": STRING, "sw_version": STRING, "support_url": STRING}


def mistyped(config: dict, documented: dict) -> list[str]:
    """The options of `config` its documentation lacks, or of another type than it says: exactly that type
    (JSON's true is not an integer); a list, of strings."""

    def typed(value, expected) -> bool:
        types = expected if isinstance(expected, tuple) else (expected,)
        return type(value) in types and (type(value) is not list or all(type(item) is str for item in value))

    return [key for key, value in config.items() if key not in documented or not typed(value, documented[key])]


def colors(frame: bytes) -> set:
    return set(zip(frame[0::3], frame[1::3], frame[2::3], strict=True))


def solid(frame: bytes):
    found = colors(frame)
    return found.pop() if len(found) == 1 else None


def template(source: str, **values) -> str:
    """A Home Assistant template as HA renders it: Jinja2, with its `to_json` filter."""
    env = jinja2.Environment(autoescape=False)  # noqa: S701 - MQTT payloads, not HTML: as Home Assistant renders them
    env.filters["to_json"] = json.dumps
    return env.from_string(source).render(**values)


def selected_option(select: dict, state: dict) -> str | None:
    """The option Home Assistant's MQTT select shows for a state (homeassistant/components/mqtt/select.py):
    the rendered value; None ("unknown") for `none` in any case; a value not among the options is refused."""
    value = template(select["value_template"], value_json=state)
    if value.lower() == "none":
        return None
    assert value in select["options"], f"Home Assistant refuses {value!r}: not one of {select['options']}"
    return value


def mqtt_appliance(make, port: int, device: str, *groups: str, **settings):
    appliance = make(mqtt_enabled="1", mqtt_port=port, mqtt_device=device, mqtt_groups=",".join(groups), **settings)
    appliance.start_worker("1")
    appliance.start_display()
    appliance.start_mqtt()
    return appliance


@pytest.fixture(scope="module")
def wall(redis_server, broker, tmp_path_factory):
    """An appliance on the broker as device `wall` of group `kitchen`, with its web API."""
    from appliance import Appliance

    tmp = tmp_path_factory.mktemp("wall")
    appliance = mqtt_appliance(
        lambda **s: Appliance(redis_server, tmp, **s),
        broker,
        "wall",
        "kitchen",
        mqtt_max_payload_bytes=MAX_BYTES,
        mqtt_name="Kitchen Wall",
    )
    appliance.start_web()
    online(broker, "wall")
    yield appliance
    appliance.stop()


@pytest.fixture
def client(broker):
    made = []

    def make(*filters, **kwargs) -> Client:
        made.append(Client(broker, *filters, **kwargs))
        return made[-1]

    yield make
    for c in made:
        c.close()


def job_states(c: Client, device: str = "wall") -> dict[str, list[str]]:
    states: dict[str, list[str]] = {}
    for m in c.messages:
        if m.topic.startswith(f"pixie/{device}/jobs/"):
            event = json.loads(m.payload)
            states.setdefault(event["id"], []).append(event["state"])
    return states


def test_a_notify_plays_and_its_job_events_arrive_in_order(wall, client):
    c = client("pixie/wall/jobs/+")
    mark = len(wall.frames())
    c.publish("pixie/wall/notify", {"kind": "fill", "color": "red", "duration_s": 0.3})
    done = c.wait(lambda: [i for i, s in job_states(c).items() if "done" in s], "a job done")
    assert job_states(c)[done[0]] == ["queued", "rendering", "ready", "playing", "done"]
    assert RED in {solid(f) for _, f in wall.frames()[mark:]}
    assert wall.state(done[0])["state"] == "done"  # the same job HTTP knows


def test_a_command_sent_again_with_its_id_makes_no_second_job(wall, client):
    c = client("pixie/wall/jobs/+")
    command = {"kind": "fill", "color": "blue", "duration_s": 0.2, "id": "kitchen-timer-42"}
    c.publish("pixie/wall/notify", command)
    first = c.wait(lambda: [i for i, s in job_states(c).items() if "done" in s], "the job done")[0]
    c.publish("pixie/wall/notify", command)  # as a broker re-delivers it after a reconnect
    c.publish("pixie/wall/notify", command)
    # The bridge carries out one topic's commands in the order sent (MQTT 3.1.1, 4.6): once the next
    # command's job is there, the two before it were handled.
    c.publish("pixie/wall/notify", {**command, "id": "kitchen-timer-43", "name": "next-command"})
    after = c.wait(lambda: [i for i in job_states(c) if i != first], "the next command's job")
    assert [wall.state(i)["name"] for i in after] == ["next-command"]
    assert job_states(c)[first].count("queued") == 1
    status, jobs, _ = wall.request("GET", "/api/v1/jobs?limit=100")
    assert [j["id"] for j in jobs["jobs"]].count(first) == 1


def test_apps_are_put_and_deleted_and_the_select_offers_them(wall, client):
    c = client("pixie/wall/state", "homeassistant/select/wall/pinned/config")
    c.publish("pixie/wall/apps/greeting", {"content": {"kind": "text", "text": "hi"}, "dwell_s": 2})
    wait_for(lambda: wall.request("GET", "/api/v1/apps/greeting")[0] == 200, what="the app")
    c.wait(lambda: any("greeting" in s["apps"] for s in c.json_on("pixie/wall/state")), "the state's apps")
    c.wait(
        lambda: any("greeting" in d["options"] for d in c.json_on("homeassistant/select/wall/pinned/config")),
        "the select's options",
    )
    c.publish("pixie/wall/pin/set", "greeting")
    c.wait(lambda: any(s["pinned"] == "greeting" for s in c.json_on("pixie/wall/state")), "pinned")
    c.publish("pixie/wall/pin/set", "")
    c.wait(lambda: c.json_on("pixie/wall/state")[-1]["pinned"] is None, "unpinned")
    c.publish("pixie/wall/apps/greeting", "")
    wait_for(lambda: wall.request("GET", "/api/v1/apps/greeting")[0] == 404, what="the app deleted")


def test_brightness_and_power_drive_the_panel(wall, client):
    c = client("pixie/wall/state")
    job = wall.submit(kind="fill", color="white", duration_s=30)
    wall.wait_state(job, "playing")
    try:
        c.publish("pixie/wall/brightness/set", "30")
        wait_for(lambda: (76, 76, 76) in {solid(f) for _, f in wall.frames()[-3:]}, what="dimmed to 30%")
        assert wall.request("GET", "/api/v1/brightness")[1]["brightness"] == 30
        c.publish("pixie/wall/power/set", "OFF")
        wait_for(lambda: solid(wall.frames()[-1][1]) == BLACK, what="a dark panel")
        c.wait(lambda: c.json_on("pixie/wall/state")[-1]["power"] is False, "state: off")
        assert wall.state(job)["state"] == "playing"  # dark, not stopped
        c.publish("pixie/wall/power/set", "ON")
        wait_for(lambda: solid(wall.frames()[-1][1]) == (76, 76, 76), what="lit again, as bright as before")
        state = c.wait(lambda: (s := c.json_on("pixie/wall/state")[-1])["power"] and s, "state: on")
        assert state["brightness"] == 30 and state["job"] == job and state["now_playing"] == "fill job"
    finally:
        c.publish("pixie/wall/power/set", "ON")
        c.publish("pixie/wall/brightness/set", "100")
        c.publish("pixie/wall/dismiss", "")
    wall.wait_state(job, "canceled")


def test_state_and_availability_are_retained_and_the_will_says_offline(wall, client):
    late = client("pixie/wall/state", "pixie/wall/availability")
    late.wait(lambda: late.on("pixie/wall/state") and late.on("pixie/wall/availability"), "retained messages")
    assert late.on("pixie/wall/state")[0].retain and late.on("pixie/wall/availability")[0].retain
    assert late.on("pixie/wall/availability")[-1].payload == b"online"
    assert late.json_on("pixie/wall/state")[-1]["health"] == "ok"
    wall.procs["mqtt"].send_signal(signal.SIGKILL)  # no goodbye: the broker sends its will
    late.wait(lambda: late.on("pixie/wall/availability")[-1].payload == b"offline", "the will")
    wall.start_mqtt()
    late.wait(lambda: late.on("pixie/wall/availability")[-1].payload == b"online", "back online")


BAD = [
    ("notify", b"not json", "payload is not JSON"),
    ("notify", b"\xff\xfe", "not UTF-8"),
    ("notify", b"[1, 2]", "must be a JSON object"),
    ("notify", b'{"kind": "hologram"}', "kind"),
    ("notify", b'{"kind": "fill", "color": "red", "id": 7}', "id"),
    ("notify", b'{"kind": "text", "text": "x", "note": "x"}' + b" " * MAX_BYTES, f"at most {MAX_BYTES}"),
    ("brightness/set", b"bright", "expected a whole number"),
    ("brightness/set", b"150", "brightness must be 0..100"),
    ("power/set", b"maybe", "expected ON or OFF"),
    ("apps/clock", b'{"content": {"kind": "clock"}, "dwell_s": -1}', "dwell_s"),
    ("pin/set", b"no-such-app", "no app no-such-app"),
]


def test_bad_commands_get_the_reason_and_queue_nothing(wall, client):
    c = client("pixie/wall/error")
    before = wall.request("GET", "/api/v1/jobs?limit=500")[1]["jobs"]
    for n, (command, payload, reason) in enumerate(BAD, 1):
        c.publish(f"pixie/wall/{command}", payload)
        errors = c.wait(lambda n=n: len(c.json_on("pixie/wall/error")) >= n and c.json_on("pixie/wall/error"), "error")
        assert errors[n - 1]["topic"] == f"pixie/wall/{command}"
        assert reason in errors[n - 1]["error"], (payload[:60], errors[n - 1])
    assert wall.request("GET", "/api/v1/jobs?limit=500")[1]["jobs"] == before
    assert "mqtt" not in wall.processes.exited()


def test_a_refusal_gives_the_reason_http_gives(wall, client):
    c = client("pixie/wall/error")
    body = {"kind": "text", "text": 5, "priority": "urgent"}
    status, answer, _ = wall.request("POST", "/api/v1/jobs", body)
    c.publish("pixie/wall/notify", {**body, "id": "the-same-reason"})
    error = c.wait(lambda: c.json_on("pixie/wall/error"), "an error")[0]
    assert status == 422 and error == {"topic": "pixie/wall/notify", "error": answer["error"], "id": "the-same-reason"}


def test_a_text_in_a_font_with_an_icon_plays_and_an_unknown_font_is_refused_naming_font(wall, client):
    icon = io.BytesIO()
    Image.new("RGB", (8, 8), RED).save(icon, "PNG")
    assert wall.request("PUT", "/api/v1/icons/mqtt-red", icon.getvalue(), {"Content-Type": "image/png"})[0] == 200
    c = client("pixie/wall/jobs/+", "pixie/wall/error")
    mark = len(wall.frames())
    job = {"kind": "text", "text": "Hg", "font": "6x13", "icon": "mqtt-red", "color": "#00ff00", "duration_s": 0.3}
    c.publish("pixie/wall/notify", job)
    done = c.wait(lambda: [i for i, s in job_states(c).items() if "done" in s], "the job done")
    assert wall.state(done[0])["state"] == "done"
    frame = [f for _, f in wall.frames()[mark:] if {RED, (0, 255, 0)} <= colors(f)][-1]  # the icon beside the text
    green = [(i // 3 % 64, i // 3 // 64) for i in range(0, len(frame), 3) if frame[i : i + 3] == b"\x00\xff\x00"]
    xs, ys = {x for x, _ in green}, {y for _, y in green}
    assert max(xs) - min(xs) < 12 and max(ys) - min(ys) < 13, (xs, ys)  # two 6x13 cells, not a bigger font's

    before = wall.request("GET", "/api/v1/jobs?limit=500")[1]["jobs"]
    c.publish("pixie/wall/notify", {"kind": "text", "text": "x", "font": "no-such-font"})
    error = c.wait(lambda: c.json_on("pixie/wall/error"), "the refusal")[0]
    assert error["topic"] == "pixie/wall/notify" and error["error"].startswith("font: no font named 'no-such-font'")
    assert wall.request("GET", "/api/v1/jobs?limit=500")[1]["jobs"] == before
    wall.request("DELETE", "/api/v1/icons/mqtt-red")


def discovered(c: Client) -> dict[str, dict]:
    """The configs as Home Assistant holds them: the last on each topic; an empty one removed the entity."""
    last = {m.topic: m.payload for m in c.messages if m.topic.endswith("/config")}
    return {topic: json.loads(payload) for topic, payload in last.items() if payload}


def test_discovery_configs_follow_home_assistants_documented_options(wall, client):
    app = {"content": {"kind": "progress", "progress": 10}}  # its number entity is checked too
    assert wall.request("PUT", "/api/v1/apps/upload", app)[0] == 200
    c = client("homeassistant/+/wall/+/config")
    try:
        configs = c.wait(lambda: len(discovered(c)) > ENTITIES and discovered(c), "the retained configs")
    finally:
        wall.request("DELETE", "/api/v1/apps/upload")
    assert {topic.split("/")[1] for topic in configs} == set(PLATFORMS)
    unique_ids = [config["unique_id"] for config in configs.values()]
    assert len(set(unique_ids)) == len(unique_ids)
    for topic, config in configs.items():
        required, documented = PLATFORMS[topic.split("/")[1]]
        assert required <= set(config), topic
        assert mistyped(config, documented | COMMON) == [], topic
        assert config.get("qos", 0) in (0, 1, 2), topic
        assert mistyped(config["device"], DEVICE) == [] and config["device"]["identifiers"] == ["pixie_wall"]
        assert config["device"]["name"] == "Kitchen Wall"  # [mqtt] name: entities read "Kitchen Wall Panel"
        assert mistyped(config["origin"], ORIGIN) == [] and config["origin"]["name"] == "Pixie"
        assert config["availability_topic"] == "pixie/wall/availability"
    text = configs["homeassistant/text/wall/text/config"]
    assert 0 <= text.get("min", 0) <= text["max"] <= 255  # text.mqtt: "maximum is 255"


def entities(client) -> dict[str, dict]:
    """The retained discovery configs, by `<component>/<object id>`: what Home Assistant reads."""
    return {t.split("/")[1] + "/" + t.split("/")[3]: d for t, d in discovered(_retained(client)).items()}


def _retained(client) -> Client:
    c = client("homeassistant/+/wall/+/config")
    c.wait(lambda: len(discovered(c)) >= ENTITIES, "the retained configs")
    return c


def last_state(c: Client) -> dict:
    return (c.json_on("pixie/wall/state") or [{}])[-1]


def app_on_state(c: Client, name: str) -> None:
    c.wait(lambda: last_state(c).get("app") == name, f"the state: {name} showing")


# What Home Assistant does with the configs, done here: publish to their command topics, read the
# state back through their templates.


def test_home_assistants_light_switches_and_dims_the_panel(wall, client):
    light = entities(client)["light/panel"]
    c = client(light["state_topic"])

    def light_state():
        states = c.json_on(light["state_topic"])
        return states and template(light["state_value_template"], value_json=states[-1])

    c.publish(light["command_topic"], light["payload_off"])
    c.wait(lambda: light_state() == "OFF", "the light off")
    c.publish(light["command_topic"], light["payload_on"])
    c.publish(light["brightness_command_topic"], "55")
    c.wait(lambda: light_state() == "ON", "the light on")
    value_json = c.wait(lambda: (s := last_state(c))["brightness"] == 55 and s, "55")
    assert template(light["brightness_value_template"], value_json=value_json) == "55"
    c.publish(light["brightness_command_topic"], "100")
    c.wait(lambda: last_state(c)["brightness"] == 100, "100 again")


def test_home_assistants_notify_and_text_show_their_text(wall, client):
    configs = entities(client)
    c = client("pixie/wall/jobs/+")
    try:
        for entity, text in (("notify/message", 'Hello "HA"'), ("text/text", "Hi")):
            config = configs[entity]
            drawn = kinds.render(specs.parse({"kind": "text", "text": text}), None, 64, 32, Render())[0][0]
            mark = len(wall.frames())
            c.publish(config["command_topic"], template(config["command_template"], value=text))
            wait_for(lambda m=mark, d=drawn: d in [f for _, f in wall.frames()[m:]], what=f"{text} on the panel")

        # The text entity's `max` is what Pixie takes: Home Assistant sends up to it and refuses longer itself.
        longest = configs["text/text"]["max"]
        job = json.loads(template(configs["text/text"]["command_template"], value="x" * longest))
        status, accepted, _ = wall.request("POST", "/api/v1/jobs", job)
        assert status == 202
        wall.request("DELETE", f"/api/v1/jobs/{accepted['id']}")
        assert wall.request("POST", "/api/v1/jobs", {**job, "text": "x" * (longest + 1)})[0] == 422
    finally:
        for job_id in job_states(c):
            wall.request("DELETE", f"/api/v1/jobs/{job_id}")


def test_home_assistants_sensors_read_the_state(wall, client):
    configs = entities(client)
    c = client("pixie/wall/state")
    job = wall.submit(kind="fill", color="white", duration_s=30)
    expected = {"now_playing": "fill job", "waiting": "0", "health": "ok"}

    def readings():
        state = last_state(c)
        return state and {
            name: template(configs[f"sensor/{name}"]["value_template"], value_json=state) for name in expected
        }

    try:
        c.wait(lambda: readings() == expected, f"the sensors reading {expected}")
    finally:
        wall.request("DELETE", f"/api/v1/jobs/{job}")


@pytest.fixture
def three_apps(wall):
    """Three apps in the rotation, each on screen long enough that only a command moves it on."""
    names = ["one", "two", "three"]
    for name, colour in zip(names, ("red", "lime", "blue"), strict=True):
        app = {"content": {"kind": "fill", "color": colour}, "dwell_s": 300}
        assert wall.request("PUT", f"/api/v1/apps/{name}", app)[0] == 200
    wait_for(lambda: all(a["rendered"] for a in wall.request("GET", "/api/v1/apps")[1]["apps"]), what="apps rendered")
    yield names
    for name in names:
        wall.request("DELETE", f"/api/v1/apps/{name}")


def test_rotation_next_previous_and_the_next_button_move_through_the_apps(wall, client, three_apps):
    button = entities(client)["button/next"]
    c = client("pixie/wall/state")
    at = three_apps.index(c.wait(lambda: last_state(c).get("app") in three_apps and last_state(c)["app"], "an app"))
    after = three_apps[(at + 1) % 3]
    c.publish("pixie/wall/rotation/next", "")
    app_on_state(c, after)
    c.publish("pixie/wall/rotation/previous", "")
    app_on_state(c, three_apps[at])
    c.publish(button["command_topic"], button["payload_press"])
    app_on_state(c, after)
    assert wall.request("GET", "/api/v1/apps")[1]["showing"] == after


def test_home_assistants_select_pins_an_app_and_its_no_pin_option_shows_and_unpins(wall, client, three_apps):
    c = client("pixie/wall/state", "homeassistant/select/wall/pinned/config")
    select = c.wait(
        lambda: (
            (configs := c.json_on("homeassistant/select/wall/pinned/config"))
            and set(three_apps) <= set(configs[-1]["options"])
            and configs[-1]
        ),
        "the apps offered",
    )
    assert select["state_topic"] == "pixie/wall/state"
    apps = [a["name"] for a in wall.request("GET", "/api/v1/apps")[1]["apps"]]
    (no_pin,) = [option for option in select["options"] if option not in apps]

    def selected():
        state = last_state(c)
        return state and selected_option(select, state)

    c.publish(select["command_topic"], "three")
    c.wait(lambda: selected() == "three", "three selected")
    app_on_state(c, "three")
    assert wall.request("GET", "/api/v1/apps")[1]["pinned"] == "three"
    c.publish(select["command_topic"], no_pin)
    c.wait(lambda: selected() == no_pin, f"{no_pin} selected, not unknown")
    assert wall.request("GET", "/api/v1/apps")[1]["pinned"] is None
    assert not re.match(specs.NAME_PATTERN, no_pin)  # never an app's name


def test_an_app_called_none_is_pinned_from_home_assistants_select(wall, client, three_apps):
    c = client("homeassistant/select/wall/pinned/config")
    assert wall.request("PUT", "/api/v1/apps/none", {"content": {"kind": "fill", "color": "red"}})[0] == 200
    try:
        select = c.wait(
            lambda: (
                (configs := c.json_on("homeassistant/select/wall/pinned/config"))
                and "none" in configs[-1]["options"]
                and configs[-1]
            ),
            "the app none offered",
        )
        c.publish(select["command_topic"], "none")  # the option, as Home Assistant sends it
        wait_for(lambda: wall.request("GET", "/api/v1/apps")[1]["pinned"] == "none", what="none pinned")
    finally:
        wall.request("DELETE", "/api/v1/apps/none")


def test_home_assistants_dismiss_button_ends_the_job_on_the_panel(wall, client):
    button = entities(client)["button/dismiss"]
    job = wall.submit(kind="fill", color="white", duration_s=30)
    wall.wait_state(job, "playing")
    client().publish(button["command_topic"], button["payload_press"])
    assert wall.wait_state(job, "canceled", "done", timeout=10)["state"] == "canceled"


def test_a_dismissed_job_publishes_one_end_and_its_record_gives_the_events_reason(wall, client):
    button = entities(client)["button/dismiss"]
    c = client("pixie/wall/jobs/+")
    dismissed = []
    for _ in range(3):  # the service and the display both end a dismissed job, in either order
        job = wall.submit(kind="fill", color="white", duration_s=30)
        wall.wait_state(job, "playing")
        c.publish(button["command_topic"], button["payload_press"])
        wall.wait_state(job, "canceled")
        dismissed.append(job)
    # The display ends a dismissed job before it plays the next: once the next is done, every end was told.
    after = wall.submit(kind="fill", color="black", duration_s=0.1)
    c.wait(lambda: "done" in job_states(c).get(after, []), "the next job done")
    for job in dismissed:
        ends = [e for e in c.json_on(f"pixie/wall/jobs/{job}") if e["state"] == "canceled"]
        assert len(ends) == 1, ends
        assert ends[0].get("reason") == wall.state(job)["reason"] == "dismissed"


def test_home_assistants_text_shows_the_last_text_sent_after_a_restart_too(wall, client):
    text = entities(client)["text/text"]
    c = client("pixie/wall/jobs/+")
    sent = "Tea's ready, 23 °C"
    c.publish(text["command_topic"], template(text["command_template"], value=sent))
    job = c.wait(lambda: list(job_states(c)), "the text's job")[0]
    try:
        # Home Assistant started afresh: the retained state gives the text entity its value.
        later = client(text["state_topic"])
        value = later.wait(lambda: later.json_on(text["state_topic"]), "the retained state")[-1]
        shown = template(text["value_template"], value_json=value)
        assert shown == sent
        assert text.get("min", 0) <= len(shown) <= text["max"]  # text.mqtt: a state must fit min and max
    finally:
        wall.request("DELETE", f"/api/v1/jobs/{job}")


def _window_around_now(brightness: int) -> dict:
    """A night-mode window open now: from an hour ago to an hour ahead, in the appliance's local time."""
    start, end = (datetime.now().astimezone() + timedelta(hours=h) for h in (-1, 1))
    return {"start": f"{start:%H:%M}", "end": f"{end:%H:%M}", "brightness": brightness}


def test_home_assistants_switch_turns_night_mode_off_and_on_keeping_its_windows(wall, client):
    switch = entities(client)["switch/night_mode"]
    c = client(switch["state_topic"])
    base = c.wait(lambda: last_state(c), "the state")["brightness"]
    windows = [_window_around_now(10)]

    def switched(on: bool):
        state = last_state(c)
        expected = (switch.get("state_on", switch["payload_on"]), 10) if on else (switch["payload_off"], base)
        return (template(switch["value_template"], value_json=state), state["brightness"]) == expected

    assert wall.request("PUT", "/api/v1/schedule", {"windows": windows})[0] == 200
    try:
        c.wait(lambda: switched(True), "night mode on: dimmed to 10")
        c.publish(switch["command_topic"], switch["payload_off"])
        c.wait(lambda: switched(False), f"night mode off: {base} again")
        night = wall.request("GET", "/api/v1/schedule")[1]
        assert (night["enabled"], night["window_open"]) == (False, False)
        assert [w["start"] for w in night["windows"]] == [windows[0]["start"]]  # kept
        c.publish(switch["command_topic"], switch["payload_on"])
        c.wait(lambda: switched(True), "night mode on again: 10")
    finally:
        wall.request("PUT", "/api/v1/schedule", {"windows": []})


def test_home_assistants_sensors_read_the_app_on_screen_and_the_version(wall, client, three_apps):
    configs = entities(client)
    app, version = configs["sensor/app"], configs["sensor/version"]
    c = client("pixie/wall/state")
    c.publish("pixie/wall/pin/set", "two")
    try:
        state = c.wait(lambda: (s := last_state(c)).get("app") == "two" and s, "two on screen")
        assert template(app["value_template"], value_json=state) == "two"
        assert template(version["value_template"], value_json=state) == importlib.metadata.version("pixie")
        assert version["entity_category"] == "diagnostic"
        no_app = template(app["value_template"], value_json={**state, "app": None})
        assert no_app != "None" and not re.match(specs.NAME_PATTERN, no_app)  # a state, never an app's name
    finally:
        c.publish("pixie/wall/pin/set", "")


PRINT = "homeassistant/number/wall/progress_print_2ejob/config"  # app print.job: "." is not an object id's


def test_a_progress_apps_number_sets_and_reads_its_progress_and_goes_with_the_app(wall, client):
    c = client("homeassistant/number/wall/+/config", "pixie/wall/state", "pixie/wall/error")
    app = {"content": {"kind": "progress", "progress": 10, "text": "Print"}, "dwell_s": 300}
    assert wall.request("PUT", "/api/v1/apps/print.job", app)[0] == 200
    try:
        number = c.wait(lambda: discovered(c).get(PRINT), "the app's number entity")
        assert (number["min"], number["max"], number["step"], number["unit_of_measurement"]) == (0, 100, 1, "%")
        assert number["name"] == "print.job progress" and number["unique_id"] == "pixie_wall_progress_print_2ejob"

        def shown() -> str:
            return template(number["value_template"], value_json=last_state(c))

        c.wait(lambda: shown() == "10", "the number at 10")
        mark = len(wall.frames())
        c.publish(number["command_topic"], "42")  # as Home Assistant sends a step of 1: a whole number
        c.wait(lambda: shown() == "42", "the number at 42")
        put = wall.request("GET", "/api/v1/apps/print.job")[1]
        assert (put["content"]["progress"], put["content"]["text"], put["dwell_s"]) == (42, "Print", 300)
        bar = kinds.render(specs.parse({**app["content"], "progress": 42}), None, 64, 32, Render())[0][0]
        wait_for(lambda: bar in [f for _, f in wall.frames()[mark:]], what="the bar at 42 on the panel at once")

        for n, (value, reason) in enumerate(
            [
                ("abc", "progress: expected a whole number, got 'abc'"),
                ("101", "content.progress must be 0..100, got 101"),
            ],
            1,
        ):
            c.publish(number["command_topic"], value)
            error = c.wait(lambda n=n: c.json_on("pixie/wall/error")[n - 1 :], "the refusal")[0]
            assert error == {"topic": number["command_topic"], "error": reason}
        c.publish("pixie/wall/apps/nothing-here/progress", "40")
        assert c.wait(lambda: c.json_on("pixie/wall/error")[2:], "the refusal")[0]["error"] == "no app nothing-here"
        assert wall.request("GET", "/api/v1/apps/print.job")[1]["rev"] == put["rev"]  # unchanged

        c.publish("pixie/wall/apps/print.job", {"content": {"kind": "text", "text": "Printed"}})
        c.wait(lambda: PRINT not in discovered(c), "the number emptied: no longer a progress app")
        assert template(number["value_template"], value_json=last_state(c)) == "None"  # Home Assistant: unknown
        c.publish(number["command_topic"], "50")
        assert c.wait(lambda: c.json_on("pixie/wall/error")[3:], "the refusal")[0]["error"] == (
            "app print.job is not a progress app (it shows text)"
        )
        c.publish("pixie/wall/apps/print.job", app)
        c.wait(lambda: PRINT in discovered(c), "the number back")
    finally:
        wall.request("DELETE", "/api/v1/apps/print.job")
    c.wait(lambda: PRINT not in discovered(c), "the number emptied: the app deleted")
    assert PRINT not in discovered(_retained(client))  # nothing retained for Home Assistant to find


def test_a_progress_app_deleted_while_the_bridge_was_away_loses_its_number_when_it_is_back(wall, client):
    c = client("homeassistant/number/wall/+/config", "pixie/wall/availability")
    app = {"content": {"kind": "progress", "progress": 10}}
    assert wall.request("PUT", "/api/v1/apps/print.job", app)[0] == 200
    c.wait(lambda: PRINT in discovered(c), "the app's number entity")
    wall.procs["mqtt"].terminate()
    try:
        wall.procs["mqtt"].wait(10)
        c.wait(lambda: c.on("pixie/wall/availability")[-1].payload == b"offline", "the bridge away")
        assert wall.request("DELETE", "/api/v1/apps/print.job")[0] == 200
        assert PRINT in discovered(_retained(client))  # still at the broker
    finally:
        wall.start_mqtt()
    c.wait(lambda: PRINT not in discovered(c), "the number emptied by the bridge back")
    assert PRINT not in discovered(_retained(client))


def test_home_assistant_coming_online_gets_the_configs_again(wall, client):
    c = _retained(client)
    seen = len(c.messages)
    retained = discovered(c)
    c.publish("homeassistant/status", "online")
    c.wait(lambda: {m.topic for m in c.messages[seen:]} == set(retained), "every config again")
    assert all(not m.retain for m in c.messages[seen:])  # sent anew, not the broker's retained copies
    assert discovered(c) == retained


def test_one_publish_to_a_group_reaches_every_panel_of_it(wall, broker, make_appliance, client):
    hall = mqtt_appliance(make_appliance, broker, "hall", "kitchen", "upstairs")
    online(broker, "hall")
    c = client()
    marks = {a: len(a.frames()) for a in (wall, hall)}
    c.publish("pixie/group/kitchen/notify", {"kind": "fill", "color": "blue", "duration_s": 0.3})
    for appliance, mark in marks.items():
        wait_for(lambda a=appliance, m=mark: BLUE in {solid(f) for _, f in a.frames()[m:]}, what="blue on each")


def online(port: int, device: str) -> None:
    """The bridge's birth message (on a broker that has not seen the device before)."""
    c = Client(port, f"pixie/{device}/availability")
    try:
        c.wait(lambda: [m for m in c.on(f"pixie/{device}/availability") if m.payload == b"online"], f"{device} online")
    finally:
        c.close()


def test_a_broker_restart_loses_and_doubles_no_command(make_appliance, tmp_path):
    proc, port = servers.mosquitto(tmp_path)
    sender = None
    try:
        appliance = mqtt_appliance(make_appliance, port, "porch", mqtt_keepalive_s=5)
        wait_for(lambda: appliance.v.exists("pixie:display:heartbeat"), what="display")
        sender = Client(port, client_id="porch-sender", clean=False)
        wait_for(lambda: sender.client.is_connected(), what="sender")
        online(port, "porch")  # published after its SUBSCRIBE: its session keeps what comes from here on

        def command(n: int, **fields) -> dict:
            return {"kind": "fill", "color": "red", "duration_s": 0.05, "id": f"restart-{n}", **fields}

        for n in range(10):
            sender.publish("pixie/porch/notify", command(n)).wait_for_publish(5)
        proc.terminate()
        proc.wait(10)
        proc, _ = servers.mosquitto(tmp_path, port=port)
        wait_for(lambda: sender.client.is_connected(), what="the sender back")
        for n in range(5, 15):  # 5..9 again: as a sender re-delivers after a reconnect
            sender.publish("pixie/porch/notify", command(n)).wait_for_publish(5)
        # One more, sent last: a re-delivery of any before it reaches the bridge first (MQTT 3.1.1, 4.6).
        sender.publish("pixie/porch/notify", command(15, name="last")).wait_for_publish(5)
        r = appliance.r

        def records():
            return [r.hmget(k, "name", "state") for k in r.scan_iter("pixie:job:*")]

        wait_for(lambda: [b"last", b"done"] in records(), what="the last command's job done", timeout=60)
        wait_for(lambda: all(state == b"done" for _, state in records()), what="every job done", timeout=60)
        assert len(records()) == 16
    finally:
        if sender:
            sender.close()
        proc.terminate()
        proc.wait(10)


# -- AWTRIX's topics (its docs/api.md), under awtrix_<device> ---------------------------------------


def test_awtrix_topics_notify_make_apps_and_switch_the_power(wall, client):
    c = client("awtrix_wall/error")
    mark = len(wall.frames())
    c.publish("awtrix_wall/notify", {"text": [{"t": "Hi ", "c": "FF0000"}, {"t": "you", "c": "0000FF"}], "duration": 1})
    wait_for(lambda: {RED, BLUE} <= set().union(*(colors(f) for _, f in wall.frames()[mark:])), what="red and blue")
    c.publish("awtrix_wall/custom/weather", {"text": "21 C", "duration": 4})
    wait_for(lambda: wall.request("GET", "/api/v1/apps/weather")[0] == 200, what="the app")
    assert wall.request("GET", "/api/v1/apps/weather")[1]["dwell_s"] == 4
    c.publish("awtrix_wall/custom/weather", "")
    wait_for(lambda: wall.request("GET", "/api/v1/apps/weather")[0] == 404, what="the app deleted")
    c.publish("awtrix_wall/power", {"power": False})
    wait_for(lambda: wall.request("GET", "/api/v1/power")[1]["on"] is False, what="dark")
    c.publish("awtrix_wall/power", "true")  # AWTRIX takes a bare true as well
    wait_for(lambda: wall.request("GET", "/api/v1/power")[1]["on"] is True, what="lit")
    assert c.on("awtrix_wall/error") == []


def test_awtrix_notify_with_a_base64_icon_draws_it_beside_the_text(wall, client):
    """AWTRIX's documented alternative to an icon's name: an 8x8 image as base64, here over MQTT."""
    c = client("awtrix_wall/error")
    out = io.BytesIO()
    Image.new("RGB", (8, 8), BLUE).save(out, "PNG")
    mark = len(wall.frames())
    icon = base64.b64encode(out.getvalue()).decode()
    c.publish("awtrix_wall/notify", {"text": "Hi", "color": "#FF0000", "icon": icon, "pushIcon": 0, "duration": 1})
    wait_for(lambda: any({RED, BLUE} <= colors(f) for _, f in wall.frames()[mark:]), what="icon and text together")
    assert c.on("awtrix_wall/error") == []


def test_awtrix_custom_app_with_the_docs_drawing_example_shows_it(wall, client):
    """docs/api.md's drawing example as a custom app over MQTT: on the panel exactly as test_render_draw's
    golden picture of it (a red circle, a blue rectangle, "Hello" in green)."""
    c = client("awtrix_wall/error")
    golden = Image.open(Path(__file__).parent / "golden" / "draw_awtrix_example.png").convert("RGB").tobytes()
    mark = len(wall.frames())
    drawing = [{"dc": [28, 4, 3, "#FF0000"]}, {"dr": [20, 4, 4, 4, "#0000FF"]}, {"dt": [0, 0, "Hello", "#00FF00"]}]
    c.publish("awtrix_wall/custom/drawing", {"draw": drawing})
    try:
        wait_for(lambda: any(f == golden for _, f in wall.frames()[mark:]), timeout=30, what="the drawing")
    finally:
        c.publish("awtrix_wall/custom/drawing", "")
    assert c.on("awtrix_wall/error") == []


def test_awtrix_stats_are_published_and_sendscreen_answers_on_screen(wall, client):
    c = client("awtrix_wall/stats", "awtrix_wall/screen")
    stats = c.wait(lambda: c.json_on("awtrix_wall/stats"), "stats")[-1]
    assert {"bat", "bri", "app", "matrix", "messages", "uptime", "indicator1", "version", "uid"} <= set(stats)
    assert stats["uid"] == "wall"
    c.publish("awtrix_wall/sendscreen", "")
    screen = c.wait(lambda: c.json_on("awtrix_wall/screen"), "the screen")[-1]
    assert len(screen) == 64 * 32 and all(isinstance(p, int) and 0 <= p <= 0xFFFFFF for p in screen)


def test_bad_awtrix_payloads_get_the_reason_on_its_error_topic(wall, client):
    c = client("awtrix_wall/error")
    before = wall.request("GET", "/api/v1/jobs?limit=500")[1]["jobs"]
    c.publish("awtrix_wall/notify", b"{oops")
    c.publish("awtrix_wall/switch", {"name": "no-such-app"})
    errors = c.wait(lambda: len(c.json_on("awtrix_wall/error")) >= 2 and c.json_on("awtrix_wall/error"), "errors")
    assert errors[0]["topic"] == "awtrix_wall/notify" and "ErrorParsingJson" in errors[0]["error"]
    assert errors[1] == {"topic": "awtrix_wall/switch", "error": "no app no-such-app"}
    assert wall.request("GET", "/api/v1/jobs?limit=500")[1]["jobs"] == before
