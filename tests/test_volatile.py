"""Durable and volatile state apart (real processes, real Redis, the headless
STAND-IN panel): what is written per frame never reaches the durable Redis,
whose append-only file is on the SD card, and losing the volatile one loses
no job."""

import base64
import signal
import time
from contextlib import contextmanager

from media import animated, still
from pixie import store
from pixie.config import Worker
from testsupport import servers
from testsupport.mqtt import Client
from testsupport.servers import wait_for

VOLATILE = (b"pixie:display:heartbeat", b"pixie:display:screen", b"pixie:display:now", b"pixie:display:ctl")


def _beat_since(appliance, t: float, workers: int) -> bool:
    """Every one of the `workers` render workers has said it is alive at `t` or later: a beat is
    the end of a maintenance round (worker.py), in the volatile Redis."""
    beats = appliance.v.zrange(store.WORKERS, 0, -1, withscores=True)
    return len(beats) == workers and min(when for _, when in beats) >= t


def _frames_recorded(appliance) -> int:
    """The frames the display swapped so far (a record is a frame and its little header)."""
    return appliance.record.stat().st_size // (64 * 32 * 3) if appliance.record.exists() else 0


def _stream_keys(r) -> list[bytes]:
    return [k for k in r.scan_iter("pixie:stream*")]


def test_frames_heartbeat_and_preview_stay_off_the_durable_redis(make_appliance):
    appliance = make_appliance()
    appliance.start_web()
    appliance.start_worker("1")
    appliance.start_display()
    gif = base64.b64encode(animated(delay_ms=20)).decode()
    job = appliance.submit(kind="animation", data_b64=gif, repeat=20)
    appliance.wait_state(job, "playing")
    assert appliance.v.exists(b"pixie:display:now")  # while it plays
    assert appliance.wait_state(job, "done", "failed")["state"] == "done"
    durable = set(appliance.r.keys())
    assert not durable & set(VOLATILE), durable
    assert not _stream_keys(appliance.r), "the render cache is volatile"
    assert _stream_keys(appliance.v) and appliance.v.exists(b"pixie:display:heartbeat")
    assert appliance.r.exists(f"pixie:job:{job}"), "the job's record is durable"


def test_a_ready_job_whose_frames_were_lost_is_rendered_again(make_appliance):
    """What a restart of the volatile Redis (or a reboot) leaves: jobs ready, their frames gone."""
    appliance = make_appliance()
    appliance.start_web()
    appliance.start_worker("1")
    job = appliance.submit(kind="fill", color="lime", duration_s=0.2)
    appliance.wait_state(job, "ready")
    appliance.v.flushdb()
    appliance.start_display()
    assert appliance.wait_state(job, "done", "failed", timeout=60)["state"] == "done"
    assert any(frame[:3] == bytes((0, 255, 0)) for _, frame in appliance.frames()), "its pixels never showed"


def test_an_upload_whose_frames_were_lost_is_rendered_again_and_let_go_when_its_jobs_end(make_appliance):
    """An uploaded image rendered, its frames lost before it played (a reboot, or evicted from the
    render cache by a burst): the file is still there to render it again. It goes when the last job
    using it ends, here a timed one sharing it, canceled; not before."""
    appliance = make_appliance()
    appliance.start_web()
    appliance.start_worker("1", "--with-scheduler")
    png = still("PNG", color=(0, 255, 0))
    upload = store.blob_key(store.media_id(png))
    later = appliance.submit(data_b64=base64.b64encode(png).decode(), in_s=3600)
    job = appliance.submit(data_b64=base64.b64encode(png).decode(), duration_s=0.2)
    appliance.wait_state(job, "ready")
    assert int(appliance.r.get(upload + ":refs")) == 2 and appliance.r.ttl(upload) > 3600, "kept for the timed job"
    appliance.v.flushdb()
    appliance.start_display()
    assert appliance.wait_state(job, "done", "failed", timeout=60)["state"] == "done"
    assert any(frame[:3] == bytes((0, 255, 0)) for _, frame in appliance.frames()), "its pixels never showed"
    assert appliance.r.get(upload) == png and int(appliance.r.get(upload + ":refs")) == 1, "the timed job still uses it"
    assert appliance.request("DELETE", f"/api/v1/jobs/{later}")[0] == 200
    assert not appliance.r.exists(upload, upload + ":refs")


@contextmanager
def _changes(appliance):
    """What changes in the appliance's durable Redis meanwhile (key, event), as Redis's keyspace
    notifications tell it: only a change is written to its append-only file, a read or a BLPOP
    that times out is not."""
    db = appliance.redis_url.rsplit("/", 1)[1]
    appliance.r.config_set("notify-keyspace-events", "KA")
    sub = appliance.r.pubsub()
    sub.psubscribe(f"__keyspace@{db}__:*")
    assert sub.get_message(timeout=5)["type"] == "psubscribe"  # listening from here on
    seen = []
    yield seen
    while message := sub.get_message(timeout=0.2):
        if message["type"] == "pmessage":
            seen.append((message["channel"].decode().split(":", 1)[1], message["data"].decode()))
    sub.close()


