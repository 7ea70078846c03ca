"""Text: the spec's layout fields, fonts and their fallback, drawn and compared as pictures."""

import contact_sheet
import pytest
from PIL import Image

from pixie import errors
from pixie import spec as specs
from pixie.config import Render
from pixie.render import faces, fonts, kinds
from pixie.render.assets import NONE, Assets
from testsupport.golden import assert_golden

W, H = 64, 32
LIMITS = Render()
ONE_SECOND_US = 1_000_000  # a still is one frame held 1 s; the figure, not render.frames' constant


def text(**fields):
    return specs.parse({"kind": "text", "text": "Pixie 123", **fields}, strict=True)


def test_a_text_spec_defaults_to_the_auto_font_centred_and_clipped():
    job = text()
    assert (job.font, job.align, job.valign, job.offset_x, job.offset_y) == ("auto", "center", "middle", 0, 0)
    assert (job.overflow, job.outline, job.shadow, job.top_text, job.top_color) == ("clip", None, None, None, "#ffffff")
    assert (job.icon, job.icon_mode, job.blink_ms, job.fade_ms, job.rainbow, job.gradient) == (
        None,
        "fixed",
        None,
        None,
        False,
        None,
    )


@pytest.mark.parametrize(
    "fields,reason",
    [
        ({"align": "middle"}, "align: Input should be 'left', 'center' or 'right'"),
        ({"valign": "center"}, "valign: Input should be 'top', 'middle' or 'bottom'"),
        ({"gradient": ["red"]}, "gradient: List should have at least 2 items"),
        ({"gradient": ["red", "green", "blue"]}, "gradient: List should have at most 2 items"),
        ({"gradient": ["red", "nocolour"]}, "gradient.1: Value error, not a colour"),
        ({"font": "../etc/passwd"}, "font: String should match pattern"),
        ({"font": "x" * 65}, "font: String should have at most 64 characters"),
        ({"icon": "a b"}, "icon: String should match pattern"),
        ({"icon_mode": "bounce"}, "icon_mode: Input should be 'fixed', 'scroll' or 'once'"),
        ({"overflow": "ellipsis"}, "overflow: Input should be 'clip', 'shrink' or 'wrap'"),
        ({"offset_x": 257}, "offset_x: Input should be less than or equal to 256"),
        ({"offset_y": -257}, "offset_y: Input should be greater than or equal to -256"),
        ({"outline": "nocolour"}, "outline: Value error, not a colour"),
        ({"blink_ms": 99}, "blink_ms: Input should be greater than or equal to 100"),
        ({"fade_ms": 10_001}, "fade_ms: Input should be less than or equal to 10000"),
        ({"top_text": "x" * (specs.MAX_TEXT_CHARS + 1)}, "top_text: String should have at most 200 characters"),
        ({"top_text": ""}, "top_text: String should have at least 1 character"),
    ],
)
def test_a_text_spec_refuses_bad_layout_fields(fields, reason):
    with pytest.raises(specs.SpecError) as refused:
        text(**fields)
    assert reason in str(refused.value)


# -- pictures ------------------------------------------------------------------------------------------


def frames(width=W, height=H, assets=NONE, **fields):
    return kinds.render(text(**fields), None, width, height, LIMITS, assets=assets)


def still(width=W, height=H, assets=NONE, **fields) -> bytes:
    [(frame, hold)] = frames(width, height, assets, **fields)
    assert hold == ONE_SECOND_US
    return frame


@pytest.mark.parametrize("font", fonts.BUILTIN)
def test_each_built_in_font_draws_crisp_at_its_own_size(font, tmp_path):
    frame = still(font=font, scroll=False)
    assert set(frame) <= {0, 255}  # no anti-aliasing: every pixel is the colour or the background
    assert_golden(frame, f"text_font_{font}", (W, H), tmp_path)


