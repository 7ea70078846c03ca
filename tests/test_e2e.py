"""End to end with real processes: HTTP → Redis → `rq worker` → display
process on the headless STAND-IN panel, which records every frame it swaps."""

import base64
import hashlib
import io
import signal
import statistics
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from rq import Queue
from rq.job import Job
from rq.serializers import JSONSerializer

from media import animated, still
from pixie import spec as specs
from pixie import store
from pixie.config import Render
from pixie.render import kinds
from testsupport.servers import wait_for

RED, GREEN, BLUE, WHITE, BLACK = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255), (0, 0, 0)


# 1,500 frames, each its own colour, scaled down to the panel: a render of ~0.4 s here, 30 s of playing.
LONG_PALETTE = [(i % 256, 64 + i // 256 * 24, 160) for i in range(1500)]
LONG_GIF = animated("GIF", colors=LONG_PALETTE, delay_ms=20, size=(128, 64))


def runs(values: list) -> list:
    """`values` with each run of equal neighbours once: what showed, in order, however long each held."""
    return [v for k, v in enumerate(values) if k == 0 or v != values[k - 1]]


def _long_gif_played(stack, mark: int) -> list[tuple[int, int]]:
    """(swap time, frame index) of LONG_GIF's frames on the panel since `mark`."""
    index = {color: i for i, color in enumerate(LONG_PALETTE)}
    return [(ns, index[c]) for ns, f in frames_since(stack, mark) if (c := solid(f)) in index]


def colors(frame: bytes) -> set[tuple[int, int, int]]:
    return set(zip(frame[0::3], frame[1::3], frame[2::3], strict=True))


def solid(frame: bytes):
    found = colors(frame)
    return found.pop() if len(found) == 1 else None


def idle(stack) -> bool:
    view = stack.request("GET", "/api/v1/queue")[1]
    busy = sum(count["queued"] + count["started"] for count in view["queues"].values())
    return not busy and not view["ready"] and not view["now_playing"]


def frames_since(stack, mark: int) -> list[tuple[int, bytes]]:
    return stack.frames()[mark:]


def test_text_job_shows_its_pixels(stack):
    mark = len(stack.frames())
    job = stack.submit(kind="text", text="Hi", color="red", duration_s=0.3)
    state = stack.wait_state(job, "done", "failed")
    assert state["state"] == "done", state
    shown = [colors(f) for _, f in frames_since(stack, mark)]
    # Crisp red text on black: pure red and black, nothing between (a bitmap font, not anti-aliased).
    text = [c for c in shown if RED in c]
    assert text, "the panel never showed the red text"
    assert text[0] == {RED, BLACK}


def test_a_jobs_record_says_which_characters_fell_back_and_which_no_font_has(stack):
    job = stack.submit(kind="text", text="Tokyo 東京 🙂", font="6x13", top_text="Ж", duration_s=0.3)
    notes = stack.wait_state(job, "done")["notes"]
    assert notes["glyphs"] == {"fallback": {"unifont": "東京"}, "missing": "🙂"}
    plain = stack.submit(kind="text", text="Zażółć gęślą jaźń", font="6x13", duration_s=0.3)
    assert stack.wait_state(plain, "done").get("notes") is None  # 6x13 has all of Polish
    # an app's state says the same of its render
    app = {"content": {"kind": "text", "text": "雨 🙂", "font": "6x13"}, "enabled": False}
    assert stack.request("PUT", "/api/v1/apps/rain", app)[0] == 200
    state = wait_for(lambda: (a := stack.request("GET", "/api/v1/apps/rain")[1])["rendered"] and a, what="rendered")
    assert state["notes"] == {"glyphs": {"fallback": {"unifont": "雨"}, "missing": "🙂"}}
    assert stack.request("DELETE", "/api/v1/apps/rain")[0] == 200


def test_animation_plays_its_frames_in_order_with_their_delays(stack):
    mark = len(stack.frames())
    gif = base64.b64encode(animated("GIF", colors=(RED, GREEN, BLUE), delay_ms=80)).decode()
    job = stack.submit(kind="animation", data_b64=gif, repeat=2)
    assert stack.wait_state(job, "done", "failed")["state"] == "done"
    played = [(ns, solid(f)) for ns, f in frames_since(stack, mark)]
    sequence = [c for _, c in played if c in (RED, GREEN, BLUE)]
    assert sequence == [RED, GREEN, BLUE, RED, GREEN, BLUE]
    first = next(i for i, (_, c) in enumerate(played) if c == RED)
    # Each frame against its time, counted from the first's (the display keeps a deadline per frame, so a
    # late swap does not move the next): README: never before it; late by scheduling noise only (the
    # benchmarks measure the pacing itself).
    late_ms = [(played[first + k][0] - played[first][0]) / 1e6 - 80 * k for k in range(1, 6)]
    assert min(late_ms) > -5, late_ms
    assert statistics.median(late_ms) < 25, late_ms


def test_a_long_animation_starts_on_its_first_frames_while_the_rest_renders(stack):
    """1,500 frames scaled down to the panel (a render of ~0.4 s here): its first frame is on the panel
    before its render job has ended, and its frames play on in order across the end of the head the
    display started on, none missed or shown twice."""
    mark = len(stack.frames())
    job = stack.submit(kind="animation", data_b64=base64.b64encode(LONG_GIF).decode(), fit="fill", duration_s=2)
    assert stack.wait_state(job, "done", "failed", timeout=60)["state"] == "done"
    played = _long_gif_played(stack, mark)
    shown = runs([i for _, i in played])
    assert shown == list(range(len(shown))) and len(shown) > 60, shown  # 2 s of 20 ms frames: ~100
    rendered = Job.fetch(job, connection=stack.r, serializer=JSONSerializer).ended_at
    assert played[0][0] / 1e9 < rendered.replace(tzinfo=rendered.tzinfo or UTC).timestamp()


def test_a_long_scrolling_text_starts_on_its_head_and_scrolls_on_across_its_end(stack):
    """About 1,300 frames (40 s of scrolling): the worker hands the display the first half second of them,
    then the whole; 2 s of it play in the order the renderer draws them, none missed or shown twice."""
    text = "A long scrolling text starts on its head. " * 3  # the job's own: no cached whole to start on
    job = {"kind": "text", "text": text, "duration_s": 2}
    rendered = [frame for frame, _ in kinds.render(specs.parse(job), None, 64, 32, Render())]
    counts = Counter(rendered)
    index = {frame: i for i, frame in enumerate(rendered) if counts[frame] == 1}  # not the blank ones
    mark = len(stack.frames())
    job_id = stack.submit(**job)
    assert stack.wait_state(job_id, "done", "failed", timeout=60)["state"] == "done"
    assert stack.r.hget(store.record_key(job_id), "rest") == b""  # started on a head, the whole then stored
    shown = runs([index[f] for _, f in frames_since(stack, mark) if f in index])
    first = min(index.values())
    assert shown == list(range(first, first + len(shown))) and len(shown) > 40, shown  # 2 s: ~64, the head 16


def test_a_long_animation_whose_whole_the_cache_drops_while_it_plays_ends_with_what_it_has(stack):
    """The render cache is bounded: a burst of renders may drop the whole of an animation that plays. The
    display plays the frames it has read and ends the job, not waiting for frames that will not come again
    (worker.job_timeout_s, 60 s); the whole would have played for 30 s."""
    mark = len(stack.frames())
    # fit: not the other test's, whose frames the cache may hold (then there is no head to start on)
    job = stack.submit(kind="animation", data_b64=base64.b64encode(LONG_GIF).decode(), fit="fit")

    def stored():  # the worker says the whole is in the cache
        record = stack.r.hgetall(store.record_key(job))
        return record.get(b"rest") == b"" and record[b"stream"]

    stack.v.delete(wait_for(stored, timeout=30, what="the whole stored"))
    assert stack.wait_state(job, "done", "failed", timeout=20)["state"] == "done"
    assert 25 <= len({i for _, i in _long_gif_played(stack, mark)}) < 1500  # its head and some more


def test_a_long_animation_whose_rest_fails_to_render_fails_and_the_panel_moves_on(stack):
    """Sent straight to RQ (no upload check), a GIF cut off half-way: its head renders, the rest cannot
    be decoded. The job fails saying why, and the display does not wait for frames that never come
    (it would give up only after worker.job_timeout_s, 60 s)."""
    palette = [(i % 256, 64, 160) for i in range(256)]
    gif = animated("GIF", colors=palette, delay_ms=20, size=(128, 64))
    queue = Queue("default", connection=stack.r, serializer=JSONSerializer)
    cut = queue.enqueue("pixie.jobs.show_animation", data_b64=base64.b64encode(gif[: len(gif) // 2]).decode())
    assert "image file is truncated" in stack.wait_state(cut.id, "failed", timeout=30)["reason"]
    after = stack.submit(kind="fill", color="white", duration_s=0.2)
    assert stack.wait_state(after, "done", "failed", timeout=15)["state"] == "done"


def test_high_priority_preempts_low_which_resumes(stack):
    mark = len(stack.frames())
    low = stack.submit(kind="fill", color="blue", priority="low", duration_s=2)
    stack.wait_state(low, "playing")
    high = stack.submit(kind="fill", color="red", priority="high", duration_s=0.3)
    assert stack.wait_state(high, "done")["state"] == "done"
    assert stack.state(low)["state"] in ("playing", "ready")
    assert stack.wait_state(low, "done")["state"] == "done"
    sequence = [solid(f) for _, f in frames_since(stack, mark)]
    shown = [c for i, c in enumerate(sequence) if c in (RED, BLUE) and (i == 0 or sequence[i - 1] != c)]
    assert shown == [BLUE, RED, BLUE]
    assert stack.state(high)["finished"] < stack.state(low)["finished"]


def test_identical_content_sent_again_is_not_rendered_again(stack):
    # one after the other: two workers may well render two identical jobs sent together side by side
    jobs = []
    for _ in range(2):
        jobs.append(stack.submit(kind="pattern", pattern="gradient", duration_s=0.1))
        assert stack.wait_state(jobs[-1], "done", "failed")["state"] == "done"
    results = [Job.fetch(j, connection=stack.r, serializer=JSONSerializer).return_value() for j in jobs]
    assert results[0]["stream"] == results[1]["stream"]
    assert results[1]["cached"] is True


def test_dismissing_a_playing_job_moves_on(stack):
    long = stack.submit(kind="fill", color="green", duration_s=60)
    stack.wait_state(long, "playing")
    status, body, _ = stack.request("DELETE", f"/api/v1/jobs/{long}")
    assert (status, body["state"]) == (200, "canceled")
    nxt = stack.submit(kind="clear", duration_s=0.1)
    assert stack.wait_state(nxt, "done", timeout=10)["state"] == "done"
    assert stack.state(long)["state"] == "canceled"


def test_brightness_is_applied_by_the_display(stack):
    mark = len(stack.frames())
    job = stack.submit(kind="fill", color="white", duration_s=1.5)
    stack.wait_state(job, "playing")
    assert stack.request("PUT", "/api/v1/brightness", {"brightness": 50})[0] == 200
    try:
        wait_for(lambda: (127, 127, 127) in {solid(f) for _, f in frames_since(stack, mark)}, what="dimmed frame")
        assert stack.wait_state(job, "done")["state"] == "done"
    finally:
        stack.request("PUT", "/api/v1/brightness", {"brightness": 100})


def test_a_night_mode_window_dims_the_panel_while_open_then_the_base_returns(stack):
    mark = len(stack.frames())
    job = stack.submit(kind="fill", color="white", duration_s=20)
    stack.wait_state(job, "playing")
    now = datetime.now().astimezone()  # the device's local time, as the C library says
    opens, closes = ((now + timedelta(seconds=s)).replace(microsecond=0) for s in (3, 9))
    window = {"start": opens.strftime("%H:%M:%S"), "end": closes.strftime("%H:%M:%S"), "brightness": 20}
    try:
        status, body, _ = stack.request("PUT", "/api/v1/schedule", {"windows": [window]})
        assert (status, body["window_open"], body["brightness"]) == (200, False, 100), body
        dim = (51, 51, 51)  # white at 20 %
        wait_for(lambda: dim in {solid(f) for _, f in frames_since(stack, mark)}, timeout=15, what="dimmed")
        wait_for(lambda: solid(stack.frames()[-1][1]) == WHITE, timeout=15, what="the base brightness back")
        swaps = [(ns / 1e9, solid(f)) for ns, f in frames_since(stack, mark)]
        dimmed = [t for t, c in swaps if c == dim]
        # never before the window's edges; the watcher looks each second (3 s: a busy machine)
        assert opens.timestamp() <= dimmed[0] < opens.timestamp() + 3, (dimmed[0], opens)
        back = [t for t, c in swaps if c == WHITE and t > dimmed[0]][0]
        assert closes.timestamp() <= back < closes.timestamp() + 3, (back, closes)
    finally:
        stack.request("PUT", "/api/v1/schedule", {"windows": []})
        stack.request("DELETE", f"/api/v1/jobs/{job}")


def test_a_night_mode_fade_moves_the_panels_brightness_over_its_minutes(stack):
    """A 2-minute fade from 100 % to 0 that began a minute ago: the panel is half way, and dims on."""
    percent = {(255 * b // 100,) * 3: b for b in range(101)}  # white at b %, as the stand-in applies it
    assert stack.request("PUT", "/api/v1/brightness", {"brightness": 100})[0] == 200  # the base
    job = stack.submit(kind="fill", color="white", duration_s=60)
    stack.wait_state(job, "playing")
    opens = (datetime.now().astimezone() - timedelta(seconds=60)).replace(microsecond=0)  # the device's time
    closes = opens + timedelta(minutes=30)
    window = {"start": opens.strftime("%H:%M:%S"), "end": closes.strftime("%H:%M:%S"), "brightness": 0, "fade_min": 2}

    def due(t: float) -> float:
        return 100 * (1 - (t - opens.timestamp()) / 120)

    def dimmed() -> list[tuple[float, int]]:
        """(swap time, brightness) of the frames since the fade began to show."""
        swaps = [(ns / 1e9, percent.get(solid(f))) for ns, f in frames_since(stack, mark)]
        return [(t, b) for t, b in swaps if b is not None and b < 100]

    def off_the_fade() -> list[tuple[float, int]]:
        """The frames not as bright as the fade said at their swap, or up to 5 s before (the display looks
        each second, later on a busy machine): (seconds into the window, brightness)."""
        return [(round(t - opens.timestamp(), 1), b) for t, b in dimmed() if not due(t) - 1 <= b <= due(t - 5) + 1]

    mark = len(stack.frames())
    try:
        assert stack.request("PUT", "/api/v1/schedule", {"windows": [window]})[0] == 200
        first = wait_for(lambda: dimmed(), timeout=10, what="the fade on the panel")[0][1]
        assert off_the_fade() == []  # about half way, a minute into two
        wait_for(lambda: dimmed()[-1][1] <= first - 3, timeout=20, what="the fade dimming on")
        assert off_the_fade() == []
    finally:
        stack.request("PUT", "/api/v1/schedule", {"windows": []})
        stack.request("DELETE", f"/api/v1/jobs/{job}")


def test_screen_png_shows_what_plays(stack):
    job = stack.submit(kind="fill", color="#00ff00", duration_s=3)
    stack.wait_state(job, "playing")

    def green_on_screen():
        _, png, _ = stack.request("GET", "/api/v1/screen.png?scale=2")
        image = Image.open(io.BytesIO(png)).convert("RGB")
        return image.size == (128, 64) and image.getpixel((10, 10)) == GREEN

    wait_for(green_on_screen, timeout=5, what="green preview")
    stack.request("DELETE", f"/api/v1/jobs/{job}")


def test_healthz_and_queue_view_with_everything_running(stack):
    status, body, _ = stack.request("GET", "/healthz")
    assert status == 200, body
    assert body["workers"] == 2
    assert body["display_heartbeat_age_s"] < 2
    view = stack.request("GET", "/api/v1/queue")[1]
    assert len(view["workers"]) == 2


def test_other_projects_enqueue_by_dotted_path_with_json(stack):
    queue = Queue("default", connection=stack.r, serializer=JSONSerializer)
    good = queue.enqueue("pixie.jobs.show_fill", color="#0000ff", duration_s=0.2)
    bad = queue.enqueue("pixie.jobs.show_text", text="x" * 500)
    assert stack.wait_state(good.id, "done", "failed")["state"] == "done"
    failed = stack.wait_state(bad.id, "failed")
    assert "at most 200 characters" in failed["reason"]
    legacy = stack.request("GET", "/pixie/queue?n=1")[1]["id"]
    assert stack.wait_state(legacy, "done", "failed", timeout=15)["state"] == "done"


def test_a_worker_killed_mid_job_loses_nothing(make_appliance):
    """SIGKILL a render worker while it renders: once its heartbeat lapses (rq
    adds 60 s), rq's cleanup retries the job; the next job plays meanwhile."""
    appliance = make_appliance(worker_maintenance_interval_s=3, render_max_image_pixels=16_000_000)
    appliance.start_web()
    appliance.start_display()
    worker = appliance.start_worker("1")
    frames = [(i * 13 % 256, i * 7 % 256, 255 - i) for i in range(16)]
    heavy = base64.b64encode(animated("GIF", colors=frames, size=(2000, 2000))).decode()
    job = appliance.submit(kind="animation", data_b64=heavy, fit="fill")
    appliance.wait_state(job, "rendering", timeout=20, interval=0.02)
    worker.send_signal(signal.SIGKILL)
    worker.wait(5)
    appliance.start_worker("2")  # what systemd's Restart=always does
    nxt = appliance.submit(kind="text", text="next", duration_s=0.1)
    assert appliance.wait_state(nxt, "done", "failed")["state"] == "done"
    assert appliance.state(job)["state"] in ("rendering", "queued")
    final = appliance.wait_state(job, "done", "failed", timeout=240)
    assert final["state"] == "done", final
    assert Job.fetch(job, connection=appliance.r, serializer=JSONSerializer).retries_left == 0


def test_display_killed_mid_job_plays_it_again_after_restart(make_appliance):
    appliance = make_appliance()
    appliance.start_web()
    appliance.start_worker("1")
    appliance.start_display()
    job = appliance.submit(kind="fill", color="red", duration_s=2)
    appliance.wait_state(job, "playing")
    appliance.procs["display"].send_signal(signal.SIGKILL)
    appliance.procs["display"].wait(5)
    mark = len(appliance.frames())
    appliance.start_display()
    assert appliance.wait_state(job, "done", timeout=20)["state"] == "done"
    assert RED in {solid(f) for _, f in appliance.frames()[mark:]}


@pytest.mark.parametrize("kind", ["clear", "pattern"])
def test_still_kinds_play(stack, kind):
    job = stack.submit(kind=kind, duration_s=0.1)
    assert stack.wait_state(job, "done", "failed")["state"] == "done"


def test_one_upload_serves_every_job_that_uses_it_then_is_freed(stack):
    png = still("PNG", (255, 0, 255), (80, 40))
    ids = []
    for fit in ("fill", "center"):
        status, body, _ = stack.request(
            "POST", f"/api/v1/jobs?fit={fit}&duration_s=0.1", png, {"Content-Type": "image/png"}
        )
        assert status == 202, body
        ids.append(body["id"])
    for job in ids:
        assert stack.wait_state(job, "done", "failed")["state"] == "done"
    assert not stack.r.exists(f"pixie:blob:{hashlib.sha256(png).hexdigest()}")


def test_a_timed_job_plays_at_its_time_and_a_canceled_one_never(stack):
    """RQ's scheduler (pixie's, in the worker started --with-scheduler) enqueues them at their time.
    8 s ahead: longer than one wait of the scheduler's (and than redis-py's 5 s socket timeout)."""
    mark = len(stack.frames())
    magenta, cyan = (255, 0, 255), (0, 255, 255)
    t0 = time.time()
    at = (datetime.now().astimezone() + timedelta(seconds=8)).strftime("%H:%M:%S")  # a time of day, the device's
    job = {"kind": "fill", "color": "magenta", "duration_s": 0.5, "at": at}
    status, body, _ = stack.request("POST", "/api/v1/jobs", job)
    assert (status, body["state"]) == (202, "scheduled"), body
    timed = body["id"]
    canceled = stack.submit(kind="fill", color="cyan", duration_s=0.5, in_s=4.3)
    assert stack.state(canceled)["state"] == "scheduled"
    assert stack.state(canceled)["at"] % 1 == 0  # RQ counts whole seconds: the next one, never early
    assert stack.request("DELETE", f"/api/v1/jobs/{canceled}")[1]["state"] == "canceled"
    assert abs(stack.state(timed)["at"] - (t0 + 8)) < 1.5
    assert stack.wait_state(timed, "done", timeout=20)["state"] == "done"
    wait_for(lambda: idle(stack), what="nothing queued, rendering, waiting or playing")  # past the canceled one's time
    shown = [(ns / 1e9, solid(f)) for ns, f in frames_since(stack, mark)]
    first = next(t for t, c in shown if c == magenta)
    due = datetime.fromisoformat(datetime.now().strftime("%Y-%m-%dT") + at).timestamp()
    assert due <= first <= due + 2, first - due  # README: within 2 s of its time, never before it
    assert cyan not in {c for _, c in shown}
    assert stack.state(canceled)["state"] == "canceled"
    log = (stack.processes.log_dir / "worker1.log").read_text()
    assert "Scheduler" in log and "raised an exception" not in log, log[-3000:]
