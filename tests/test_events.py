"""`GET /api/v1/events`, the appliance's live events as Server-Sent Events, read over real HTTP by
a client written from the event-stream format (testsupport/sse.py), against real appliances."""

import json

import redis

from pixie import store
from testsupport.servers import wait_for
from testsupport.sse import Listener

A_JOB = ["queued", "rendering", "ready", "playing", "done"]


def flood(appliance, count: int, pad: int = 0) -> list[str]:
    """`count` events of a kind no client knows, straight into the stream as the appliance's
    publisher writes them; their ids."""
    with appliance.v.pipeline(transaction=False) as p:
        for n in range(count):
            store.event(p, "flood", n=n, pad="x" * pad)
        return [event_id.decode() for event_id in p.execute()]


def stream_events(listener: Listener) -> list[tuple[str, str, str]]:
    """(id, kind, data) of the events that came from the stream (health is looked at, not stored)."""
    return [(e.last_id, e.type, e.data) for e in list(listener.events) if e.type != "health"]


def blocked_reads(url: str) -> int:
    """Connections to the Redis database at `url` waiting in an XREAD."""
    db = url.rsplit("/", 1)[1]
    clients = redis.Redis.from_url(url).client_list()
    return sum(c["db"] == db and c["cmd"] == "xread" and "b" in c["flags"] for c in clients)


def position(event_id: str) -> tuple[int, int]:
    return tuple(map(int, event_id.split("-")))


def test_a_client_sees_its_job_go_from_queued_to_done_in_order(stack):
    with Listener(stack.url + "/api/v1/events") as events:
        assert events.response.status == 200
        assert events.response.headers["Content-Type"].startswith("text/event-stream")
        job = stack.submit(kind="fill", color="red", duration_s=0.2)
        events.wait(lambda: "done" in events.states(job), "the job done")
        assert events.states(job) == A_JOB
        assert any(e.json()["job"] == job for e in events.of("showing")), "what the panel shows, told"
        ids = [position(e.last_id) for e in events.events]
        assert ids == sorted(ids) and len(set(ids)) == len(ids), "each event its own id, in the stream's order"
    assert stack.state(job)["state"] == "done"


def test_reconnecting_with_the_last_event_id_replays_exactly_what_was_missed(stack):
    with Listener(stack.url + "/api/v1/events") as everything:
        first = Listener(stack.url + "/api/v1/events")
        job = stack.submit(kind="fill", color="blue", duration_s=0.2)
        first.wait(lambda: first.states(job), "the job's first event")
        first.close()
        last = first.events[-1].last_id
        everything.wait(lambda: "done" in everything.states(job), "the job done")
        seen = stream_events(everything)
        missed = seen[[event_id for event_id, _, _ in seen].index(last) + 1 :]
        assert ("job", {"id": job, "state": "done"}) in [(kind, json.loads(data)) for _, kind, data in missed]
        for again in (
            Listener(stack.url + "/api/v1/events", last_event_id=last),
            Listener(stack.url + f"/api/v1/events?last_event_id={last}"),
        ):
            with again:
                again.wait(lambda a=again: len(stream_events(a)) >= len(missed), "the replay")
                assert stream_events(again)[: len(missed)] == missed


def test_an_id_the_stream_no_longer_holds_is_told_as_missed_then_the_stream_goes_on(stack):
    trimmed = flood(stack, 1)[0]
    newest = flood(stack, store.EVENTS_MAX + 500)[-1]
    assert not stack.v.xrange(store.EVENTS, trimmed, trimmed)
    for last in (trimmed, "not-an-id"):
        with Listener(stack.url + "/api/v1/events", last_event_id=last) as events:
            events.wait(lambda e=events: e.events, "a first event")
            missed = events.events[0]
            assert missed.type == "missed" and f"after {last}" in missed.json()["reason"]
            assert position(missed.last_id) >= position(newest), "a reconnection goes on from where this one started"
            job = stack.submit(kind="clear", duration_s=0.1)
            events.wait(lambda e=events, j=job: "done" in e.states(j), "the stream going on")
            assert len(events.of("missed")) == 1


