"""Live data in apps end to end: a real mosquitto (with its dynamic security plugin, so that its ACL
refuses a subscription as a SUBACK failure), the appliance's real processes (web, a render worker,
the display on the headless STAND-IN panel, the MQTT bridge) and values published by a client
written from MQTT 3.1.1's terms (testsupport/mqtt.py). What the panel shows is compared with the
renderer's own frames of the text expected."""

import getpass
import glob
import json
import time

import pytest

from appliance import Appliance
from pixie import config as configuration
from pixie import spec as specs
from pixie import store
from pixie.render import kinds
from testsupport import servers
from testsupport.mqtt import Client
from testsupport.servers import wait_for

DEVICE = "live"
INTERVAL_S = configuration.Apps().live_min_interval_s  # the default, 1 s
# The device's own list of what it may read (as pixie_common_mqtt_readable_topics makes it).
READABLE = "home/#,forbidden/#"
# The broker lets everyone do everything but subscribe to forbidden/temp (mosquitto's dynamic
# security plugin checks subscriptions; its acl_file does not, it only withholds the messages).
DYNSEC = {
    "defaultACLAccess": {
        "publishClientSend": True,
        "publishClientReceive": True,
        "subscribe": True,
        "unsubscribe": True,
    },
    "clients": [],
    "groups": [{"groupname": "anonymous", "roles": [{"rolename": "limits"}]}],
    "roles": [
        {"rolename": "limits", "acls": [{"acltype": "subscribeLiteral", "topic": "forbidden/temp", "allow": False}]}
    ],
    "anonymousGroup": "anonymous",
}


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    work = tmp_path_factory.mktemp("broker")
    plugins = glob.glob("/usr/lib/*/mosquitto_dynamic_security.so")
    assert plugins, "mosquitto's dynamic security plugin is missing: Debian's mosquitto package ships it (make deps)"
    (work / "dynsec.json").write_text(json.dumps(DYNSEC))
    proc, port = servers.mosquitto(
        work,
        "allow_anonymous true",
        f"user {getpass.getuser()}",
        f"plugin {plugins[0]}",
        f"plugin_opt_config_file {work}/dynsec.json",
    )
    yield port
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def device(redis_server, broker, tmp_path_factory):
    appliance = Appliance(
        redis_server,
        tmp_path_factory.mktemp("live"),
        mqtt_enabled="1",
        mqtt_port=broker,
        mqtt_device=DEVICE,
        mqtt_readable_topics=READABLE,
    )
    appliance.start_web()
    appliance.start_worker("1", "--with-scheduler")  # a timed job waits in it while bad ones are refused
    appliance.start_display()
    appliance.start_mqtt()
    online(broker)
    yield appliance
    appliance.stop()


@pytest.fixture
def sender(broker, device):
    c = Client(broker)
    yield c
    c.close()
    for app in device.request("GET", "/api/v1/apps")[1]["apps"]:  # the next test's app alone in the rotation
        device.request("DELETE", f"/api/v1/apps/{app['name']}")


def online(port: int) -> None:
    c = Client(port, f"pixie/{DEVICE}/availability")
    try:
        c.wait(lambda: [m for m in c.on(f"pixie/{DEVICE}/availability") if m.payload == b"online"], "online")
    finally:
        c.close()


def frame(text: str) -> bytes:
    """The renderer's frame of a text app showing `text` (a still: it fits the panel)."""
    panel = configuration.Panel()
    rendered = kinds.render(
        specs.parse({"kind": "text", "text": text}), None, panel.width, panel.height, configuration.Render()
    )
    assert len(rendered) == 1, f"{text!r} scrolls: pick a shorter one"
    return rendered[0][0]


def shows(device, text: str) -> bool:
    """The panel's newest frame is the text's."""
    frames = device.frames()
    return bool(frames) and frames[-1][1] == frame(text)


def put(device, name: str, text: str, **fields) -> dict:
    status, answer, _ = device.request(
        "PUT", f"/api/v1/apps/{name}", {"content": {"kind": "text", "text": text}, **fields}
    )
    assert status == 200, answer
    return answer


def publish(sender: Client, topic: str, value: str, retain: bool = False) -> None:
    sender.publish(topic, value, qos=1, retain=retain).wait_for_publish(10)


def live_renders(device, name: str, after: str) -> list[int]:
    """The renders of `name` with new values since event `after` (each an `apps` event with `live`)."""
    entries = device.v.xrange(store.EVENTS, f"({after}", "+")
    return [
        d["live"]
        for _, kind, d in store.decode_events([(store.EVENTS, entries)])
        if kind == "apps" and d.get("name") == name and "live" in d
    ]


