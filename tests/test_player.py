"""The display's playback loop in-process: real Redis, the headless STAND-IN
panel, and a fake clock, so preemption, resume, dismissal and brightness are
played out in milliseconds. The test plays the watcher's part: it puts the
typed commands the watcher would put on the player's queue."""

import heapq
import itertools
import queue

import pytest
import redis

from appliance import fresh_database
from pixie import config as configuration
from pixie import store, stream
from pixie.display.backends import Headless
from pixie.display.player import Apps, Brightness, Dismiss, NewWork, Player, Streamed, Transition
from pixie.display.rotation import Entry
from pixie.vocabulary import RANK

W, H = 8, 4
RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


class FakeClock:
    """Time that passes only when the player waits; events fire at their time, in the player's thread."""

    def __init__(self):
        self.now = 0.0
        self.events = []
        self.order = itertools.count()

    def monotonic(self) -> float:
        return self.now

    time = monotonic

    def at(self, when: float, action) -> None:
        heapq.heappush(self.events, (when, next(self.order), action))

    def get(self, commands: queue.SimpleQueue, timeout: float):
        deadline = self.now + max(0.0, timeout)
        while True:
            try:
                return commands.get(block=False)
            except queue.Empty:
                pass
            if not self.events or self.events[0][0] > deadline:
                self.now = deadline
                return None
            when, _, action = heapq.heappop(self.events)
            self.now = max(self.now, when)
            action()


def solid(rgb) -> bytes:
    return bytes(rgb) * (W * H)


@pytest.fixture
def rig(redis_server, tmp_path):
    config = configuration.load(tmp_path / "absent.toml", environ={})
    config.panel.rows, config.panel.cols = H, W  # a tiny panel: the loop's logic, not its pixels, is tested
    r = redis.Redis.from_url(fresh_database(redis_server))
    clock = FakeClock()
    record = tmp_path / "frames.bin"
    backend = Headless(config.panel, str(record), now_ns=lambda: round(clock.now * 1e9))
    player = Player(config, r, backend, clock=clock)

    class Rig:
        def job(self, job_id: str, priority: str, colors, hold_s: float, **play) -> None:
            """A rendered job, ready for the panel, announced as the watcher would."""
            key = store.stream_key(job_id)
            frames = [(solid(c), round(hold_s * 1e6)) for c in colors]
            store.put_stream(r, key, stream.pack(W, H, frames), 1 << 20)
            with r.pipeline() as p:
                p.multi()
                store.create(p, job_id, kind="fill", priority=priority)
                p.execute()
            store.make_ready(r, r, job_id, priority, stream=key, frames=len(frames), **play)
            player.commands.put(NewWork(RANK[priority]))

        def run(self, until: float) -> list[tuple[float, tuple]]:
            """Play until `until` (fake seconds); (time, colour) of every swap."""
            clock.at(until, player.stop)
            player.run()
            return [(round(ns / 1e9, 3), tuple(frame[:3])) for ns, frame in stream.read_recording(record.read_bytes())]

        def state(self, job_id: str) -> dict:
            return store.get(r, job_id)

    rig = Rig()
    rig.clock, rig.player, rig.r = clock, player, r
    return rig


def test_frames_swap_at_their_hold_times(rig):
    rig.job("a", "default", [RED, GREEN, BLUE], 0.1, repeat=1)
    swaps = rig.run(until=1)
    assert swaps == [(0.0, RED), (0.1, GREEN), (0.2, BLUE), (0.3, (0, 0, 0))]  # then the idle screen
    record = rig.state("a")
    assert record["state"] == "done"
    assert (float(record["started"]), float(record["finished"])) == (0.0, pytest.approx(0.3))