def test_a_job_filter_gives_that_jobs_events_only(stack):
    timed = stack.submit(kind="fill", color="green", duration_s=0.2, in_s=1)
    with Listener(stack.url + f"/api/v1/events?job={timed}") as mine:
        other = stack.submit(kind="fill", color="yellow", duration_s=0.2)
        mine.wait(lambda: "done" in mine.states(timed), "the timed job done", timeout=60)
        stack.wait_state(other, "done")
        assert {(e.type, e.json()["id"]) for e in mine.events} == {("job", timed)}
        assert mine.states(timed)[-3:] == ["ready", "playing", "done"]


def test_a_client_that_stops_reading_holds_up_neither_another_client_nor_a_job(stack):
    """A client that reads nothing after the headers, with a small receive window, while 10 MB of
    events go by: the other client gets every one of them, a job plays, and the stalled client,
    reading again, gets what was in flight, then `missed` and the end of its stream."""
    stalled = Listener(stack.url + "/api/v1/events", receive_buffer=4096, reading=False)
    with Listener(stack.url + "/api/v1/events") as reader:
        sent = []

        def caught_up() -> bool:
            return len(reader.of("flood")) == len(sent)

        for _ in range(20):  # in rounds the reader keeps up with: the stream keeps the last ~1000
            sent += flood(stack, 500, pad=1000)
            reader.wait(caught_up, "the reader keeping up")
        assert [e.last_id for e in reader.of("flood")] == sent
        job = stack.submit(kind="fill", color="white", duration_s=0.2)
        reader.wait(lambda: "done" in reader.states(job), "the job done")
        assert reader.states(job) == A_JOB
    stalled.start()
    assert stalled.ended.wait(60), "the stalled client's stream did not end"
    got = [e.last_id for e in stalled.of("flood")]
    assert got == sent[: len(got)] and len(got) < len(sent), "what was in flight, in order, then a gap"
    assert stalled.events[-1].type == "missed" and "fell behind" in stalled.events[-1].json()["reason"]
    stalled.close()


def test_an_idle_stream_is_kept_alive_and_a_client_that_goes_frees_its_read(stack):
    before = blocked_reads(stack.volatile_url)
    with Listener(stack.url + "/api/v1/events?job=none-such") as idle:
        wait_for(lambda: blocked_reads(stack.volatile_url) == before + 1, what="the stream's read waiting in Redis")
        idle.wait(lambda: idle.comments, "a keep-alive comment", timeout=30)
        assert not idle.events
    wait_for(lambda: blocked_reads(stack.volatile_url) == before, what="the read ended with the client", timeout=10)


def test_health_changes_are_events(make_appliance):
    appliance = make_appliance()
    appliance.start_web()
    appliance.start_worker("1")
    appliance.start_display()
    with Listener(appliance.url + "/api/v1/events") as events:
        wait_for(lambda: blocked_reads(appliance.volatile_url) == 1, what="the stream reading")
        worker = appliance.procs.pop("worker1")
        worker.terminate()
        worker.wait(30)
        events.wait(lambda: events.of("health"), "a health event")
        appliance.start_worker("2")
        events.wait(lambda: len(events.of("health")) == 2, "health back")
        assert [e.json() for e in events.of("health")] == [{"health": "no render worker"}, {"health": "ok"}]


def test_reads_need_no_token_and_the_stream_is_in_the_openapi_document(guarded):
    with Listener(guarded.url + "/api/v1/events") as events:
        assert events.response.status == 200
    schema = guarded.request("GET", "/openapi.json")[1]
    answer = schema["paths"]["/api/v1/events"]["get"]["responses"]["200"]["content"]
    assert list(answer) == ["text/event-stream"]


def test_a_volatile_redis_that_goes_away_ends_the_stream_with_missed(make_appliance, tmp_path):
    from testsupport.servers import redis_server

    proc, url = redis_server(tmp_path)
    appliance = make_appliance(redis_volatile_url=f"{url}/0")
    appliance.start_web()
    try:
        with Listener(appliance.url + "/api/v1/events") as events:
            wait_for(lambda: blocked_reads(f"{url}/0") == 1, what="the stream reading")
            proc.terminate()
            proc.wait(10)
            assert events.ended.wait(30), "the stream did not end"
            assert events.events[-1].type == "missed" and "unavailable" in events.events[-1].json()["reason"]
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(10)
