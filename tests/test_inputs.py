"""Live input end to end: senders written from FlaschenTaschen's and DDP's documentation (testsupport.udp)
stream over real UDP to a running appliance (web, a worker, the display on the headless STAND-IN panel);
what the panel showed is read from its recorded frames."""

import io
import socket
import time

import pytest
from PIL import Image

from appliance import Appliance
from testsupport.servers import wait_for
from testsupport.udp_senders import send_ddp, send_flaschen_taschen

W, H = 64, 32
RED, GREEN, BLUE, WHITE, BLACK = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255), (0, 0, 0)
FALLBACK_S = 0.5
LAYER_TIMEOUT_S = 1.5


def udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def solid(rgb, w: int = W, h: int = H) -> bytes:
    return bytes(rgb) * (w * h)


@pytest.fixture(scope="module")
def streamed(redis_server, tmp_path_factory):
    """An appliance with both inputs on loopback, falling back half a second after the last datagram."""
    ports = {"ft": udp_port(), "ddp": udp_port()}
    appliance = Appliance(
        redis_server,
        tmp_path_factory.mktemp("inputs"),
        inputs_flaschen_taschen=1,
        inputs_flaschen_taschen_port=ports["ft"],
        inputs_ddp=1,
        inputs_ddp_port=ports["ddp"],
        inputs_fallback_s=FALLBACK_S,
        inputs_layer_timeout_s=LAYER_TIMEOUT_S,
    )
    appliance.start_web()
    appliance.start_worker("1")
    appliance.start_display()
    appliance.ports = ports
    yield appliance
    appliance.stop()


def shown(appliance, frame: bytes, after: int = 0, timeout: float = 10) -> int:
    """Wait until `frame` is on the panel (among the frames since `after`); its index."""

    def found():
        frames = appliance.frames()
        return next((i for i in range(after, len(frames)) if frames[i][1] == frame), None)

    return wait_for(found, timeout=timeout, what="the streamed frame on the panel")


def counts(appliance, protocol: str) -> dict:
    return appliance.request("GET", "/api/v1/inputs")[1][protocol]


def test_a_ddp_frame_sent_in_pieces_is_on_the_panel_pixel_for_pixel_when_pushed(streamed):
    picture = b"".join(bytes((x * 4, y * 8, 255 - x * 4)) for y in range(H) for x in range(W))
    # Until a sender's first push every datagram shows (some senders never push, as WLED allows): one first.
    send_ddp("127.0.0.1", streamed.ports["ddp"], solid(BLACK))
    before = wait_for(lambda: (c := counts(streamed, "ddp"))["frames"] and c, what="the first push counted")
    send_ddp("127.0.0.1", streamed.ports["ddp"], picture)  # 6144 bytes: five datagrams, push on the last
    shown(streamed, picture)
    # the counts go out with the display's next heartbeat
    after = wait_for(lambda: (c := counts(streamed, "ddp"))["frames"] > before["frames"] and c, what="the counts")
    assert after["received"] - before["received"] == 5 and after["frames"] - before["frames"] == 1
    assert streamed.request("GET", "/api/v1/inputs")[1]["live"] == "ddp"


def test_flaschen_taschen_tiles_land_at_their_offsets_and_a_layer_over_them_is_transparent_where_black(streamed):
    quarter = Image.new("RGB", (32, 16), RED)
    send_flaschen_taschen("127.0.0.1", streamed.ports["ft"], quarter, x=0, y=0)
    send_flaschen_taschen("127.0.0.1", streamed.ports["ft"], Image.new("RGB", (32, 16), BLUE), x=32, y=16)
    dot = Image.new("RGB", (4, 4), BLACK)
    dot.putpixel((1, 1), WHITE)
    layer_sent = time.time_ns()  # before the send: the receiver's clock for the layer starts later
    send_flaschen_taschen("127.0.0.1", streamed.ports["ft"], dot, x=10, y=5, z=3)
    expected = Image.new("RGB", (W, H), BLACK)
    expected.paste(RED, (0, 0, 32, 16))
    expected.paste(BLUE, (32, 16, 64, 32))
    expected.putpixel((11, 6), WHITE)  # the layer's black shows the red under it
    index = shown(streamed, expected.tobytes())
    without_layer = expected.copy()
    without_layer.putpixel((11, 6), RED)

    # Layer 3 is cleared LAYER_TIMEOUT_S after it was last sent, layer 0 stays: layer 0 is
    # sent on (a frame is composited as a datagram comes, and the stream stays live) until the layer is gone.
    def layer_gone():
        send_flaschen_taschen("127.0.0.1", streamed.ports["ft"], quarter, x=0, y=0)
        frames = streamed.frames()
        return next((ns for ns, frame in frames[index:] if frame == without_layer.tobytes()), None)

    gone = wait_for(layer_gone, timeout=10, interval=0.1, what="layer 3 cleared, layer 0 still on the panel")
    assert (gone - layer_sent) / 1e9 > LAYER_TIMEOUT_S  # not before its timeout


