"""A corpus of malformed media, made here with Pillow (nothing binary is committed),
thrown at a whole running appliance: truncated and corrupted PNG, JPEG, GIF,
WebP and BMP, decompression bombs, zero-size bodies, huge dimensions,
thousands of frames and wrong content types, as raw bodies, multipart uploads,
JSON `data_b64` and straight RQ enqueues.

Each one gets a 4xx with a reason, or is accepted and then renders, plays or
fails with a reason; the workers and the display keep running, and a good job
still plays afterwards. (tests/test_api.py covers one example of each class
of bad upload without workers; this is the breadth, with them.)
"""

import base64
import io
import random
import struct
import zlib

import pytest
from PIL import Image
from redis import Redis
from rq import Queue

from appliance import Appliance
from media import animated, multipart, png_bomb

MAX_FRAMES = 200
MAX_PIXELS = 4_000_000
SETTLED = ("ready", "playing", "done", "failed", "canceled")


def noise(size=(64, 32), seed=1) -> Image.Image:
    rng = random.Random(seed)
    return Image.frombytes("RGB", size, bytes(rng.randrange(256) for _ in range(size[0] * size[1] * 3)))


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def samples() -> dict[str, tuple[bytes, str]]:
    """A good file of each format: (bytes, content type)."""
    frames = [noise(seed=i) for i in range(4)]
    return {
        "png": (encode(noise(), "PNG"), "image/png"),
        "jpeg": (encode(noise(), "JPEG", quality=90), "image/jpeg"),
        "progressive-jpeg": (encode(noise(), "JPEG", progressive=True), "image/jpeg"),
        "gif": (encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=80), "image/gif"),
        "webp": (encode(noise(), "WEBP", quality=80), "image/webp"),
        "animated-webp": (
            encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=80),
            "image/webp",
        ),
        "bmp": (encode(noise(), "BMP"), "image/bmp"),
    }