def test_a_retained_value_fills_the_app_as_the_bridge_starts(device, sender, broker):
    publish(sender, "home/outside/temp", "21.5", retain=True)
    device.procs["mqtt"].terminate()
    device.procs["mqtt"].wait(10)
    device.v.delete(store.LIVE_VALUES)  # as after a reboot: the volatile Redis starts empty
    try:
        put(device, "outside", "{{home/outside/temp}}°")
        wait_for(lambda: shows(device, "–°"), what="the app without a value yet")
        device.start_mqtt()
        wait_for(lambda: shows(device, "21.5°"), what="the retained value on the panel")
        (value,) = device.request("GET", "/api/v1/apps/outside")[1]["live"]
        assert value == {
            "placeholder": "{{home/outside/temp}}",
            "topic": "home/outside/temp",
            "value": "21.5",
            "shows": "21.5",
            "error": None,
        }
    finally:
        publish(sender, "home/outside/temp", "", retain=True)  # the broker forgets it
        online(broker)


def test_quick_changes_are_drawn_at_most_once_per_interval_and_the_panel_shows_the_last(device, sender):
    put(device, "power", "{{home/power|json:$.w|round:0}} W")
    publish(sender, "home/power", '{"w": 10.2}', retain=True)  # retained: whenever the bridge subscribes
    try:
        burst(device, sender)
    finally:
        publish(sender, "home/power", "", retain=True)  # the broker forgets it


def burst(device, sender):
    wait_for(lambda: shows(device, "10 W"), what="the first value")
    mark = device.v.xrevrange(store.EVENTS, count=1)[0][0].decode()
    started = time.monotonic()
    for watts in (11.4, 12.6, 13.1):
        publish(sender, "home/power", json.dumps({"w": watts}))
    published_s = time.monotonic() - started
    assert published_s < INTERVAL_S, f"the three took {published_s:.2f} s: not quick enough to coalesce"
    wait_for(lambda: shows(device, "13 W"), what="the last value on the panel")
    # Quiet for two intervals after the burst: a render still due (the interval's end) has come by then.
    wait_for(lambda: time.monotonic() > started + 2 * INTERVAL_S + 0.5, what="two intervals", timeout=10)
    renders = live_renders(device, "power", mark)
    assert 1 <= len(renders) <= 2, renders  # at once, then once at the interval's end: not three
    assert renders == sorted(renders)
    assert shows(device, "13 W")
    seen = {f for _, f in device.frames()[-20:]}
    assert frame("12 W") not in seen or len(renders) == 2  # a value between is shown only by a render of its own
    assert device.request("GET", "/api/v1/apps/power")[1]["live"][0]["shows"] == "13"


def test_a_topic_without_a_value_shows_its_default_or_a_dash(device, sender):
    put(device, "waiting", "{{home/none|default:n/a}} {{home/nothing}}")
    wait_for(lambda: shows(device, "n/a –"), what="the default and the dash")
    values = device.request("GET", "/api/v1/apps/waiting")[1]["live"]
    assert [(v["value"], v["shows"], v["error"]) for v in values] == [(None, "n/a", None), (None, "–", None)]


def test_a_topic_the_broker_or_the_devices_list_forbids_is_reported_in_the_apps_state(device, sender):
    put(device, "secret", "{{forbidden/temp}} {{elsewhere/temp}}")
    publish(sender, "forbidden/temp", "7", retain=True)
    try:

        def errors():
            return {v["topic"]: v["error"] for v in device.request("GET", "/api/v1/apps/secret")[1]["live"]}

        found = wait_for(lambda: all(errors().values()) and errors(), what="both topics reported")
        assert found["forbidden/temp"].startswith("the broker refused the subscription"), found
        assert found["elsewhere/temp"].startswith("not among the topics the device's broker lets it read"), found
        # The refusals may be noted before the app's first render reaches the panel: wait for it.
        wait_for(lambda: shows(device, "– –"), what="the dashes on the panel")
        assert frame("7 –") not in {f for _, f in device.frames()}  # the retained value never got through
        put(device, "secret", "{{home/allowed}}")  # the app no longer shows them: their notes go
        wait_for(lambda: not device.v.hlen(store.LIVE_REFUSED), what="the refusals dropped")
    finally:
        publish(sender, "forbidden/temp", "", retain=True)


def test_the_bridge_reads_only_what_the_enabled_apps_show(device, sender):
    put(device, "on", "{{home/on}}")
    put(device, "off", "{{home/off}}", enabled=False)
    publish(sender, "home/on", "first", retain=True)
    wait_for(lambda: device.v.hget(store.LIVE_VALUES, "home/on") == b"first", what="subscribed")
    publish(sender, "home/on", "", retain=True)
    publish(sender, "home/off", "not read")
    publish(sender, "home/on", "read")  # after the other: once this one is kept, that one was seen or not
    wait_for(lambda: device.v.hget(store.LIVE_VALUES, "home/on") == b"read", what="the enabled app's value")
    assert device.v.hget(store.LIVE_VALUES, "home/off") is None
    put(device, "on", "{{home/other}}")  # it no longer shows home/on: unsubscribed, its value dropped
    wait_for(lambda: device.v.hget(store.LIVE_VALUES, "home/on") is None, what="the value dropped")
    assert device.r.keys("pixie:live*") == []  # values, refusals, renders asked: all volatile