@pytest.mark.parametrize(
    "name,fields",
    [
        ("fallback_cjk_in_6x13", {"text": "Hi 你好", "font": "6x13"}),
        ("rtl_hebrew_reversed", {"text": "שלום 42", "font": "6x13"}),
        ("outline_shadow", {"font": "6x13", "outline": "blue", "shadow": "red", "color": "yellow"}),
        ("align_left", {"font": "6x10", "align": "left", "valign": "top"}),
        ("align_center", {"font": "6x10", "align": "center", "valign": "middle"}),
        ("align_right", {"font": "6x10", "align": "right", "valign": "bottom"}),
        ("offsets", {"font": "6x10", "offset_x": -5, "offset_y": 3}),
        ("overflow_clip", {"text": "Pixie 123456", "font": "6x13", "scroll": False}),
        ("overflow_shrink", {"text": "Pixie 123456", "font": "10x20", "overflow": "shrink"}),
        ("overflow_wrap", {"text": "wrap this long text please", "overflow": "wrap"}),
        ("overflow_wrap_no_space", {"text": "abcdefghijklmnopqrstuvwxyz", "font": "6x10", "overflow": "wrap"}),
        ("multi_line_parts", {"text": [{"text": "red\ngr", "color": "red"}, {"text": "een", "color": "lime"}]}),
        ("top_text", {"text": "12 min", "top_text": "Bus 42", "top_color": "orange"}),
        ("sans_stays_anti_aliased", {"font": "sans", "size": 12}),
    ],
)
def test_text_layout_draws_as_the_golden_picture(name, fields, tmp_path):
    assert_golden(still(**fields), f"text_{name}", (W, H), tmp_path)


@pytest.mark.parametrize("width,height", [(128, 32), (64, 64)])
def test_other_panel_sizes_take_the_largest_font_that_fits(width, height, tmp_path):
    assert_golden(still(width, height, text="Pixie\nLED"), f"text_panel_{width}x{height}", (width, height), tmp_path)