def test_an_urgent_job_preempts_and_the_interrupted_one_resumes_where_it_stopped(rig):
    rig.job("low", "low", [RED, GREEN, BLUE, WHITE], 0.1, repeat=1)
    rig.clock.at(0.15, lambda: rig.job("urgent", "high", [WHITE], 0.5, duration_s=0.3))
    swaps = rig.run(until=2)
    played = [(t, c) for t, c in swaps if c != (0, 0, 0)]
    # Green was up when the urgent job came: it is shown again on resume, then the rest.
    assert played == [(0.0, RED), (0.1, GREEN), (0.15, WHITE), (0.45, GREEN), (0.55, BLUE), (0.65, WHITE)], swaps
    assert rig.state("urgent")["state"] == rig.state("low")["state"] == "done"
    assert float(rig.state("urgent")["finished"]) == pytest.approx(0.45)


def test_news_of_a_job_already_taken_preempts_nothing(rig):
    rig.job("a", "default", [RED, GREEN], 0.1, repeat=1)
    rig.clock.at(0.05, lambda: rig.player.commands.put(NewWork(RANK["high"])))  # stale: nothing high waits
    swaps = rig.run(until=1)
    assert [(t, c) for t, c in swaps if c != (0, 0, 0)] == [(0.0, RED), (0.1, GREEN)], swaps


def test_a_dismissed_job_leaves_the_panel_at_once(rig):
    rig.job("long", "default", [RED], 1.0, duration_s=60)
    rig.clock.at(0.25, lambda: rig.player.commands.put(Dismiss("long")))
    swaps = rig.run(until=1)
    assert swaps[-1] == (0.25, (0, 0, 0)), swaps  # the idle screen, the moment it was dismissed
    record = rig.state("long")
    assert (record["state"], record["reason"], float(record["finished"])) == ("canceled", "dismissed", 0.25)


def test_a_dismissed_job_under_a_preempting_one_is_never_resumed(rig):
    rig.job("low", "low", [RED], 1.0, duration_s=10)
    rig.clock.at(0.1, lambda: rig.job("urgent", "high", [WHITE], 0.2, duration_s=0.2))
    rig.clock.at(0.2, lambda: rig.player.commands.put(Dismiss("low")))
    swaps = rig.run(until=2)
    assert [(t, c) for t, c in swaps if c != (0, 0, 0)] == [(0.0, RED), (0.1, WHITE)], swaps
    assert rig.state("low")["state"] == "canceled"
    assert rig.state("urgent")["state"] == "done"


def test_brightness_applies_to_the_frame_on_the_panel_at_once(rig):
    rig.job("a", "default", [WHITE, WHITE], 0.2, repeat=1)
    rig.clock.at(0.1, lambda: rig.player.commands.put(Brightness(50)))
    swaps = rig.run(until=1)
    assert swaps[:3] == [(0.0, WHITE), (0.1, (127, 127, 127)), (0.2, (127, 127, 127))], swaps


def test_a_stop_mid_job_leaves_it_to_be_played_after_the_restart(rig):
    rig.job("a", "default", [RED], 1.0, duration_s=5)
    rig.run(until=0.5)
    assert rig.state("a")["state"] == "playing"
    assert store.get_json(rig.r, store.ACTIVE) == [["a", "default"]]
    Player(rig.player.config, rig.r, rig.player.backend, clock=rig.clock).start()  # the restarted display
    assert rig.state("a")["state"] == "ready"
    assert store.pop_ready(rig.r) == "a"


# -- transitions -----------------------------------------------------------------------------------


def faded(t: float) -> tuple:
    """Red faded `t` of the way to blue, worked out here rather than by the code under test."""
    return (round(255 * (1 - t)), 0, round(255 * t))


def near(a: tuple, b: tuple) -> bool:
    return all(abs(x - y) <= 1 for x, y in zip(a, b, strict=True))


