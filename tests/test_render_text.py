"""Text: the spec's layout fields, fonts and their fallback, drawn and compared as pictures."""

import pytest

from pixie import spec as specs


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