def test_a_scrolling_text_enters_right_and_leaves_left(tmp_path):
    scrolled = frames(text="Hello, world", font="6x13", speed=32)
    assert len(scrolled) > W and all(hold == round(1e6 / 32) for _, hold in scrolled)
    for which, (frame, _) in {
        "first": scrolled[0],
        "middle": scrolled[len(scrolled) // 2],
        "last": scrolled[-1],
    }.items():
        assert_golden(frame, f"text_scroll_{which}", (W, H), tmp_path)
    assert not any(scrolled[0][0]) and not any(scrolled[-1][0])


def test_the_pixel_font_is_the_6x10_bitmap_font():
    assert still(font="pixel") == still(font="6x10")


def test_a_multi_line_text_does_not_scroll_unless_asked():
    assert len(frames(text="a long first line\nand a second")) == 1
    assert len(frames(text="a long first line\nand a second", scroll=True)) > W


def test_the_auto_font_is_the_largest_whose_height_fits_the_line():
    assert fonts.face("auto", 32).name == "10x20"
    assert fonts.face("auto", 16).name == "unifont"
    assert fonts.face("auto", 12).name == "6x10"
    assert fonts.face("auto", 3).name == "4x6"  # none fits: the smallest
    assert still(text="Hi") == still(text="Hi", font="10x20")


# -- faces: the digits a clock and a countdown show ---------------------------------------------------

NOON_UTC = 1_796_558_400.0  # 2026-12-06 12:00 UTC


def shown(stamp: str, **fields) -> bytes:
    """`stamp` drawn by the text path, as a face draws it: the largest bitmap font it fits."""
    return still(text=stamp, overflow="shrink", **fields)


@pytest.mark.parametrize("fmt,stamp", [("24h", "13:07"), ("12h", "1:07")])
def test_a_clock_face_shows_the_hours_then_the_minutes(fmt, stamp):
    clock = specs.parse({"kind": "clock", "timezone": "UTC", "format": fmt})
    assert faces.clock_face(clock, W, H, NOON_UTC + 67 * 60 + 59) == shown(stamp)


@pytest.mark.parametrize(
    "left_s,stamp",
    [
        (3 * 86400 + 4 * 3600 + 12 * 60 + 30, "3d 04:12"),
        (4 * 3600 + 12 * 60 + 9, "4:12:09"),
        (12 * 60 + 9, "12:09"),
        (12 * 60 + 8.2, "12:09"),  # whole seconds rounded up
        (0.4, "00:01"),
        (0, "00:00"),  # README: `00:00` once it has come
        (-3 * 86400 - 4 * 3600, "00:00"),  # and long after, not a negative time
    ],
)
def test_a_countdown_face_shows_the_time_left_rounded_up(left_s, stamp):
    countdown = specs.parse({"kind": "countdown", "to": "2026-12-06T12:00:00+00:00"})
    assert faces.countdown_face(countdown, W, H, NOON_UTC - left_s) == shown(stamp)


def test_face_digits_are_crisp():
    clock = specs.parse({"kind": "clock", "timezone": "UTC", "color": "#ff0000"})
    frame = faces.clock_face(clock, W, H, NOON_UTC)
    assert set(zip(frame[0::3], frame[1::3], frame[2::3], strict=True)) == {(0, 0, 0), (255, 0, 0)}


# -- every language ------------------------------------------------------------------------------------

SENTENCES = {
    "English": "The quick brown fox",
    "Polish": "Zażółć gęślą jaźń",
    "German": "Größe über Straße",
    "Russian": "Съешь ещё этих булок",
    "Greek": "Γειά σου κόσμε",
    "Hebrew": "שלום עולם",
    "Arabic": "مرحبا بالعالم",
    "Japanese": "こんにちは世界",
    "Chinese": "你好世界",
    "Korean": "안녕하세요 세계",
}


@pytest.mark.parametrize("font", ["auto", "6x13"])
@pytest.mark.parametrize("language", SENTENCES)
def test_a_sentence_in_each_language_has_every_glyph(language, font):
    sentence = SENTENCES[language]
    report = fonts.glyphs(sentence, font, H)
    assert report.get("missing", "") == ""
    if language in ("Japanese", "Chinese", "Korean"):
        assert set(report["fallback"]["unifont"]) == set(sentence.replace(" ", ""))
    frame = still(text=sentence, font=font, scroll=False)
    assert any(frame)


def test_an_emoji_falls_back_to_a_visible_box_and_is_reported_missing():
    assert fonts.glyphs("Hi 😀", "6x13", H) == {"fallback": {}, "missing": "😀"}
    by_hand = Image.new("RGB", (W, H))
    fonts.draw_lines(by_hand, [[(fonts.builtin("unifont"), "\ufffd", "#ffffff")]], fonts.builtin("6x13"), (0, 0, W, H))
    assert still(text="😀", font="6x13") == by_hand.tobytes()  # unifont's replacement character
    assert fonts.glyphs("Hi", "6x13", H) == {}


def test_a_right_to_left_run_is_drawn_reversed():
    face = fonts.builtin("6x13")
    by_hand = Image.new("RGB", (W, H))
    line = [(face, "בא", "#ffffff")]  # bet then alef, left to right
    fonts.draw_lines(by_hand, [line], face, (0, 0, W, H))
    assert still(text="אב", font="6x13") == by_hand.tobytes()  # alef bet, read right to left


def test_an_uploaded_font_is_read_for_its_height_and_scripts_and_draws_like_the_same_built_in():
    with open(f"{fonts.BUILTIN_DIR}/5x8.pcf.gz", "rb") as f:
        data = f.read()
    info = fonts.open_font(data)
    assert info.height == 8 and info.coverage["Latin"] > 190 and info.coverage["CJK"] == 0
    assert still(font="mine", assets=Assets(fonts={"mine": data})) == still(font="5x8")
    with pytest.raises(errors.Invalid, match="no font called 'theirs'"):
        still(font="theirs", assets=Assets(fonts={"mine": data}))


@pytest.mark.parametrize(
    "data,reason",
    [
        (b"hello, world", "not a font this appliance reads"),
        (b"\x1f\x8b\x08\x00broken", "not a font: a gzip file that does not unpack"),
    ],
)
def test_an_upload_that_is_not_a_font_is_refused_with_a_reason(data, reason):
    with pytest.raises(errors.Invalid, match=reason):
        fonts.open_font(data)


def test_a_picture_that_differs_from_its_golden_fails_naming_the_actual_and_a_diff(tmp_path):
    frame = bytearray(still(font="6x13"))
    frame[:3] = b"\xff\x00\xff"  # one pixel off
    with pytest.raises(AssertionError, match="1 pixels differ") as failed:
        assert_golden(bytes(frame), "text_font_6x13", (W, H), tmp_path)
    actual, diff = tmp_path / "text_font_6x13.actual.png", tmp_path / "text_font_6x13.diff.png"
    assert str(actual) in str(failed.value) and str(diff) in str(failed.value)
    assert Image.open(actual).getpixel((0, 0)) == (255, 0, 255)
    assert Image.open(diff).getpixel((0, 0)) == (255, 0, 0) and Image.open(diff).getpixel((1, 0)) == (0, 0, 0)


@pytest.mark.parametrize("path", sorted(contact_sheet.SHEETS))
def test_the_readmes_pictures_are_the_goldens_as_they_are_now(path):
    """docs/text.png and docs/icons.png are laid out from tests/golden/ (make golden rewrites both)."""
    drawn = contact_sheet.sheet(contact_sheet.SHEETS[path])
    committed = Image.open(contact_sheet.ROOT / path).convert("RGB")
    assert committed.size == drawn.size and committed.tobytes() == drawn.tobytes(), f"run make golden: {path}"
