"""The appliance's health when a part of it stops, as GET /healthz, GET /api/v1/state and the event
stream say it (the words: README's `health` event), with real processes and Redis servers: the
display stopped with SIGSTOP (alive, its heartbeat going stale) and the durable Redis stopped."""

import signal

from test_events import blocked_reads

from appliance import Appliance
from testsupport import servers
from testsupport.servers import wait_for
from testsupport.sse import Listener


def healthz(appliance) -> tuple[int, dict]:
    status, body, _ = appliance.request("GET", "/healthz")
    return status, body


def state(appliance) -> tuple[int, dict]:
    status, body, _ = appliance.request("GET", "/api/v1/state")
    return status, body


def healthy(appliance) -> bool:
    return healthz(appliance)[0] == 200 and state(appliance)[1]["health"] == "ok"


def test_a_stopped_display_is_display_stalled_until_it_goes_on(make_appliance):
    appliance = make_appliance(display_heartbeat_max_age_s=2)
    appliance.start_web()
    appliance.start_worker("1")
    appliance.start_display()
    wait_for(lambda: healthy(appliance), what="healthy")
    display = appliance.procs["display"]
    display.send_signal(signal.SIGSTOP)
    try:
        wait_for(lambda: healthz(appliance)[0] == 503, timeout=15, what="/healthz 503")
        status, body = healthz(appliance)
        assert (status, body["ok"], body["redis"], body["workers"]) == (503, False, True, 1), body
        assert body["display_heartbeat_age_s"] >= 2
        assert state(appliance)[1]["health"] == "display stalled"
    finally:
        display.send_signal(signal.SIGCONT)
    wait_for(lambda: healthy(appliance), timeout=15, what="healthy again")
    assert healthz(appliance)[1]["display_heartbeat_age_s"] < 2


def test_the_durable_redis_down_is_redis_down_answered_503_until_it_is_back(redis_server, tmp_path):
    """The volatile Redis (the session's) stays up, as the device's own does: the event stream goes on
    and says the word; the durable one comes back from its append-only file on the same port."""
    data = tmp_path / "durable"
    data.mkdir()
    settings = ("--appendonly", "yes", "--appendfsync", "always", "--databases", "1000")
    server, url = servers.redis_server(data, *settings)
    port = int(url.rsplit(":", 1)[1])
    appliance = Appliance(url, tmp_path, volatile_redis=redis_server)
    try:
        appliance.start_web()
        appliance.start_worker("1")
        appliance.start_display()
        wait_for(lambda: healthy(appliance), what="healthy")
        with Listener(appliance.url + "/api/v1/events") as events:
            wait_for(lambda: blocked_reads(appliance.volatile_url) == 1, what="the stream reading")
            server.terminate()
            server.wait(10)
            status, body = healthz(appliance)
            assert (status, body["ok"], body["redis"]) == (503, False, False), body
            status, body = state(appliance)
            assert status == 503 and "redis is unavailable" in body["error"], body
            events.wait(lambda: events.of("health"), "a health event", timeout=15)
            assert [e.json() for e in events.of("health")] == [{"health": "redis down"}]
            server, _ = servers.redis_server(data, *settings, port=port)
            wait_for(lambda: healthy(appliance), timeout=30, what="healthy again")
            events.wait(lambda: len(events.of("health")) == 2, "health back", timeout=15)
            assert [e.json() for e in events.of("health")] == [{"health": "redis down"}, {"health": "ok"}]
    finally:
        appliance.stop()
        server.terminate()
        server.wait(10)
