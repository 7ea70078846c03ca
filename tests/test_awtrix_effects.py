"""AWTRIX's effect, effectSettings and overlay over HTTP on a whole appliance, read off its headless panel:
docs/effects.md's example (Plasma, speed 3, Rainbow, blend) plays the frames Pixie's renderer draws for it;
GET /api/effects lists the effects; a name Pixie lacks is refused naming the field, nothing queued."""

import json

from test_awtrix import call, get, newest_job, post

from pixie import spec as specs
from rendering import frames as rendered

EXAMPLE = {"effect": "Plasma", "effectSettings": {"speed": 3, "palette": "Rainbow", "blend": True}}


# AWTRIX 3's effects (its docs/effects.md): Pixie refuses none of them.
AWTRIX_EFFECTS = (
    "BrickBreaker Checkerboard Fireworks PingPong Radar Ripple Snake TwinklingStars TheaterChase ColorWaves SwirlOut"
    " SwirlIn LookingEyes Matrix Pacifica Plasma PlasmaCloud MovingLine Fade"
).split()


def test_effects_lists_every_background_pixie_draws_all_of_awtrix_s(stack):
    assert get(stack, "/api/effects") == list(specs.EFFECTS)
    assert sorted(specs.EFFECTS) == sorted(AWTRIX_EFFECTS)


def test_the_docs_effect_example_plays_its_plasma_behind_the_text(stack):
    mark = len(stack.frames())
    post(stack, "/api/notify", {"text": "Hi", "duration": 2, "overlay": "snow", **EXAMPLE})
    job = stack.wait_state(newest_job(stack)["id"], "done", "failed", timeout=30)
    assert job["state"] == "done", job
    expected = rendered(
        64, 32, text="HI", kind="text", effect="Plasma", effect_speed=3, effect_palette="Rainbow", effect_blend=True,
        overlay="snow",
    )  # fmt: skip
    shown = {frame for _, frame in stack.frames()[mark:]}
    drawn = {frame for frame, _ in expected}
    assert len(shown & drawn) >= 10  # two seconds of a 4-second loop: its frames, as drawn
    assert shown & drawn <= drawn


def test_an_effect_without_a_text_plays_alone_with_its_drawing_over_it(stack):
    mark = len(stack.frames())
    post(stack, "/api/notify", {"effect": "Fade", "duration": 1, "draw": [{"dp": [0, 0, "#FFFFFF"]}]})
    job = stack.wait_state(newest_job(stack)["id"], "done", "failed", timeout=30)
    assert job["state"] == "done", job
    shown = [frame for _, frame in stack.frames()[mark:]]
    fade = {frame for frame, _ in rendered(64, 32, kind="text", text=" ", effect="Fade")}
    assert len({frame[3:] for frame in shown} & {frame[3:] for frame in fade}) >= 2  # the fade, right of (0, 0)
    assert all(frame[:3] == b"\xff\xff\xff" for frame in shown if frame[3:] in {f[3:] for f in fade})


def test_an_effect_pixie_lacks_is_refused_naming_the_field_and_nothing_is_queued(stack):
    before = newest_job(stack)["id"] if stack.request("GET", "/api/v1/jobs?limit=1")[1]["jobs"] else None
    for body, field in (
        ({"effect": "Aurora"}, "effect"),
        ({**EXAMPLE, "effectSettings": {"palette": "x"}}, "effect_palette"),
        ({"overlay": "hail"}, "overlay"),
    ):
        status, text, _ = call(stack, "POST", "/api/notify", {"text": "Hi", **body})
        assert status == 422, text
        assert json.loads(text)["error"].startswith(f"{field}: Input should be"), text
    after = stack.request("GET", "/api/v1/jobs?limit=1")[1]["jobs"]
    assert (after[0]["id"] if after else None) == before