def test_the_panel_falls_back_after_the_stream_and_the_rotation_goes_on(streamed):
    status, answer, _ = streamed.request("PUT", "/api/v1/apps/red", {"content": {"kind": "fill", "color": "red"}})
    assert status == 200, answer
    try:
        red = shown(streamed, solid(RED), timeout=30)
        for _ in range(10):  # 10 frames at 20 fps
            send_ddp("127.0.0.1", streamed.ports["ddp"], solid(GREEN))
            time.sleep(0.05)
        last_sent = time.time_ns()
        green = shown(streamed, solid(GREEN), after=red)
        back = shown(streamed, solid(RED), after=green)
        frames = streamed.frames()
        assert (frames[back][0] - last_sent) / 1e9 == pytest.approx(FALLBACK_S, abs=0.25)
        greens = [f for _, f in frames[green:back] if f == solid(GREEN)]
        assert len(greens) == 10  # each frame sent was shown
    finally:
        streamed.request("DELETE", "/api/v1/apps/red")


def test_a_high_job_cuts_into_a_stream_which_then_goes_on(streamed):
    mark = len(streamed.frames())
    job = streamed.submit(kind="fill", color="white", duration_s=0.5, priority="high")
    started = time.monotonic()
    while time.monotonic() - started < 2:  # streaming blue throughout
        send_ddp("127.0.0.1", streamed.ports["ddp"], solid(BLUE))
        time.sleep(0.05)
    assert streamed.wait_state(job, "done")["state"] == "done"
    solids = [f for _, f in streamed.frames()[mark:] if f in (solid(BLUE), solid(WHITE))]
    first_white = solids.index(solid(WHITE))  # the job cut in, the stream went on after it
    assert solid(BLUE) in solids[:first_white] and solids[-1] == solid(BLUE)


def test_malformed_datagrams_are_dropped_and_counted_and_the_stream_goes_on(streamed):
    before = counts(streamed, "flaschen_taschen")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for junk in (b"", b"P6\n", b"P3\n1 1\n255\n0 0 0", b"P6\n99999 99999\n255\n" + bytes(30), b"\xff" * 1000):
            s.sendto(junk, ("127.0.0.1", streamed.ports["ft"]))
    send_flaschen_taschen("127.0.0.1", streamed.ports["ft"], Image.new("RGB", (W, H), GREEN))
    shown(streamed, solid(GREEN))
    after = wait_for(
        lambda: (c := counts(streamed, "flaschen_taschen"))["frames"] > before["frames"] and c, what="counts"
    )
    assert after["received"] - before["received"] == 6
    assert sum(after["dropped"].values()) - sum(before["dropped"].values()) == 5, after["dropped"]
    assert streamed.request("GET", "/healthz")[0] == 200


def test_the_live_preview_shows_the_streamed_frame(streamed):
    picture = Image.new("RGB", (W, H), BLUE)
    picture.paste(RED, (0, 0, 8, 8))
    started = time.monotonic()
    while time.monotonic() - started < 1:
        send_flaschen_taschen("127.0.0.1", streamed.ports["ft"], picture)
        time.sleep(0.05)

    def preview() -> bool:
        png = streamed.request("GET", "/api/v1/screen.png?scale=1")[1]
        return Image.open(io.BytesIO(png)).convert("RGB").tobytes() == picture.tobytes()

    while time.monotonic() - started < 3:
        send_flaschen_taschen("127.0.0.1", streamed.ports["ft"], picture)
        if preview():
            break
        time.sleep(0.05)
    assert preview()


def test_datagrams_from_a_network_not_allowed_are_dropped_and_the_inputs_are_off_by_default(make_appliance):
    port = udp_port()
    guarded = make_appliance(inputs_ddp=1, inputs_ddp_port=port, inputs_allow="10.0.0.0/8")
    guarded.start_web()
    guarded.start_display()
    plain = make_appliance()
    plain.start_web()
    assert plain.request("GET", "/api/v1/inputs")[1]["ddp"]["enabled"] is False
    wait_for(lambda: "ddp" in (guarded.request("GET", "/api/v1/inputs")[1] or {}), what="the inputs' state")
    send_ddp("127.0.0.1", port, solid(GREEN))
    wait_for(
        lambda: guarded.request("GET", "/api/v1/inputs")[1]["ddp"]["dropped"].get("source not allowed") == 5,
        what="the datagrams dropped",
    )
    assert solid(GREEN) not in [f for _, f in guarded.frames()]
