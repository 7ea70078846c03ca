"""Rendering and frame streams, in-process with real Pillow."""

import subprocess
import sys

import pytest
from PIL import Image

from media import animated, still
from pixie import spec as specs
from pixie import stream
from pixie.config import Render
from pixie.render import faces, kinds

W, H = 64, 32
LIMITS = Render()


def pixels(frame: bytes) -> Image.Image:
    return Image.frombytes("RGB", (W, H), frame)


def test_static_text_is_one_centered_frame():
    [(frame, hold)] = kinds.render(specs.parse({"kind": "text", "text": "Hi", "color": "red"}), None, W, H, LIMITS)
    assert hold == 1_000_000  # a still is held a second at a time
    image = pixels(frame)
    box = image.getbbox()
    assert box is not None
    left, top, right, bottom = box
    assert abs(left - (W - right)) <= 2, box  # centred horizontally
    assert abs(top - (H - bottom)) <= 3, box  # and vertically
    assert image.getpixel((0, 0)) == (0, 0, 0)


def test_long_text_scrolls_in_from_the_right_and_out_to_the_left():
    job = specs.parse({"kind": "text", "text": "a long message that cannot fit", "speed": 30})
    frames = kinds.render(job, None, W, H, LIMITS)
    assert len(frames) > W
    assert {hold for _, hold in frames} == {33_333}  # 30 px/s: a pixel every 1/30 s
    assert pixels(frames[0][0]).getbbox() is None  # starts blank
    assert pixels(frames[-1][0]).getbbox() is None  # ends blank
    assert any(pixels(f).getbbox() for f, _ in frames[1:-1])


def shifted_left(before: bytes, after: bytes, px: int) -> bool:
    """Whether `after` is `before` moved `px` pixels to the left (what came in at the right edge aside)."""
    return pixels(before).crop((px, 0, W, H)) == pixels(after).crop((0, 0, W - px, H))


@pytest.mark.parametrize(
    "speed,px,hold_us",
    [
        (32, 1, 31_250),  # 32 px/s: a pixel every 1/32 s
        (240, 4, 16_667),  # 240 px/s: 4 px every 1/60 s, not 240 frames a second
    ],
)
def test_a_scroll_moves_at_its_speed_at_most_60_frames_a_second(speed, px, hold_us):
    frames = kinds.render(
        specs.parse({"kind": "text", "text": "text scrolling by", "speed": speed}), None, W, H, LIMITS
    )
    assert {hold for _, hold in frames} == {hold_us}
    assert len(frames) > W // px
    assert all(shifted_left(a, b, px) for (a, _), (b, _) in zip(frames, frames[1:], strict=False))


