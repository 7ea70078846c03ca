"""The job service in-process, with no HTTP in between: real Redis, real RQ
queues, no worker (what it queues stays queued). Every front door (HTTP now,
MQTT and the AWTRIX API next) gets exactly these rules."""

import base64
import time
from datetime import datetime, timedelta

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from appliance import fresh_database
from media import animated, png_bomb, still
from pixie import config as configuration
from pixie import errors, store
from pixie.queues import FUNCTIONS, Queues
from pixie.service import JobService
from pixie.spec import NightMode
from pixie.vocabulary import KINDS, PRIORITIES, STATES, TERMINAL
from pixie.web.problems import status_of
from testsupport.servers import free_port


@pytest.fixture
def service(redis_server, tmp_path):
    config = configuration.load(tmp_path / "absent.toml", environ={})
    return JobService(redis.Redis.from_url(fresh_database(redis_server)), config)


def test_a_job_is_queued_with_its_record_and_its_rq_job(service):
    accepted = service.submit({"kind": "text", "text": "hi", "priority": "high"})
    assert (accepted.state, accepted.url) == ("queued", f"/api/v1/jobs/{accepted.id}")
    status = service.status(accepted.id)
    assert (status.state, status.kind, status.priority) == ("queued", "text", "high")
    assert Queues(service.r).by_priority["high"].get_job_ids() == [accepted.id]


@pytest.mark.parametrize(
    "data,media,kind,message",
    [
        ({"kind": "text", "text": "hi", "color": "nope"}, None, errors.Invalid, "color: "),
        ({"kind": "text"}, None, errors.Invalid, "text: Field required"),
        ({"kind": "hologram"}, None, errors.Invalid, "hologram"),
        ({"kind": "image"}, None, errors.Invalid, "needs a file"),
        ({"kind": "text", "text": "hi"}, still(), errors.Invalid, "takes no file"),
        ({"kind": "image", "data_b64": "###"}, None, errors.Invalid, "data_b64 is not valid base64"),
        ({}, b"not an image", errors.Unsupported, "not an image in a supported format"),
        ({}, png_bomb(), errors.TooLarge, "pixels"),
        ({"kind": "fill", "color": "red", "duration_s": 1, "repeat": 2}, None, errors.Invalid, "not both"),
    ],
)
def test_bad_jobs_are_refused_with_a_reason_and_nothing_is_queued(service, data, media, kind, message):
    with pytest.raises(kind, match=message):
        service.submit(data, media)
    assert Queues(service.r).counts()["default"]["queued"] == 0
    assert store.recent(service.r) == []


def test_refusals_map_to_http_codes_most_specific_first():
    assert [status_of(e("x")) for e in (errors.TooLarge, errors.Unsupported, errors.Invalid)] == [413, 415, 422]
    assert [status_of(e("x")) for e in (errors.NotFound, errors.Conflict, errors.Unavailable)] == [404, 409, 503]


def test_a_file_decides_between_image_and_animation(service):
    image = service.submit({}, still())
    gif = service.submit({"data_b64": base64.b64encode(animated()).decode()})
    assert (service.status(image.id).kind, service.status(gif.id).kind) == ("image", "animation")


def test_cancel_a_waiting_job_then_it_has_ended(service):
    job = service.submit({"kind": "clear"})
    canceled = service.cancel(job.id)
    assert (canceled.state, canceled.reason) == ("canceled", "canceled")
    assert Queues(service.r).by_priority["default"].get_job_ids() == []
    with pytest.raises(errors.Conflict, match="already ended"):
        service.cancel(job.id)
    with pytest.raises(errors.Conflict, match="only a failed job"):
        service.requeue(job.id)


def test_a_named_job_replaces_the_one_before_it(service):
    first = service.submit({"kind": "text", "text": "1", "name": "score"})
    second = service.submit({"kind": "text", "text": "2", "name": "score"})
    assert service.status(first.id).reason == f"replaced by {second.id}"
    assert service.status(second.id).state == "queued"


def test_unknown_and_malformed_ids_are_not_found(service):
    for job_id in ("0" * 32, "../etc", "x" * 200):
        with pytest.raises(errors.NotFound):
            service.status(job_id)


def test_recent_jobs_newest_first_filtered_by_state(service):
    ids = [service.submit({"kind": "fill", "color": c}).id for c in ("red", "green", "blue")]
    service.cancel(ids[1])
    assert [j.id for j in service.recent(10)] == ids[::-1]
    assert [j.id for j in service.recent(10, "canceled")] == [ids[1]]
    assert [j.id for j in service.recent(1)] == [ids[2]]


def test_brightness_is_kept_and_sent_to_the_display(service):
    assert service.brightness() == 100  # the configured default
    assert service.set_brightness(40) == 40
    assert service.brightness() == 40
    assert store.take_commands(service.r, 0.1) == [{"brightness": 40}]
    with pytest.raises(errors.Invalid, match="0..100"):
        service.set_brightness(101)


def _around_now(brightness: int) -> dict:
    """A night-mode window open now: from an hour ago to an hour ahead (local time, as the C library says)."""
    start, end = (datetime.now().astimezone() + timedelta(hours=h) for h in (-1, 1))
    return {"start": f"{start:%H:%M}", "end": f"{end:%H:%M}", "brightness": brightness}


def test_night_mode_sets_the_brightness_while_its_window_is_open(service):
    service.set_brightness(80)
    state = service.set_night_mode(NightMode(windows=[_around_now(10)]))
    assert (state.brightness, state.window_open) == (10, True)
    assert state.next_change is not None and 3500 < state.next_change.timestamp() - time.time() < 3700
    assert store.take_commands(service.r, 0.1)[-1] == {"brightness": 10}
    assert service.set_night_mode(NightMode(windows=[])).brightness == 80  # off: the base again


def test_a_brightness_set_in_a_window_holds_until_it_closes_and_keeps_the_base(service):
    service.set_brightness(80)
    service.set_night_mode(NightMode(windows=[_around_now(10)]))
    assert service.set_brightness(55) == 55
    assert service.brightness() == 55
    assert service.r.get(store.BRIGHTNESS) == b"80"  # the base is what shows once the window closes
    assert 3500 < service.r.ttl(store.MANUAL_BRIGHTNESS) < 3700  # it expires as the window closes
    assert service.set_night_mode(NightMode(windows=[])).brightness == 80


def test_health_needs_a_worker_and_a_fresh_display_heartbeat(service):
    assert service.health() == {"ok": False, "redis": True, "workers": 0, "display_heartbeat_age_s": None}


def test_redis_down_is_unavailable_not_a_crash(tmp_path):
    config = configuration.load(tmp_path / "absent.toml", environ={})
    unreachable = redis.Redis(port=free_port(), retry=Retry(NoBackoff(), 0))  # no port answers: fail at once
    down = JobService(unreachable, config)
    with pytest.raises(errors.Unavailable, match="redis is unavailable"):
        down.submit({"kind": "clear"})
    assert down.health()["redis"] is False


def test_one_vocabulary_for_states_priorities_and_kinds():
    assert set(TERMINAL) < set(STATES)
    assert PRIORITIES == ("high", "default", "low")
    assert set(KINDS) == set(FUNCTIONS)  # every kind has its render function
