"""The library of fonts and icons, over real HTTP on a real appliance: uploads checked by the renderers,
listed, fetched, deleted; text jobs drawn with them, refused when they name one the appliance lacks;
nothing queued is lost by a refusal."""

import gzip
import io
from pathlib import Path

import pytest
from PIL import Image

from media import animated, multipart, still
from testsupport.servers import wait_for

PCF = Path("/usr/share/fonts/X11/misc/5x8.pcf.gz")
RED, BLUE = (255, 0, 0), (0, 0, 255)
# A 5x7 font of solid blocks: nothing like any built-in font's letters.
BLOCK = ["#####"] * 7
HOLLOW = ["#####", "#...#", "#...#", "#...#", "#...#", "#...#", "#####"]


def bdf(glyphs: dict[str, list[str]]) -> bytes:
    """A BDF font: each glyph 5 px wide, drawn as rows of # and ."""
    chars = []
    for ch, rows in glyphs.items():
        bitmap = "\n".join(f"{int(row.replace('#', '1').replace('.', '0').ljust(8, '0'), 2):02X}" for row in rows)
        chars.append(
            f"STARTCHAR U{ord(ch):04X}\nENCODING {ord(ch)}\nSWIDTH 600 0\nDWIDTH 6 0\nBBX 5 7 0 0\n"
            f"BITMAP\n{bitmap}\nENDCHAR\n"
        )
    return (
        "STARTFONT 2.1\nFONT -pixie-blocks-medium-r-normal--7-70-75-75-c-60-iso10646-1\nSIZE 7 75 75\n"
        "FONTBOUNDINGBOX 5 7 0 0\nSTARTPROPERTIES 2\nFONT_ASCENT 7\nFONT_DESCENT 0\nENDPROPERTIES\n"
        f"CHARS {len(chars)}\n{''.join(chars)}ENDFONT\n"
    ).encode()


BLOCKS = bdf({"H": BLOCK, "I": HOLLOW, "A": BLOCK})


@pytest.fixture(scope="module")
def lib(redis_server, tmp_path_factory):
    """An appliance (web, a worker, the display on the headless 64x32 panel) with the default limits."""
    from appliance import Appliance

    appliance = Appliance(redis_server, tmp_path_factory.mktemp("library"))
    appliance.start_web()
    appliance.start_worker("1")
    appliance.start_display()
    yield appliance
    appliance.stop()


def put(appliance, kind: str, name: str, data: bytes, content_type="application/octet-stream"):
    return appliance.request("PUT", f"/api/v1/{kind}s/{name}", data, {"Content-Type": content_type})


def played(appliance, **job) -> set[bytes]:
    """The frames the panel showed for a text job, played to its end."""
    mark = len(appliance.frames())
    job_id = appliance.submit(kind="text", duration_s=0.4, **job)
    appliance.wait_state(job_id, "done")
    return {frame for _, frame in appliance.frames()[mark:] if any(frame)}


def has_pixel(frames: set[bytes], color) -> bool:
    return any(tuple(frame[i : i + 3]) == color for frame in frames for i in range(0, len(frame), 3))


def test_a_bdf_font_is_listed_with_its_height_and_coverage_and_draws_a_text_job(lib):
    status, body, _ = put(lib, "font", "blocks", BLOCKS)
    assert status == 200, body
    assert (body["name"], body["format"], body["bytes"], body["height"]) == ("blocks", "bdf", len(BLOCKS), 7)
    assert body["coverage"]["Latin"] >= 3 and body["sha256"] and body["added"]
    listed = {f["name"]: f for f in lib.request("GET", "/api/v1/fonts")[1]["fonts"]}
    assert listed["blocks"] == body
    assert listed["6x13"]["builtin"] and listed["6x13"]["height"] == 13 and listed["auto"]["builtin"]
    assert lib.request("GET", "/api/v1/fonts/blocks")[1] == body
    status, data, headers = lib.request("GET", "/api/v1/fonts/blocks?download=1")
    assert (status, data) == (200, BLOCKS)

    in_blocks = played(lib, text="HI", font="blocks")
    in_6x13 = played(lib, text="HI", font="6x13")
    assert in_blocks and in_6x13 and in_blocks.isdisjoint(in_6x13)