def damaged() -> list[tuple[str, bytes, str]]:
    """Truncations, flipped bytes and zeroed tails of every sample: unpredictable, so any 4xx or a settled job."""
    out = []
    rng = random.Random(7)
    for name, (data, ctype) in samples().items():
        for cut in (16, len(data) // 10, len(data) // 2, len(data) * 9 // 10, len(data) - 1):
            out.append((f"{name}-truncated-{cut}", data[:cut], ctype))
        for i in range(4):
            flipped = bytearray(data)
            for position in rng.sample(range(8, len(data)), k=1 + i * 3):
                flipped[position] ^= 1 << rng.randrange(8)
            out.append((f"{name}-flipped-{i}", bytes(flipped), ctype))
        out.append((f"{name}-zeroed-tail", data[: len(data) // 2] + bytes(len(data) - len(data) // 2), ctype))
        out.append((f"{name}-garbage-tail", data + bytes(rng.randrange(256) for _ in range(512)), ctype))
    return out


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_zlib_bomb(width: int, height: int) -> bytes:
    """A PNG whose IDAT really inflates to width*height*3 bytes (streamed, never held here)."""
    packer = zlib.compressobj(9)
    row = b"\0" * (1 + width * 3)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def gif_huge_screen(width=65535, height=65535) -> bytes:
    """A 1x1 GIF whose logical screen claims width x height."""
    data = bytearray(encode(Image.new("P", (1, 1)), "GIF"))
    data[6:10] = struct.pack("<HH", width, height)
    return bytes(data)


def jpeg_huge(width=65500, height=65500) -> bytes:
    """A small JPEG whose SOF0 claims width x height."""
    data = bytearray(encode(Image.new("RGB", (8, 8), "red"), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def bmp_huge(width=30000, height=30000) -> bytes:
    data = bytearray(encode(Image.new("RGB", (4, 4)), "BMP"))
    data[18:26] = struct.pack("<ii", width, height)
    return bytes(data)


def webp_huge() -> bytes:
    """A lossless (VP8L) WebP whose header claims 16384x16384."""
    data = bytearray(encode(Image.new("RGBA", (4, 4), (1, 2, 3, 128)), "WEBP", lossless=True))
    at = data.index(b"VP8L") + 9  # chunk tag, chunk size, signature byte 0x2f
    bits = int.from_bytes(data[at : at + 4], "little")
    bits = (bits & ~((1 << 28) - 1)) | 16383 | (16383 << 14)
    data[at : at + 4] = bits.to_bytes(4, "little")
    return bytes(data)


def many_frames(fmt: str, count: int) -> bytes:
    frames = [Image.new("RGB", (2, 2), (i % 256, i // 256, 0)) for i in range(count)]
    return encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=20, lossless=True)


# (name, body, content type, expected status): the outcome of these is certain.
def certain() -> list[tuple[str, bytes, str, int]]:
    png = samples()["png"][0]
    return [
        ("zero-size-png", b"", "image/png", 422),
        ("zero-size-gif", b"", "image/gif", 422),
        ("zero-size-octets", b"", "application/octet-stream", 422),
        ("png-bomb-60000", png_bomb(), "image/png", 413),
        ("png-zlib-bomb-2100x2000", png_zlib_bomb(2100, 2000), "image/png", 413),
        ("png-one-by-five-million", png_bomb(1, 5_000_000), "image/png", 413),
        ("png-zero-width", png_bomb(0, 10), "image/png", 415),  # Pillow does not identify it
        ("gif-screen-65535", gif_huge_screen(), "image/gif", 413),
        ("jpeg-65500", jpeg_huge(), "image/jpeg", 413),
        ("bmp-30000", bmp_huge(), "image/bmp", 413),
        ("webp-16383", webp_huge(), "image/webp", 413),
        ("gif-3000-frames", many_frames("GIF", 3000), "image/gif", 413),
        ("webp-1000-frames", many_frames("WEBP", 1000), "image/webp", 413),
        ("gif-long-animation", animated("GIF", delay_ms=5000, colors=[(i, 0, 0) for i in range(8)]), "image/gif", 413),
        ("tiff-unsupported", encode(noise(), "TIFF"), "image/tiff", 415),
        ("ico-unsupported", encode(noise((32, 32)), "ICO"), "image/x-icon", 415),
        ("svg-as-image", b'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>', "image/svg+xml", 415),
        ("html-as-png", b"<!doctype html><title>x</title>", "image/png", 415),
        ("random-as-webp", random.Random(3).randbytes(4096), "image/webp", 415),
        ("png-as-text", png, "text/plain", 415),
        ("png-as-form", png, "application/x-www-form-urlencoded", 415),
        ("png-as-json", png, "application/json", 400),
        ("png-without-type", png, "", 415),
        ("too-large", b"\x89PNG" + bytes(600_000), "image/png", 413),
    ]


def sniffed() -> list[tuple[str, bytes, str]]:
    """Good files under a wrong image type: Pillow sniffs the format, so they are shown."""
    s = samples()
    return [
        ("png-as-jpeg", s["png"][0], "image/jpeg"),
        ("jpeg-as-gif", s["jpeg"][0], "image/gif"),
        ("gif-as-octets", s["gif"][0], "application/octet-stream"),
        ("webp-as-png", s["webp"][0], "image/png"),
    ]


@pytest.fixture(scope="module")
def appliance(redis_server, tmp_path_factory):
    appliance = Appliance(
        redis_server,
        tmp_path_factory.mktemp("corpus"),
        web_max_body_bytes=500_000,
        render_max_frames=MAX_FRAMES,
        render_max_image_pixels=MAX_PIXELS,
        render_max_animation_s=20,
        display_default_duration_s=0.2,
    )
    try:
        appliance.start_web()
        appliance.start_worker("1", "--with-scheduler")
        appliance.start_worker("2")
        appliance.start_display()
        yield appliance
    finally:
        appliance.stop()


def post(appliance, body: bytes, ctype: str):
    headers = {"Content-Type": ctype} if ctype else {}
    return appliance.request("POST", "/api/v1/jobs?priority=low&duration_s=0.2", body, headers)


def alive(appliance):
    dead = {name: proc.returncode for name, proc in appliance.procs.items() if proc.poll() is not None}
    assert not dead, f"processes died: {dead}"
    assert appliance.request("GET", "/healthz")[0] == 200


def settle(appliance, accepted: dict[str, str]) -> dict[str, dict]:
    """Wait until every accepted job is rendered, played or failed; failures carry a reason."""
    final = {
        name: appliance.wait_state(job_id, *SETTLED, timeout=120, interval=0.2) for name, job_id in accepted.items()
    }
    for name, state in final.items():
        if state["state"] == "failed":
            assert state["reason"], f"{name} failed without a reason"
    return final


def plays_a_good_job(appliance, color=(0, 200, 100)):
    job = appliance.submit(kind="fill", color="#{:02x}{:02x}{:02x}".format(*color), priority="high", duration_s=0.3)
    appliance.wait_state(job, "done", timeout=60)
    assert any(frame[:3] == bytes(color) for _, frame in appliance.frames()), "the good job's pixels never showed"


CERTAIN = certain()


@pytest.mark.parametrize("name,body,ctype,code", CERTAIN, ids=[c[0] for c in CERTAIN])
def test_certain_cases_get_their_4xx_with_a_reason(appliance, name, body, ctype, code):
    before = appliance.r.llen("rq:queue:low")
    status, answer, _ = post(appliance, body, ctype)
    assert status == code, (name, status, answer)
    assert isinstance(answer, dict) and answer["error"], answer
    assert appliance.r.llen("rq:queue:low") == before


def test_damaged_files_get_a_4xx_or_a_settled_job(appliance):
    corpus = damaged() + sniffed()
    accepted, refused = {}, {}
    for name, body, ctype in corpus:
        status, answer, _ = post(appliance, body, ctype)
        assert status == 202 or 400 <= status < 500, (name, status, answer)
        if status == 202:
            accepted[name] = answer["id"]
        else:
            assert answer["error"], name
            refused[name] = (status, answer["error"])
    final = settle(appliance, accepted)
    for name, _, _ in sniffed():
        assert final[name]["state"] != "failed", final[name]
    failed = {name: s["reason"] for name, s in final.items() if s["state"] == "failed"}
    print(
        f"\n{len(corpus)} damaged or mislabelled files: {len(refused)} refused with a 4xx, "
        f"{len(accepted) - len(failed)} accepted and shown, {len(failed)} accepted and failed with a reason"
    )
    alive(appliance)
    plays_a_good_job(appliance)


def test_multipart_and_json_uploads_of_broken_files(appliance):
    cases = [
        ("empty-file", b"", "image/png", 422),
        ("text-file", b"hello", "text/plain", 415),
        ("truncated-gif", samples()["gif"][0][:100], "image/gif", 415),
        ("bomb", png_bomb(), "image/png", 413),
        ("many-frames", many_frames("GIF", MAX_FRAMES + 1), "image/gif", 413),
    ]
    for name, data, ctype, code in cases:
        body, content_type = multipart({"priority": "low"}, data, f"{name}.bin", ctype)
        status, answer, _ = appliance.request("POST", "/api/v1/jobs", body, {"Content-Type": content_type})
        assert (status, bool(answer.get("error"))) == (code, True), (name, "multipart", answer)
        job = {"kind": "image", "data_b64": base64.b64encode(data).decode(), "priority": "low"}
        status, answer, _ = appliance.request("POST", "/api/v1/jobs", job)
        expected = 422 if name == "empty-file" else code  # an empty data_b64 is "needs a file"
        assert (status, bool(answer.get("error"))) == (expected, True), (name, "data_b64", answer)
    alive(appliance)


def test_straight_rq_enqueues_of_broken_media_fail_with_a_reason(appliance):
    """Producers that bypass the API get no 4xx: the worker must fail the job, with a reason, and carry on."""
    queue = Queue("low", connection=Redis.from_url(appliance.redis_url), serializer="json")
    bad = {
        "not-base64": "%%%",
        "not-an-image": base64.b64encode(b"hello").decode(),
        "truncated-png": base64.b64encode(samples()["png"][0][:80]).decode(),
        "bomb": base64.b64encode(png_bomb()).decode(),
        "many-frames": base64.b64encode(many_frames("GIF", MAX_FRAMES + 1)).decode(),
    }
    jobs = {name: queue.enqueue("pixie.jobs.show_image", data_b64=data).id for name, data in bad.items()}
    for name, job_id in jobs.items():
        state = appliance.wait_state(job_id, *SETTLED, timeout=60)
        assert state["state"] == "failed" and state["reason"], (name, state)
    alive(appliance)
    plays_a_good_job(appliance, color=(200, 0, 150))