@pytest.mark.parametrize(
    "fit,size,expected_box",
    [
        ("fit", (128, 128), (16, 0, 48, 32)),  # letterboxed: 32x32 in the middle
        ("fill", (128, 128), (0, 0, 64, 32)),  # cropped to cover the panel
        ("center", (16, 8), (24, 12, 40, 20)),  # unscaled, centred
    ],
)
def test_image_fit_modes(fit, size, expected_box):
    job = specs.parse({"kind": "image", "fit": fit, "blob": "0" * 64})
    [(frame, _)] = kinds.render(job, still("PNG", (0, 255, 0), size), W, H, LIMITS)
    assert pixels(frame).getbbox() == expected_box
    assert pixels(frame).getpixel((32, 16)) == (0, 255, 0)


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_animation_keeps_its_frame_delays(fmt):
    job = specs.parse({"kind": "animation", "blob": "0" * 64})
    frames = kinds.render(job, animated(fmt, delay_ms=120), W, H, LIMITS)
    assert [pixels(f).getpixel((5, 5)) for f, _ in frames] == [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    assert [hold for _, hold in frames] == [120_000] * 3


@pytest.mark.parametrize("delay_ms,hold_us", [(0, 100_000), (10, 100_000), (20, 20_000)])
def test_a_gif_without_a_usable_delay_plays_at_browser_speed(delay_ms, hold_us):
    # Browsers play a GIF frame whose delay is 0 or 1 hundredth of a second for 100 ms.
    frames = kinds.render(
        specs.parse({"kind": "animation", "blob": "0" * 64}), animated(delay_ms=delay_ms), W, H, LIMITS
    )
    assert {hold for _, hold in frames} == {hold_us}


def test_fill_clear_pattern_demo():
    fill = kinds.render(specs.parse({"kind": "fill", "color": "navy"}), None, W, H, LIMITS)
    assert pixels(fill[0][0]).getcolors() == [(W * H, (0, 0, 128))]
    clear = kinds.render(specs.parse({"kind": "clear"}), None, W, H, LIMITS)
    assert pixels(clear[0][0]).getbbox() is None
    bars = kinds.render(specs.parse({"kind": "pattern"}), None, W, H, LIMITS)
    assert pixels(bars[0][0]).getpixel((1, 1)) == (255, 255, 255)
    assert pixels(bars[0][0]).getpixel((W - 1, 1)) == (0, 0, 0)
    demo = kinds.render(specs.parse({"kind": "demo", "n": 3}), None, W, H, LIMITS)
    assert [hold for _, hold in demo] == [1_000_000] * 4


LONG_SCROLL = {"kind": "text", "text": "The quick brown fox jumps over the lazy dog " * 2}  # ~700 frames


def heads_of(job, data=None) -> tuple[list, list]:
    """(the whole, every head handed over on the way) of one render."""
    heads = []
    frames = kinds.render(job, data, W, H, LIMITS, on_head=lambda head, count: heads.append((head, count)))
    return frames, heads


@pytest.mark.parametrize(
    "job,data",
    [
        (LONG_SCROLL, None),
        ({"kind": "animation", "blob": "0" * 64}, animated(colors=[(i, 0, 0) for i in range(60)], delay_ms=20)),
    ],
    ids=["scrolling text", "60-frame gif"],
)
def test_a_long_stream_hands_over_its_first_half_second_while_it_renders(job, data):
    frames, [(head, count)] = heads_of(specs.parse(job), data)
    assert count == len(frames) >= 50 and head == frames[: len(head)]
    holds = [hold for _, hold in head]
    assert sum(holds[:-1]) < 500_000 <= sum(holds)  # it stops at the frame that reaches the half second


@pytest.mark.parametrize(
    "job,data",
    [
        ({"kind": "text", "text": "Hi"}, None),
        ({"kind": "animation", "blob": "0" * 64}, animated(colors=[(i, 0, 0) for i in range(49)], delay_ms=20)),
        ({**LONG_SCROLL, "draw": [{"op": "pixel", "x": 0, "y": 0, "color": "red"}]}, None),
        ({**LONG_SCROLL, "overlay": "snow"}, None),
    ],
    ids=["still text", "49-frame gif", "drawn over", "overlaid"],
)
def test_a_short_stream_or_one_drawn_over_afterwards_is_handed_over_whole(job, data):
    frames, heads = heads_of(specs.parse(job), data)
    assert frames and heads == []


def test_frame_limit_is_enforced_when_rendering():
    job = specs.parse({"kind": "text", "text": "x" * 200, "speed": 1})
    with pytest.raises(ValueError, match="render.max_frames"):
        kinds.render(job, None, W, H, Render(max_frames=100))


def test_stream_round_trip_and_corruption():
    frames = [(bytes([i]) * (W * H * 3), 1000 * i) for i in range(3)]
    blob = stream.pack(W, H, frames)
    unpacked = stream.unpack(blob)
    assert (unpacked.width, unpacked.height) == (W, H)
    assert unpacked.frames == [f for f, _ in frames]
    assert unpacked.hold_us == [0, 1000, 2000]
    with pytest.raises(ValueError, match="not a pixie frame stream"):
        stream.unpack(b"\0" * 64)
    with pytest.raises(ValueError, match="truncated"):
        stream.unpack(blob[:-10])
    with pytest.raises(ValueError, match="expected"):
        stream.pack(W, H, [(b"short", 1)])


def test_recording_ignores_a_half_written_last_frame():
    size = W * H * 3
    records = b"".join(stream.record_header(size, ns) + bytes([ns]) * size for ns in (1, 2))
    assert [ns for ns, _ in stream.read_recording(records + stream.record_header(size, 3) + b"\1" * 10)] == [1, 2]


def test_colours_are_normalised_and_checked():
    assert specs.parse({"kind": "fill", "color": "red"}).color == "#ff0000"
    with pytest.raises(specs.SpecError, match="not a colour"):
        specs.parse({"kind": "fill", "color": "nope"})


def test_a_clock_shows_the_time_in_its_time_zone_and_format():
    def face(now, **fields):
        spec = specs.parse({"kind": "clock", **fields})
        return kinds.render(spec, None, 64, 32, Render(), now)[0][0]

    noon_utc = 1_796_558_400.0  # 2026-12-06 12:00 UTC
    berlin = face(noon_utc, timezone="Europe/Berlin")  # 13:00 there
    assert berlin == face(noon_utc + 3600, timezone="UTC") != face(noon_utc, timezone="UTC")
    assert face(noon_utc, timezone="Europe/Berlin", format="12h") == face(noon_utc - 11 * 3600, timezone="UTC",
                                                                            format="12h")  # fmt: skip
    assert face(noon_utc, timezone="Europe/Berlin", format="12h") != berlin  # 1:00, not 13:00
    red = face(noon_utc, color="red")
    assert (255, 0, 0) in set(zip(red[0::3], red[1::3], red[2::3], strict=True))
    with pytest.raises(specs.SpecError, match="timezone: Value error, not a time zone: 'Mars/Olympus'"):
        specs.parse({"kind": "clock", "timezone": "Mars/Olympus"})


def test_a_countdown_shows_the_seconds_left_then_minutes_past_a_day_then_zero():
    to = 1_796_558_400.0  # 2026-12-06 12:00 UTC
    spec = specs.parse({"kind": "countdown", "to": "2026-12-06T12:00:00+00:00"})

    def face(now):
        return faces.countdown_face(spec, 64, 32, now)

    assert face(to - 5) != face(to - 4) != face(to - 3)  # a new face each second
    assert face(to - 4.5) == face(to - 4.9)  # whole seconds, rounded up: 5 left
    assert face(to) == face(to + 3600) != face(to - 1)  # 00:00 once it has come
    days = to - 2 * 86400
    assert face(days - 10) == face(days - 50) != face(days - 70)  # past a day: minutes
    assert face(to - 3) == faces.countdown_face(  # the time left decides, wherever `to` is
        specs.parse({"kind": "countdown", "to": "2026-12-06T13:00:00+01:00"}), 64, 32, to - 3
    )
    assert faces.face(spec, 64, 32, to - 2.5)[1] == to - 2  # its next face, at the next second
    assert faces.face(spec, 64, 32, to + 1)[1] is None  # done: no more faces


def test_a_countdown_job_is_a_frame_a_second_for_its_duration():
    to = 1_796_558_400.0
    spec = specs.parse({"kind": "countdown", "to": "2026-12-06T12:00:00+00:00", "duration_s": 4})
    frames = kinds.render(spec, None, 64, 32, Render(), to - 3)
    assert [hold for _, hold in frames] == [1_000_000] * 4
    assert len({frame for frame, _ in frames[:3]}) == 3 and frames[3][0] == faces.countdown_face(spec, 64, 32, to)
    with pytest.raises(specs.SpecError, match="to: Value error, not an ISO 8601 date-time: 'soon'"):
        specs.parse({"kind": "countdown", "to": "soon"})


def test_the_display_process_imports_no_pydantic_rq_or_web_and_only_the_render_code_it_draws_with():
    probe = "import sys, pixie.display.process; print(' '.join(sorted(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert not {"pydantic", "rq", "numpy", "fastapi"} & set(loaded)
    assert not [m for m in loaded if m.startswith(("pixie.web", "pixie.service", "pixie.queues"))]
    assert {m for m in loaded if m.startswith("pixie.render.")} == {
        "pixie.render.faces",
        "pixie.render.fonts",
        "pixie.render.indicators",
        "pixie.render.transitions",
    }