def test_a_gzipped_pcf_uploaded_as_a_multipart_form_is_a_font(lib):
    body, content_type = multipart({}, PCF.read_bytes(), "5x8.pcf.gz")
    status, font, _ = put(lib, "font", "five-by-eight", body, content_type)
    assert status == 200, font
    assert (font["format"], font["height"], font["bytes"]) == ("pcf.gz", 8, PCF.stat().st_size)
    assert font["coverage"]["Latin"] > 100 and font["coverage"]["Cyrillic"] > 50
    assert played(lib, text="Hi", font="five-by-eight")


def test_a_deleted_font_is_refused_by_jobs_and_apps_naming_the_field(lib):
    assert put(lib, "font", "gone", BLOCKS)[0] == 200
    assert lib.request("DELETE", "/api/v1/fonts/gone")[:2] == (200, {"deleted": "gone"})
    assert lib.request("DELETE", "/api/v1/fonts/gone")[0] == 404
    assert lib.request("GET", "/api/v1/fonts/gone")[0] == 404
    status, body, _ = lib.request("POST", "/api/v1/jobs", {"kind": "text", "text": "x", "font": "gone"})
    assert status == 422 and body["error"].startswith("font: no font named 'gone' (built-in: 4x6"), body
    app = {"content": {"kind": "text", "text": "x", "font": "gone"}}
    status, body, _ = lib.request("PUT", "/api/v1/apps/clock", app)
    assert status == 422 and body["error"].startswith("font: no font named 'gone'"), body
    assert lib.request("DELETE", "/api/v1/fonts/6x13")[0] == 422  # a built-in stays


def truncated_pcf() -> bytes:
    return gzip.decompress(PCF.read_bytes())[:3000]


@pytest.mark.parametrize(
    "name,data,status,reason",
    [
        ("logo.bdf", still("PNG"), 422, "not a font"),
        ("cut", truncated_pcf(), 422, ""),
        ("huge", b"\x00\x01\x00\x00" + bytes(5_000_000), 413, "more than fonts.max_bytes"),
        ("empty", bdf({}), 422, "glyph"),
        ("6x13", BLOCKS, 422, "built-in"),
        ("auto", BLOCKS, 422, "built-in"),
        ("no%20spaces", BLOCKS, 422, "name"),
    ],
    ids=["png-named-bdf", "truncated-pcf", "5mb-ttf", "bdf-without-glyphs", "builtin-name", "auto", "bad-name"],
)
def test_a_file_that_cannot_be_a_font_is_refused_and_nothing_is_lost(lib, name, data, status, reason):
    assert put(lib, "font", "kept", BLOCKS)[0] == 200
    before = lib.request("GET", "/api/v1/fonts")[1]
    waiting = lib.submit(kind="text", text="still here", font="kept", duration_s=0.3)
    answer = put(lib, "font", name, data)
    assert answer[0] == status and reason in answer[1]["error"], answer[:2]
    assert lib.request("GET", "/api/v1/fonts")[1] == before
    assert lib.wait_state(waiting, "done")["frames"]


def icon(color=RED, size=(8, 8), fmt="PNG") -> bytes:
    return still(fmt, color, size)


@pytest.mark.parametrize(
    "fmt,data,frames",
    [("png", icon(), 1), ("gif", animated("GIF", size=(8, 8)), 3), ("webp", animated("WEBP", size=(16, 8)), 3)],
)
def test_png_gif_and_webp_icons_are_kept_listed_and_served_for_previews(lib, fmt, data, frames):
    status, body, _ = put(lib, "icon", f"8x8/{fmt}", data, f"image/{fmt}")
    assert status == 200, body
    assert (body["format"], body["frames"], body["height"], body["bytes"]) == (fmt, frames, 8, len(data))
    assert body["url"] == f"/api/v1/icons/8x8/{fmt}?download=1"
    assert body in lib.request("GET", "/api/v1/icons")[1]["icons"]
    status, served, headers = lib.request("GET", body["url"])
    assert (status, served, headers["Content-Type"]) == (200, data, f"image/{fmt}")
    assert played(lib, text="Hi", icon=f"8x8/{fmt}")
    assert lib.request("DELETE", f"/api/v1/icons/8x8/{fmt}")[0] == 200
    assert lib.request("GET", body["url"])[0] == 404


def thousand_frames() -> bytes:
    frames = [Image.new("RGB", (8, 8), (i % 256, 0, 0)) for i in range(1000)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=20)
    return out.getvalue()