def test_a_fade_between_jobs_blends_the_last_frame_into_the_next_within_the_next_ones_duration(rig):
    rig.player.commands.put(Transition("fade", 100))
    rig.job("a", "default", [RED], 0.5, duration_s=0.5)
    rig.job("b", "default", [BLUE], 0.5, duration_s=0.5)
    swaps = rig.run(until=2)
    between = [(t, c) for t, c in swaps if 0.5 <= t < 0.6]
    assert [t for t, _ in between] == [0.5, 0.52, 0.54, 0.56, 0.58], swaps  # 5 frames: 50 a second
    for (_, colour), t in zip(between, (0.1, 0.3, 0.5, 0.7, 0.9), strict=True):
        assert near(colour, faded(t)), (colour, t)
    assert (0.6, BLUE) in swaps
    # the first job came on a blank panel: no transition; the second's 0.5 s include its 0.1 s fade
    assert swaps[0] == (0.0, RED) and float(rig.state("b")["finished"]) == pytest.approx(1.0)


def rotation(*entries: Entry) -> Apps:
    return Apps(list(entries))


def test_an_apps_own_transition_wins_over_the_setting_and_dwells_keep_their_length(rig):
    rig.player.commands.put(Transition("fade", 100))
    red = Entry("red", 1, [solid(RED)], [1_000_000], 0.5, transition=("wipe-right", 80))
    blue = Entry("blue", 1, [solid(BLUE)], [1_000_000], 0.5)
    rig.player.commands.put(rotation(red, blue))
    swaps = rig.run(until=1.55)
    leaves = [t for (t, c), (_, before) in zip(swaps[1:], swaps, strict=False) if before in (RED, BLUE) and c != before]
    assert leaves == [0.5, 1.0, 1.5], swaps  # each app's dwell from the first frame of its way in
    into_red = [c for t, c in swaps if 1.0 <= t < 1.08]
    assert len(into_red) == 4  # 80 ms: 4 frames; a wipe to the right: the red's columns from the left
    assert into_red[0] == RED  # the run keeps each frame's first pixel (x 0): red from the first column on
    into_blue = [c for t, c in swaps if 0.5 <= t < 0.6]
    assert len(into_blue) == 5 and all(
        near(c, faded(t)) for c, t in zip(into_blue, (0.1, 0.3, 0.5, 0.7, 0.9), strict=True)
    )


def test_a_transition_takes_at_most_half_of_what_it_leads_to(rig):
    rig.player.commands.put(Transition("fade", 1000))
    rig.job("a", "default", [RED], 0.5, duration_s=0.5)
    rig.job("b", "default", [BLUE], 0.2, duration_s=0.2)
    swaps = rig.run(until=2)
    assert [t for t, c in swaps if 0.5 <= t < 0.7 and c not in (RED, BLUE)] == [0.5, 0.52, 0.54, 0.56, 0.58]
    assert (0.6, BLUE) in swaps and float(rig.state("b")["finished"]) == pytest.approx(0.7)


def test_an_app_alone_in_the_rotation_does_not_transition_into_itself(rig):
    rig.player.commands.put(Transition("fade", 100))
    rig.player.commands.put(rotation(Entry("only", 1, [solid(RED)], [1_000_000], 0.3)))
    swaps = rig.run(until=1)
    assert swaps[0] == (0.0, (0, 0, 0)) and swaps[1][0] == 0.0  # it fades in from the blank panel, once:
    assert {c for t, c in swaps if t >= 0.1} == {RED} and len(swaps) > 8, swaps  # then red, turn after turn


def test_an_urgent_job_cuts_into_a_transition_and_the_interrupted_job_resumes(rig):
    rig.player.commands.put(Transition("dim", 200))
    rig.job("a", "default", [RED], 0.5, duration_s=0.5)
    rig.job("b", "low", [BLUE], 1.0, duration_s=1.0)
    rig.clock.at(0.55, lambda: rig.job("urgent", "high", [WHITE], 0.2, duration_s=0.2))
    swaps = rig.run(until=3)
    assert [c for t, c in swaps if 0.5 <= t < 0.55] != []  # dimming
    urgent = [t for t, c in swaps if c == WHITE]
    assert urgent and urgent[0] >= 0.55 and urgent[0] < 0.6 + 0.2  # its own way in, from the half-dimmed frame
    assert rig.state("b")["state"] == rig.state("urgent")["state"] == "done"