def test_an_idle_appliance_and_a_looping_animation_change_nothing_in_the_durable_redis(make_appliance, tmp_path):
    """Web, two workers (one running the scheduler), the display and the MQTT bridge on a real
    broker, with the workers' maintenance every second: over several of them, nothing; and nothing
    per frame of a looping animation."""
    broker, port = servers.mosquitto(tmp_path)
    try:
        appliance = make_appliance(worker_maintenance_interval_s=1, mqtt_enabled="1", mqtt_port=port, mqtt_device="den")
        appliance.start_web()
        appliance.start_worker("1", "--with-scheduler")
        appliance.start_worker("2")
        appliance.start_display()
        bridge = Client(port, "pixie/den/#")
        started = time.time()
        appliance.start_mqtt()
        # What starting writes is over: the bridge online with its state out, each worker a round past
        # its first maintenance.
        bridge.wait(lambda: [m.payload for m in bridge.on("pixie/den/availability")] == [b"online"], "online")
        bridge.wait(lambda: bridge.on("pixie/den/state"), "the bridge's state")
        wait_for(lambda: _beat_since(appliance, started + 1, workers=2), what="the workers' first maintenance")
        with _changes(appliance) as idle:
            quiet = time.time()
            wait_for(lambda: _beat_since(appliance, quiet + 5, workers=2), what="five maintenance rounds idle")
        assert idle == []
        assert appliance.request("GET", "/healthz")[1]["workers"] == 2, "the workers are alive all the same"
        gif = base64.b64encode(animated(delay_ms=20)).decode()
        with _changes(appliance) as accepted:
            job = appliance.submit(kind="animation", data_b64=gif, repeat=400)
            appliance.wait_state(job, "playing")
        assert (f"pixie:job:{job}", "hset") in accepted, "a change is seen"
        with _changes(appliance) as playing:
            swapped = _frames_recorded(appliance)
            wait_for(lambda: _frames_recorded(appliance) >= swapped + 100, what="100 frames swapped")
        assert appliance.state(job)["state"] == "playing"
        assert playing == []
        assert appliance.procs["mqtt"].poll() is None, "the bridge ran all along"
        bridge.close()
    finally:
        broker.terminate()
        broker.wait(10)


def test_a_worker_that_stops_or_dies_leaves_healthz(make_appliance):
    appliance = make_appliance(worker_maintenance_interval_s=1, worker_job_timeout_s=5)
    appliance.start_web()
    appliance.start_display()
    first, second = appliance.start_worker("1"), appliance.start_worker("2")

    def workers():
        return appliance.request("GET", "/healthz")[1]["workers"]

    wait_for(lambda: workers() == 2, what="two workers alive")
    second.send_signal(signal.SIGTERM)  # it says so as it goes
    wait_for(lambda: workers() == 1, what="a stopped worker gone", timeout=10)
    first.send_signal(signal.SIGKILL)  # it cannot: its last beat ages out
    silent_max_s = Worker(maintenance_interval_s=1, job_timeout_s=5).silent_max_s
    wait_for(lambda: workers() == 0, what="a killed worker gone", timeout=silent_max_s + 10)
    assert appliance.request("GET", "/healthz")[0] == 503


def test_live_values_and_the_renders_they_cause_change_nothing_in_the_durable_redis(make_appliance, tmp_path):
    """An app showing an MQTT topic's value (live data): each new value is kept in the volatile Redis
    and drawn again by a render worker (asked through the volatile Redis, not an RQ job): the durable
    Redis sees the app's definition once, and nothing per value."""
    broker, port = servers.mosquitto(tmp_path)
    sender = None
    try:
        appliance = make_appliance(mqtt_enabled="1", mqtt_port=port, mqtt_device="den", apps_live_min_interval_s=0)
        appliance.start_web()
        appliance.start_worker("1")
        appliance.start_display()
        appliance.start_mqtt()
        sender = Client(port)
        body = {"content": {"kind": "text", "text": "{{den/temp}}"}}
        assert appliance.request("PUT", "/api/v1/apps/temp", body)[0] == 200
        sender.publish("den/temp", "0", retain=True).wait_for_publish(10)  # there whenever the bridge subscribes
        wait_for(lambda: appliance.v.hget(store.LIVE_VALUES, "den/temp") == b"0", what="the first value")
        with _changes(appliance) as changed:
            for value in range(1, 6):
                frame = appliance.v.hget(store.app_frames_key("temp"), "live")
                sender.publish("den/temp", str(value)).wait_for_publish(10)
                wait_for(
                    lambda frame=frame: appliance.v.hget(store.app_frames_key("temp"), "live") != frame,
                    what=f"value {value} drawn",
                )
        assert changed == []
        assert appliance.request("GET", "/api/v1/apps/temp")[1]["live"][0]["value"] == "5"
    finally:
        if sender:
            sender.publish("den/temp", "", retain=True).wait_for_publish(10)
            sender.close()
        broker.terminate()
        broker.wait(10)