@pytest.mark.parametrize(
    "data,status,reason",
    [
        (icon(size=(8, 40)), 413, "40 px tall"),
        (thousand_frames(), 413, "1000 frames"),
        (b"GIF89a" + b"\x00" * 40, 415, "not an image"),
        (b"not an image at all", 415, "not a PNG, GIF or WebP"),
    ],
    ids=["taller-than-the-panel", "1000-frame-gif", "corrupt-gif", "garbage"],
)
def test_a_file_that_cannot_be_an_icon_is_refused_and_nothing_is_lost(lib, data, status, reason):
    assert put(lib, "icon", "kept", icon())[0] == 200
    before = lib.request("GET", "/api/v1/icons")[1]
    waiting = lib.submit(kind="text", text="still here", icon="kept", duration_s=0.3)
    answer = put(lib, "icon", "bad", data, "image/gif")
    assert answer[0] == status and reason in answer[1]["error"], answer[:2]
    assert lib.request("GET", "/api/v1/icons")[1] == before
    assert lib.wait_state(waiting, "done")["frames"]


def test_a_job_naming_an_icon_the_library_lacks_is_refused_naming_icon(lib):
    status, body, _ = lib.request("POST", "/api/v1/jobs", {"kind": "text", "text": "x", "icon": "8x8/404"})
    assert status == 422 and body["error"].startswith("icon: no icon named '8x8/404'"), body
    status, body, _ = lib.request("POST", "/api/v1/jobs", {"kind": "text", "text": "x", "icon": "8544"})
    assert status == 422 and body["error"].startswith("icon: no icon named '8544'"), body


def test_replacing_an_icon_renders_again_the_jobs_that_use_it(lib):
    assert put(lib, "icon", "lamp", icon(RED))[0] == 200
    first = played(lib, text="A", icon="lamp")
    assert put(lib, "icon", "lamp", icon(BLUE))[0] == 200
    second = played(lib, text="A", icon="lamp")
    assert has_pixel(first, RED) and not has_pixel(first, BLUE)
    assert has_pixel(second, BLUE) and not has_pixel(second, RED)


def test_replacing_an_icon_renders_again_the_apps_that_use_it(lib):
    assert put(lib, "icon", "sun", icon(RED))[0] == 200
    app = {"content": {"kind": "text", "text": "A", "icon": "sun"}}
    assert lib.request("PUT", "/api/v1/apps/weather", app)[0] == 200
    wait_for(lambda: has_pixel({lib.frames()[-1][1]}, RED), what="the app with its red icon")
    assert put(lib, "icon", "sun", icon(BLUE))[0] == 200
    wait_for(lambda: has_pixel({lib.frames()[-1][1]}, BLUE), what="the app with its new, blue icon")
    assert lib.request("DELETE", "/api/v1/apps/weather")[0] == 200


def test_past_max_count_an_upload_is_a_409_and_replacing_is_not(make_appliance):
    appliance = make_appliance(fonts_max_count=1, icons_max_count=1)
    appliance.start_web()
    for kind, data in (("font", BLOCKS), ("icon", icon())):
        assert put(appliance, kind, "one", data)[0] == 200
        status, body, _ = put(appliance, kind, "two", data)
        assert status == 409 and f"{kind}s.max_count" in body["error"], body
        assert put(appliance, kind, "one", data)[0] == 200
        assert [e["name"] for e in appliance.request("GET", f"/api/v1/{kind}s")[1][f"{kind}s"]][-1:] == ["one"]


def test_an_icon_by_number_passes_when_a_fetch_url_is_set(make_appliance):
    appliance = make_appliance(icons_fetch_url="http://127.0.0.1:9/icons/{id}")
    appliance.start_web()
    assert appliance.request("POST", "/api/v1/jobs", {"kind": "text", "text": "x", "icon": "8544"})[0] == 202
    status, body, _ = appliance.request("POST", "/api/v1/jobs", {"kind": "text", "text": "x", "icon": "lamp"})
    assert status == 422 and "icon: no icon named 'lamp'" in body["error"]


def test_uploads_need_the_token_and_reads_do_not(guarded):
    assert put(guarded, "font", "blocks", BLOCKS)[0] == 200
    status, body, _ = guarded.request(
        "PUT", "/api/v1/fonts/other", BLOCKS, {"Content-Type": "application/octet-stream"}, token="wrong"
    )
    assert status == 401
    assert guarded.request("DELETE", "/api/v1/fonts/blocks", token="wrong")[0] == 401
    assert guarded.request("GET", "/api/v1/fonts/blocks", token="wrong")[0] == 200