def bar(device) -> int:
    """The green pixels on the middle row of the panel's newest frame: a progress app's bar without a text
    (across the middle, AWTRIX's green), filled; -1 before any frame."""
    panel = configuration.Panel()
    frames = device.frames()
    if not frames:
        return -1
    row = frames[-1][1][panel.height // 2 * panel.width * 3 :][: panel.width * 3]
    return sum(row[x : x + 3] == bytes((0, 255, 0)) for x in range(0, len(row), 3))


def test_a_progress_app_draws_its_topics_percentage_and_keeps_its_bar_while_the_value_is_no_number(device, sender):
    width = configuration.Panel().width
    publish(sender, "home/printer", '{"pct": 25}', retain=True)
    try:
        content = {"kind": "progress", "progress": "{{home/printer|json:$.pct}}"}
        status, answer, _ = device.request("PUT", "/api/v1/apps/printer", {"content": content})
        assert status == 200 and answer["content"]["progress"] == content["progress"], answer
        wait_for(lambda: bar(device) == 25 * width // 100, what="the retained 25 % on the panel")
        publish(sender, "home/printer", '{"pct": 80.7}')  # a whole percent, rounded down
        wait_for(lambda: bar(device) == 80 * width // 100, what="80 % on the panel")

        def state():
            return device.request("GET", "/api/v1/apps/printer")[1]

        assert (state()["error"], state()["live"][0]["shows"]) == (None, "80.7")
        status, panel, _ = device.request("GET", "/api/v1/state")  # no Home Assistant number: its topic sets it
        assert status == 200 and "printer" in panel["apps"] and panel["progress"] == {}, panel
        publish(sender, "home/printer", '{"pct": "offline"}')
        error = wait_for(lambda: state()["error"], what="the app's error")
        assert error == "content.progress: {{home/printer|json:$.pct}} shows 'offline', not a number", error
        publish(sender, "home/printer", '{"pct": 150}')
        wait_for(lambda: state()["error"] == "progress must be 0..100, got 150", what="the error of 150 %")
        assert bar(device) == 80 * width // 100  # its last frames stay
        publish(sender, "home/printer", '{"pct": 100}')
        wait_for(lambda: bar(device) == width, what="the full bar")
        assert state()["error"] is None
    finally:
        publish(sender, "home/printer", "", retain=True)  # the broker forgets it


BAD = [
    ("{{home/temp", "content.text: the {{ at character 1 is not closed by }}"),
    ("{{home/temp|bold}} °C", "content.text: {{home/temp|bold}}: unknown filter 'bold'"),
    ("{{home/+/temp}}", "content.text: {{home/+/temp}}: a topic, not a filter: no MQTT wildcards"),
    ("{{home/#}}", "content.text: {{home/#}}: a topic, not a filter"),
    ("{{home/p|json:watts}}", "content.text: {{home/p|json:watts}}: a json path starts with $"),
]


def test_bad_placeholders_are_refused_naming_the_field_over_http_and_mqtt_and_nothing_queued_is_lost(
    device, sender, broker
):
    kept = put(device, "kept", "{{home/kept}}")
    job = device.submit(kind="text", text="later", in_s=600)
    errors = Client(broker, f"pixie/{DEVICE}/error")
    try:
        for n, (text, reason) in enumerate(BAD, 1):
            status, answer, _ = device.request("PUT", "/api/v1/apps/bad", {"content": {"kind": "text", "text": text}})
            assert status == 422 and answer["error"].startswith(reason), (text, answer)
            for name in ("kept", "bad"):  # over MQTT, the same words; a bad update leaves the app as it was
                errors.publish(f"pixie/{DEVICE}/apps/{name}", {"content": {"kind": "text", "text": text}})
            errors.wait(lambda n=n: len(errors.json_on(f"pixie/{DEVICE}/error")) >= 2 * n, "the refusals")
            assert [e["error"] for e in errors.json_on(f"pixie/{DEVICE}/error")[-2:]] == [answer["error"]] * 2
        listed = device.request("GET", "/api/v1/apps")[1]["apps"]
        assert [(a["name"], a["rev"], a["content"]["text"]) for a in listed] == [("kept", kept["rev"], "{{home/kept}}")]
        assert device.state(job)["state"] == "scheduled"
    finally:
        errors.close()
        device.request("DELETE", f"/api/v1/jobs/{job}")