# -- live input ------------------------------------------------------------------------------------


def live(rig, colour, start: float, end: float, every: float = 0.05) -> None:
    """A live input's frames of one colour from `start` to `end`, as the receiver hands them over."""
    t = start
    while t <= end + 1e-9:
        rig.clock.at(t, lambda: rig.player.commands.put(Streamed(solid(colour), "ddp")))
        t += every


def test_a_stream_interrupts_the_rotation_which_resumes_where_it_stopped_a_second_after_the_last_frame(rig):
    red = Entry("red", 1, [solid(RED)], [1_000_000], 1.0)
    blue = Entry("blue", 1, [solid(BLUE)], [1_000_000], 1.0)
    rig.player.commands.put(rotation(red, blue))
    live(rig, GREEN, 0.3, 0.6)
    swaps = rig.run(until=3)
    changes = [(t, c) for (t, c), (_, before) in zip(swaps[1:], swaps, strict=False) if c != before]
    # green from the first streamed frame; red again 1 s (inputs.fallback_s) after the last, its frame shown
    # again from the start (as after a job: the rotation resumes at the frame it showed); then blue
    assert changes == [(0.0, RED), (0.3, GREEN), (1.6, RED), (2.6, BLUE)], swaps
    assert len([c for _, c in swaps if c == GREEN]) == 7  # every frame that came was shown


def test_a_high_job_cuts_into_a_stream_which_goes_on_after_it_and_a_default_job_waits(rig):
    live(rig, GREEN, 0.0, 1.0)
    rig.clock.at(0.2, lambda: rig.job("urgent", "high", [WHITE], 0.2, duration_s=0.2))
    rig.clock.at(0.2, lambda: rig.job("later", "default", [RED], 0.2, duration_s=0.2))
    swaps = rig.run(until=3)
    assert (0.2, WHITE) in swaps and (0.4, GREEN) in swaps, swaps  # the stream again once the high job is done
    assert [t for t, c in swaps if c == RED] == [2.0], swaps  # the default job: a second after the last frame
    assert rig.state("later")["state"] == rig.state("urgent")["state"] == "done"


def test_with_yields_to_none_a_high_job_waits_for_the_stream_to_end(rig):
    rig.player.config.inputs.yields_to = "none"
    live(rig, GREEN, 0.0, 0.5)
    rig.clock.at(0.2, lambda: rig.job("urgent", "high", [WHITE], 0.2, duration_s=0.2))
    swaps = rig.run(until=3)
    assert [t for t, c in swaps if c == WHITE] == [1.5], swaps


def test_a_playing_job_a_stream_interrupts_resumes_where_it_stopped(rig):
    rig.job("long", "default", [RED, BLUE], 0.5, repeat=1)
    live(rig, GREEN, 0.2, 0.3)
    swaps = rig.run(until=3)
    played = [(t, c) for (t, c), (_, before) in zip(swaps[1:], swaps, strict=False) if c != before]
    # red was up for 0.2 of its 0.5 s: on again a second after the stream's last frame, then blue
    assert [c for _, c in played][:3] == [GREEN, RED, BLUE], swaps
    assert [t for t, _ in played][:3] == [0.2, 1.3, 1.8], swaps
    assert rig.state("long")["state"] == "done"


def test_frames_that_queued_up_behind_a_stalled_loop_are_skipped_for_the_newest(rig):
    live(rig, GREEN, 0.0, 0.0)

    def burst():  # three frames at once, as after a stall of the display process
        for colour in (RED, WHITE, BLUE):
            rig.player.commands.put(Streamed(solid(colour), "ddp"))

    rig.clock.at(0.1, burst)
    swaps = rig.run(until=0.5)
    assert [c for t, c in swaps if t == 0.1] == [BLUE], swaps
