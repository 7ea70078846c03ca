"""Durable and volatile state apart (real processes, real Redis, the headless
STAND-IN panel): what is written per frame never reaches the durable Redis,
whose append-only file is on the SD card, and losing the volatile one loses
no job."""

import base64

from media import animated

VOLATILE = (b"pixie:display:heartbeat", b"pixie:display:screen", b"pixie:display:now", b"pixie:display:ctl")


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
