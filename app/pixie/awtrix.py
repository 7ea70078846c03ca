"""AWTRIX 3's API (its docs/api.md) over the job service: one adapter for HTTP and MQTT.

`run(service, command, payload, name)` carries out one AWTRIX command, named
as its MQTT topic is under the prefix ("notify", "custom/<app>", "nextapp",
"indicator2", ...; HTTP's `/api/<command>` is the same word), and answers
what AWTRIX answers: "OK", or a JSON value (stats, loop, screen, settings).
A notification becomes a job and a custom app an app, through the service's
own calls, so every rule of theirs holds here too. AWTRIX fields Pixie does
not draw (yet) are listed in FIELDS as ignored: a request with them
succeeds with the rest applied.
"""

import base64
import binascii
import hashlib
import io
import json
import logging
import math
import os
import reprlib
import socket
import time
from pathlib import Path

from PIL import Image

from . import errors, live, store
from . import spec as specs
from .render import transitions
from .service import Service
from .service.system import installed_version
from .spec import Text

log = logging.getLogger("pixie.awtrix")

# Every field of a notification or custom app AWTRIX documents: how Pixie honours it ("" : ignored, and why).
FIELDS = {
    "text": "`text`; coloured fragments `[{t, c}]` become its coloured parts",
    "textCase": "0: the UPPERCASE setting (default on), 1: upper case, 2: as sent",
    "color": "`color` (`#RRGGBB`, `RRGGBB` or `[r, g, b]`); default: the TCOL setting",
    "background": "`background`",
    "noScroll": "`scroll: false`",
    "scrollSpeed": "`speed`, a percentage of 32 px/s (with the SSPEED setting)",
    "duration": "notification: `duration_s` (default 5); app: `dwell_s` (default: the ATIME setting)",
    "repeat": "notification: `repeat` (the frames this many times; -1: `duration`); app: ignored",
    "hold": "notification: on the panel until dismissed (`duration_s` 24 h)",
    "stack": "notification: `false` dismisses the notification on the panel and plays at `high` priority",
    "lifetime": "app: `lifetime_s`",
    "pos": "app: `position`",
    "save": "always: Pixie's apps are durable (AOF), whatever `save` says",
    "topText": "`valign: top`",
    "textOffset": "`offset_x`",
    "center": "`false`: `align: left` (default: centred)",
    "gradient": "`gradient`: from one colour to the other across the text, moving as it scrolls",
    "blinkText": "`blink_ms`",
    "fadeText": "`fade_ms`",
    "rainbow": "`rainbow`: each letter a hue of the spectrum, moving through it",
    "icon": "`icon`: a library icon's name (also with AWTRIX's size folder, `8x8/8544`), a base64 8x8 image"
    " (kept in the library under its digest), or a LaMetric id fetched once from `[icons] fetch_url`",
    "pushIcon": "`icon_mode`: 0 fixed, 1 once, 2 scroll",
    "sound": "",
    "rtttl": "",
    "loopSound": "",
    "bar": "a `chart` (`style: bar`) in `color`, right of the icon, the panel's height; under the text, or alone"
    " (the `chart` kind); at most one value a column of it",
    "line": "a `chart` (`style: line`), as `bar`; with `bar` too: refused (Pixie draws one chart)",
    "autoscale": "default: from 0 (or the least value) to the greatest; `false`: the values are rows of AWTRIX's 8"
    " (`min: 0, max: 8`, scaled to the panel)",
    "barBC": "`bar_background` (black: none)",
    "progress": "`progress` (0..100; -1: none): a bar on the panel's bottom eighth under the text, from the icon's"
    " right edge; without a text, the `progress` kind",
    "progressC": "`progress_color` (default green)",
    "progressBC": "`progress_bg` (default white)",
    "draw": "`draw`: `dp` pixel, `dl` line, `dr` rectangle, `df` filled rectangle (x, y, w, h), `dc` circle, `dfc`"
    " filled circle (x, y, radius), `dt` text (its top-left corner, the 4x6 font), `db` bitmap (24-bit colours,"
    " row by row) on the panel's coordinates, clipped at its edges; over the text, or alone",
    "lifetimeMode": "app: 1 keeps the stale app, inside a red frame (`lifetime_mode: mark`); 0 deletes it",
    "wakeup": "notification: `wakeup`: a panel switched off lights up while it plays",
    "clients": "",
    "effect": "`effect`: an animated background behind the text, or alone (AWTRIX's "
    + ", ".join(specs.EFFECTS)
    + "; GET /api/effects lists them; another name: refused)",
    "effectSettings": "`effect_speed`, `effect_palette` (Cloud, Lava, Ocean, Forest, Stripe, Party, Heat, Rainbow),"
    " `effect_blend`",
    "overlay": "`overlay` over the text: snow, drizzle, rain, storm, thunder, frost (`clear`: none)",
}
# Why the ignored fields and settings are: the README's tables say it per group.
IGNORED_WHY = {
    "no buzzer or speaker on a HUB75 panel": ["sound", "rtttl", "loopSound", "VOL"],
    "no other AWTRIX devices to forward to": ["clients"],
    "for AWTRIX's built-in apps (time, date, sensors, battery): Pixie has none": [
        *"TMODE CHCOL CBCOL CTCOL WD WDCA WDCI TFORMAT DFORMAT SOM CEL".split(),
        *"TIME_COL DATE_COL TEMP_COL HUM_COL BAT_COL TIM DAT HUM TEMP BAT".split(),
    ],
    "no light sensor on a Pi (`GET` answers `false`)": ["ABRI"],
    "no keys on the panel": ["BLOCKN"],
    "the panel shows the colours as sent": ["CCORRECTION", "CTEMP"],
    "an overlay is a notification's or an app's own (`overlay`)": ["OVERLAY"],
}
# Every setting (GET/POST /api/settings) AWTRIX documents: how Pixie honours it ("": accepted and ignored).
SETTINGS = {
    "BRI": "the brightness, 0-255 (Pixie's 0-100 scaled)",
    "MATP": "power",
    "ATRANS": "`false` pins the app on the panel, `true` unpins",
    "ATIME": "the default `dwell_s` of apps made through AWTRIX",
    "UPPERCASE": "text in upper case unless `textCase` says otherwise",
    "TCOL": "the default text colour",
    "SSPEED": "the default scroll speed, a percentage",
    "TEFF": "the default transition, by AWTRIX's code 0-10 (each is one of Pixie's transitions)",
    "TSPEED": "the default transition's time, in ms",
    # the ignored ones: AWTRIX writes settings in upper case, fields in camel case
    **dict.fromkeys([key for keys in IGNORED_WHY.values() for key in keys if key.isupper()], ""),
}
DEFAULT_SETTINGS = {"ATIME": 7, "UPPERCASE": True, "TCOL": "#FFFFFF", "SSPEED": 100}
NOTIFY_DURATION_S = 5
BASE_SPEED = Text.model_fields["speed"].default
INDICATORS = ("indicator1", "indicator2", "indicator3")
COMMANDS = (
    "notify",
    "notify/dismiss",
    "custom/<app>",
    "nextapp",
    "previousapp",
    "switch",
    "power",
    "sleep",
    "settings",
    *INDICATORS,
    "reboot",
    "sound",
    "rtttl",
)
# Its MQTT topics under the prefix: the commands, and `sendscreen` (the answer goes to `screen`).
MQTT_TOPICS = (*(c.replace("<app>", "+") for c in COMMANDS), "sendscreen")
OK = "OK"


def run(service: Service, command: str, payload: bytes, name: str | None = None):
    """Carry out an AWTRIX command; "OK" or the JSON value it answers. `name`: HTTP's `?name=`
    (MQTT has the app's name in the topic: "custom/<app>")."""
    text = _text(payload)
    service.v.incr(store.AWTRIX_MESSAGES)  # volatile: stats' `messages` counts since the last restart
    if command.startswith("custom/"):
        command, name = "custom", command.removeprefix("custom/")
    match command:
        case "notify":
            _notify(service, _object(text))
        case "notify/dismiss":
            try:
                service.jobs.dismiss_playing()
            except errors.Conflict:
                pass  # AWTRIX: nothing to dismiss is fine
        case "custom":
            _custom(service, name or "", _json(text))
        case "nextapp" | "previousapp":
            service.apps.skip(1 if command == "nextapp" else -1)
        case "switch":
            service.apps.skip(0, to=_string(_object(text), "name"))
        case "power":
            service.panel.set_power(_power(text))
        case "sleep":
            seconds = _number(_object(text), "sleep", None)
            if seconds is None or seconds <= 0:
                raise errors.Invalid('sleep: expected {"sleep": seconds}, seconds > 0')
            service.panel.set_power(False, for_s=seconds)
        case "settings":
            return _put_settings(service, _object(text)) if text else settings(service)
        case "indicator1" | "indicator2" | "indicator3":
            _indicator(service, int(command[-1]), _object(text) if text not in ("", "0") else {})
        case "reboot":
            service.panel.restart_display()
        case "sound" | "rtttl":
            pass  # nothing here makes a sound
        case "sendscreen":
            return screen(service)
        case _:
            raise errors.NotFound(f"no AWTRIX command {command!r}; the commands: {', '.join(COMMANDS)}")
    return OK


# -- notifications and custom apps ---------------------------------------------------------------


def notification(body: dict, preferences: dict) -> dict:
    """A notification's fields as a Pixie job."""
    job = content(body, preferences)
    repeat = _number(body, "repeat", -1)
    if _flag(body, "hold"):
        job["duration_s"] = specs.MAX_DURATION_S  # until dismissed
    elif repeat > 0 and job["kind"] == "text":
        job["repeat"] = int(repeat)
    else:
        duration = _number(body, "duration", NOTIFY_DURATION_S)
        job["duration_s"] = duration if duration > 0 else NOTIFY_DURATION_S
    if body.get("stack") is False:
        job["priority"] = "high"
    if _flag(body, "wakeup"):
        job["wakeup"] = True
    return job


def custom_app(body: dict, preferences: dict) -> dict:
    """A custom app's fields as a Pixie app."""
    app = {"content": content(body, preferences, placeholders=True)}
    dwell = _number(body, "duration", preferences["ATIME"])
    if dwell > 0:
        app["dwell_s"] = dwell
    if (position := _number(body, "pos", None)) is not None and position >= 0:
        app["position"] = int(position)
    if (lifetime := _number(body, "lifetime", 0)) > 0:
        app["lifetime_s"] = lifetime
        if _number(body, "lifetimeMode", 0) == 1:
            app["lifetime_mode"] = "mark"
    return app


def content(body: dict, preferences: dict, placeholders: bool = False) -> dict:
    """What a notification or app shows: its text (in its colours) with its drawing over it, or its drawing
    or background alone. An app's text may hold {{topic}} placeholders (live.py), as AWTRIX's may: capitals
    leave their topics be."""
    background = _color(body.get("background"), "background")
    drawing = _drawing(body.get("draw"), _color(preferences["TCOL"], "TCOL"))
    text = body.get("text")
    chart, progress = _chart(body, preferences), _progress(body)
    if text in (None, "", []) and (chart or progress):
        return _graphic(body, chart, progress, drawing, background)
    if text in (None, "", []) and body.get("effect") not in (None, ""):
        text = " "  # the effect alone (a drawing over it): a text of nothing to draw behind
    if text in (None, "", []):
        if drawing:
            return {"kind": "draw", "draw": drawing, "background": background or "#000000"}
        return {"kind": "fill", "color": background or "#000000"}
    case = _number(body, "textCase", 0)
    upper = case == 1 or (case == 0 and preferences["UPPERCASE"])
    color = _text_color(body, preferences)
    capitals = live.upper if placeholders else str.upper
    if isinstance(text, str):
        shown = capitals(text) if upper else text
    elif isinstance(text, list) and all(isinstance(f, dict) for f in text):
        shown = [
            {"text": capitals(f["t"]) if upper else f["t"], "color": _color(f.get("c"), "text.c") or color}
            for f in text
            if isinstance(f.get("t"), str) and f["t"]
        ]
    else:
        raise errors.Invalid('text: expected a string or fragments [{"t": text, "c": colour}]')
    job = {"kind": "text", "text": shown, "color": color, **_looks(body), **progress}
    if chart:
        job["chart"] = chart
    if background:
        job["background"] = background
    if drawing:
        job["draw"] = drawing
    if _flag(body, "noScroll"):
        job["scroll"] = False
    percent = _number(body, "scrollSpeed", preferences["SSPEED"])
    if percent > 0 and percent != 100:
        job["speed"] = min(BASE_SPEED * percent / 100, specs.MAX_SPEED)
    return job


def _text_color(body: dict, preferences: dict) -> str:
    return _color(body.get("color"), "color") or _color(preferences["TCOL"], "TCOL")


def _chart(body: dict, preferences: dict) -> dict | None:
    """AWTRIX's `bar` or `line` with `autoscale` and `barBC`, as a chart's fields (in the text's colour,
    as AWTRIX draws it)."""
    given = [key for key in ("bar", "line") if body.get(key) not in (None, [])]
    if not given:
        return None
    if len(given) == 2:
        raise errors.Invalid("bar, line: give one of them (Pixie draws one chart)")
    style = given[0]
    values = body[style]
    if not isinstance(values, list):
        raise errors.Invalid(f"{style}: expected a list of numbers, got {values!r}")
    chart = {"style": style, "values": values, "color": _text_color(body, preferences)}
    if "autoscale" in body and not _flag(body, "autoscale"):
        chart |= {"min": 0, "max": 8}  # the values are rows of AWTRIX's 8
    elif style == "line" and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        chart["min"] = min(0, *values)  # AWTRIX scales a line from 0 too; the spec refuses what is not a number
    background = _color(body.get("barBC"), "barBC")
    if style == "bar" and background not in (None, "#000000"):  # AWTRIX draws no black column
        chart["bar_background"] = background
    return chart


def _progress(body: dict) -> dict:
    """AWTRIX's `progress` (-1: none), `progressC` and `progressBC`, as a text's fields; AWTRIX reads the
    percentage as an integer (40.7: 40), and the spec refuses one outside 0..100."""
    percent = _number(body, "progress", -1)
    if percent == -1:
        return {}
    fields = {"progress": int(percent)}
    for key, field in (("progressC", "progress_color"), ("progressBC", "progress_bg")):
        if (color := _color(body.get(key), key)) is not None:
            fields[field] = color
    return fields


def _graphic(body: dict, chart: dict | None, progress: dict, drawing, background: str | None) -> dict:
    """A chart or a progress bar without a text: the chart or progress kind, beside the icon."""
    if sum(map(bool, (chart, progress, drawing))) > 1:
        raise errors.Invalid("bar, line, progress, draw: without a text Pixie shows one of them, not several")
    job = {"kind": "chart", **chart} if chart else {"kind": "progress", **progress}
    if isinstance(icon := body.get("icon"), str) and icon:
        job["icon"] = icon
    return job | {"background": background or "#000000"}


# pushIcon: 0 the icon stays; 1 it moves with the text and is gone; 2 it moves with the text and comes
# back as the text starts again.
ICON_MODES = {0: "fixed", 1: "once", 2: "scroll"}


def _looks(body: dict) -> dict:
    """How a text is drawn: AWTRIX's keys as the Text spec's fields."""
    looks = {}
    if isinstance(icon := body.get("icon"), str) and icon:
        looks["icon"] = icon
        if (push := _number(body, "pushIcon", 0)) not in ICON_MODES:
            raise errors.Invalid(f"pushIcon: expected 0, 1 or 2, got {body['pushIcon']!r}")
        looks["icon_mode"] = ICON_MODES[push]
    if _flag(body, "topText"):
        looks["valign"] = "top"
    if offset := _number(body, "textOffset", 0):
        looks["offset_x"] = int(offset)
    if "center" in body and not _flag(body, "center"):
        looks["align"] = "left"
    for key, field in (("blinkText", "blink_ms"), ("fadeText", "fade_ms")):
        if ms := _number(body, key, 0):
            looks[field] = int(ms)
    looks |= _effect(body)
    if _flag(body, "rainbow"):
        looks["rainbow"] = True
    elif (ends := body.get("gradient")) is not None:
        if not (isinstance(ends, list) and len(ends) == 2):
            raise errors.Invalid("gradient: expected two colours")
        looks["gradient"] = [_color(end, "gradient") for end in ends]
    return looks


EFFECT_SETTINGS = {"speed": "effect_speed", "palette": "effect_palette", "blend": "effect_blend"}


def _effect(body: dict) -> dict:
    """effect, effectSettings and overlay as the Text spec's fields (it refuses names it does not know)."""
    fields = {}
    if (effect := body.get("effect")) not in (None, ""):
        fields["effect"] = effect
        settings = body.get("effectSettings", {})
        if not isinstance(settings, dict):
            raise errors.Invalid("effectSettings: expected an object of speed, palette and blend")
        fields |= {field: settings[key] for key, field in EFFECT_SETTINGS.items() if key in settings}
    if (overlay := body.get("overlay")) not in (None, "", "clear"):
        fields["overlay"] = overlay
    return fields


def effects(_service: Service) -> list[str]:
    """GET /api/effects: the effects' names."""
    return list(specs.EFFECTS)


# AWTRIX's drawing commands (its docs/api.md, "Drawing Instructions"): Pixie's primitive, and the command's
# values in order, as AWTRIX names them.
DRAW_COMMANDS = {
    "dp": ("pixel", "x y cl"),
    "dl": ("line", "x0 y0 x1 y1 cl"),
    "dr": ("rect", "x y w h cl"),
    "df": ("filled_rect", "x y w h cl"),
    "dc": ("circle", "x y r cl"),
    "dfc": ("filled_circle", "x y r cl"),
    "dt": ("text", "x y t cl"),
    "db": ("bitmap", "x y w h bmp"),
}
DRAW_FIELDS = {"cl": "color", "t": "text", "bmp": "pixels"}  # the others are Pixie's names too
DRAW_FONT = "4x6"  # dt's: as tall as AWTRIX's own font (capitals 5 px from the top)


def _drawing(value, default_color: str) -> list[dict] | None:
    """AWTRIX's `draw`, a list of `{command: [values]}`, as Pixie's primitives (several commands in one
    object are drawn in order, as AWTRIX does); their values' ranges are the spec's to check. A colour
    left empty is `default_color` (the TCOL setting), as on AWTRIX."""
    if value in (None, []):
        return None
    if not isinstance(value, list):
        raise errors.Invalid('draw: expected a list of drawing commands, e.g. [{"dp": [0, 0, "#FF0000"]}]')
    if len(value) > specs.MAX_DRAW:
        raise errors.Invalid(f"draw: at most {specs.MAX_DRAW} drawing commands, got {len(value)}")
    primitives = []
    for i, instruction in enumerate(value):
        if not isinstance(instruction, dict) or not instruction:
            raise errors.Invalid(f'draw.{i}: expected a drawing command, e.g. {{"dp": [0, 0, "#FF0000"]}}')
        for command, values in instruction.items():
            where = f"draw.{i}.{command}"
            if command not in DRAW_COMMANDS:
                raise errors.Invalid(f"{where}: no such drawing command (AWTRIX's: {', '.join(DRAW_COMMANDS)})")
            op, names = DRAW_COMMANDS[command]
            names = names.split()
            if not isinstance(values, list) or len(values) != len(names):
                got = f"{len(values)} values" if isinstance(values, list) else reprlib.repr(values)
                raise errors.Invalid(f"{where}: expected [{', '.join(names)}], got {got}")
            primitive = {"op": op} | ({"font": DRAW_FONT} if op == "text" else {})
            for name, v in zip(names, values, strict=True):
                primitive[DRAW_FIELDS.get(name, name)] = _draw_value(name, v, f"{where}.{name}", default_color)
            primitives.append(primitive)
    return primitives


def _draw_value(name: str, value, where: str, default_color: str):
    """A drawing command's value as AWTRIX reads it: numbers cut to integers, colours as Pixie's; text as
    it prints it."""
    if name == "cl":
        return _color(value, where) or default_color
    if name == "t":
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise errors.Invalid(f"{where}: expected a text, got {reprlib.repr(value)}")
        return str(value)
    if name == "bmp":
        if not isinstance(value, list):
            raise errors.Invalid(f"{where}: expected a list of colours, got {reprlib.repr(value)}")
        if len(value) > specs.MAX_BITMAP_PIXELS:
            raise errors.Invalid(f"{where}: at most {specs.MAX_BITMAP_PIXELS} colours, got {len(value)}")
        return [c if isinstance(c, int) and not isinstance(c, bool) else _rgb(_color(c, where)) for c in value]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise errors.Invalid(f"{where}: expected a number, got {reprlib.repr(value)}")
    return int(value)


def _rgb(color: str | None) -> int:
    """A bitmap's colour given as "#RRGGBB" or [r, g, b] as AWTRIX's 24-bit integer (empty: black)."""
    return int(color[1:], 16) if color else 0


def _notify(service: Service, body: dict) -> None:
    job = _with_icon(service, notification(body, preferences(service)))
    specs.parse(job, strict=True)  # refused whole before anything on the panel changes
    if job.get("priority") == "high":
        try:
            service.jobs.dismiss_playing()
        except errors.Conflict:
            pass
    service.jobs.submit(job)


def _with_icon(service: Service, content: dict) -> dict:
    """AWTRIX's `icon` as the library has it: a base64 image is kept there under its digest; a name the
    library lacks (and, without [icons] fetch_url, a LaMetric id) is dropped, as AWTRIX shows no icon."""
    icon = content.get("icon")
    if icon is None or service.library.has_icon(icon):
        return content
    if (image := _inline_image(icon)) is not None:
        icon = f"b64-{hashlib.sha256(image).hexdigest()[:16]}"
        if not service.library.has_icon(icon):
            service.library.put_icon(icon, image)
    elif not (icon.isdigit() and service.config.icons.fetch_url):
        log.warning("icon %s: not in the library, shown without it", icon)
        return {k: v for k, v in content.items() if k not in ("icon", "icon_mode")}
    return {**content, "icon": icon}


def _inline_image(value: str) -> bytes | None:
    """A base64 image (AWTRIX documents an 8x8 JPEG) as a PNG for the library; None if it is not one."""
    if len(value) < 32:  # a name or an id, not an image
        return None
    try:
        with Image.open(io.BytesIO(base64.b64decode(value, validate=True))) as image:
            out = io.BytesIO()
            image.convert("RGBA").save(out, "PNG")
            return out.getvalue()
    except (binascii.Error, ValueError, OSError):
        return None


def _custom(service: Service, name: str, body) -> None:
    """An object: the app `name`; a list: apps name0, name1, ...; nothing or `{}`: delete every app whose
    name starts with `name` (AWTRIX's delete, which matches prefixes); `[]`: nothing, as AWTRIX does."""
    if not name:
        raise errors.Invalid("name: the app's name is missing (?name= or custom/<name>)")
    if body == []:
        return
    if body is None or body == {}:
        gone = [app.name for app in service.apps.rotation().apps if app.name.startswith(name)]
        for each in gone:
            service.apps.delete(each)
        if not gone:
            raise errors.NotFound(f"no app {name} (nor any app whose name starts so)")
        return
    defaults = preferences(service)
    bodies = {name: body} if isinstance(body, dict) else None
    if isinstance(body, list) and body and all(isinstance(b, dict) for b in body):
        bodies = {f"{name}{i}": b for i, b in enumerate(body)}
    if bodies is None:
        raise errors.Invalid("body must be a JSON object, or a list of them (one app each)")
    apps = {each: custom_app(b, defaults) for each, b in bodies.items()}
    apps = {each: specs.parse_app({**a, "content": _with_icon(service, a["content"])}) for each, a in apps.items()}
    for each, app in apps.items():
        service.apps.put(each, app)


# -- settings, indicators, stats -------------------------------------------------------------------


def preferences(service: Service) -> dict:
    """The settings that shape what AWTRIX's payloads become (durable: set once, kept)."""
    return DEFAULT_SETTINGS | (store.get_json(service.r, store.AWTRIX_SETTINGS) or {})


def settings(service: Service) -> dict:
    """GET /api/settings: the ones Pixie honours, as AWTRIX spells them."""
    rotation = service.apps.rotation()
    return {
        **preferences(service),
        "BRI": round(service.panel.brightness() * 255 / 100),
        "MATP": service.panel.power(),
        "ATRANS": rotation.pinned is None,
        "ABRI": False,
        **_transition_settings(service),
    }


def _transition_settings(service: Service) -> dict:
    """TEFF (if AWTRIX has a code for Pixie's default transition: it has none for a cut or a wipe) and TSPEED."""
    setting = service.panel.transition()
    codes = [i for i, name in enumerate(transitions.AWTRIX_NAMES) if transitions.AWTRIX[name] == setting.transition]
    return {"TSPEED": setting.transition_ms} | ({"TEFF": codes[0]} if codes else {})


def transition_names(_: Service) -> list[str]:
    """GET /api/transitions: AWTRIX's, in the order of their TEFF codes."""
    return list(transitions.AWTRIX_NAMES)


def _put_transition(service: Service, body: dict) -> None:
    """TEFF and TSPEED: Pixie's default transition, one setting for every front door."""
    setting = service.panel.transition()
    name, ms = setting.transition, setting.transition_ms
    if "TEFF" in body:
        code = _number(body, "TEFF", 0)
        if code not in range(len(transitions.AWTRIX_NAMES)):
            raise errors.Invalid(f"TEFF must be 0..{len(transitions.AWTRIX_NAMES) - 1}, got {body['TEFF']!r}")
        name = transitions.AWTRIX[transitions.AWTRIX_NAMES[int(code)]]
    if "TSPEED" in body:
        ms = _number(body, "TSPEED", 0)
        if not 0 <= ms <= specs.MAX_TRANSITION_MS:
            raise errors.Invalid(f"TSPEED must be 0..{specs.MAX_TRANSITION_MS} ms, got {body['TSPEED']!r}")
    service.panel.set_transition(specs.Transition(transition=name, transition_ms=round(ms)))


def checked_preferences(body: dict) -> dict:
    """Of a settings body, the preferences (DEFAULT_SETTINGS' keys) it sets, checked and as kept."""
    known = {key: body[key] for key in DEFAULT_SETTINGS if key in body}
    if "TCOL" in known:
        known["TCOL"] = _color(known["TCOL"], "TCOL")
    for key in ("ATIME", "SSPEED"):
        if key in known and not _number(known, key, 0) > 0:
            raise errors.Invalid(f"{key}: expected a positive number")
    if "UPPERCASE" in known:
        known["UPPERCASE"] = _flag(known, "UPPERCASE")
    return known


def _put_settings(service: Service, body: dict) -> str:
    known = checked_preferences(body)
    if "BRI" in body:
        bri = _number(body, "BRI", 0)
        if not 0 <= bri <= 255:
            raise errors.Invalid(f"BRI must be 0..255, got {body['BRI']!r}")
        service.panel.set_brightness(round(bri * 100 / 255))
    if "TEFF" in body or "TSPEED" in body:
        _put_transition(service, body)
    if "MATP" in body:
        service.panel.set_power(_flag(body, "MATP"))
    if "ATRANS" in body:
        rotation = service.apps.rotation()
        if _flag(body, "ATRANS") and rotation.pinned:
            service.apps.unpin(rotation.pinned)
        elif not _flag(body, "ATRANS") and rotation.showing and not rotation.pinned:
            service.apps.pin(rotation.showing)
    if known:
        store.put_json(service.r, store.AWTRIX_SETTINGS, preferences(service) | known)
    return OK


def _indicator(service: Service, number: int, body: dict) -> None:
    """A corner pixel's colour (black, "0" or nothing hides it), blinking or fading every so many ms."""
    color = _color(body.get("color"), "color")
    if color in (None, "#000000"):
        service.panel.set_indicator(number, None)
        return
    blink, fade = _number(body, "blink", 0), _number(body, "fade", 0)
    service.panel.set_indicator(number, color, blink_ms=max(0, int(blink)), fade_ms=max(0, int(fade)))


def stats(service: Service) -> dict:
    """GET /api/stats: every field AWTRIX sends. A Pi has no battery, light or humidity sensor:
    bat 100, bat_raw 0, lux 0, ldr_raw 0, hum 0 say so; temp is the SoC's, ram the memory free.
    Read without /proc's system files, which the services' sandbox hides (ProcSubset=pid)."""
    state = service.panel.state()
    indicators = service.panel.indicators()
    config = service.config
    return {
        "bat": 100,
        "bat_raw": 0,
        "type": 0,
        "lux": 0,
        "ldr_raw": 0,
        "ram": os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"),
        "bri": round(state.brightness * 255 / 100),
        "temp": _soc_temperature(),
        "hum": 0,
        "uptime": int(time.clock_gettime(time.CLOCK_BOOTTIME)),
        "wifi_signal": 0,
        "messages": int(service.v.get(store.AWTRIX_MESSAGES) or 0),
        "version": installed_version(),
        **{name: str(n) in indicators for n, name in enumerate(INDICATORS, 1)},
        "app": state.app or "",
        "uid": config.mqtt.device,
        "matrix": state.power,
        "ip_address": _address(),
    }


def loop(service: Service) -> dict:
    """GET /api/loop: the apps and their places."""
    return {app.name: i for i, app in enumerate(service.apps.rotation().apps)}


def screen(service: Service) -> list[int]:
    """GET /api/screen: the panel's pixels, row by row, as 24-bit integers."""
    raw = service.panel.screen() or b""
    return [int.from_bytes(raw[i : i + 3]) for i in range(0, len(raw), 3)]


# -- reading AWTRIX's payloads ------------------------------------------------------------------------


def _text(payload: bytes) -> str:
    try:
        return payload.decode().strip()
    except UnicodeDecodeError:
        raise errors.Invalid("ErrorParsingJson: the body is not UTF-8") from None


def _json(text: str):
    """The body's JSON value; None for an empty body."""
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError as e:
        raise errors.Invalid(f"ErrorParsingJson: {e}") from None


def _object(text: str) -> dict:
    data = _json(text)
    if not isinstance(data, dict):
        raise errors.Invalid("ErrorParsingJson: the body must be a JSON object")
    return data


def _number(body: dict, key: str, default):
    value = body.get(key, default)
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return value
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise errors.Invalid(f"{key}: expected a number, got {value!r}")


def _flag(body: dict, key: str) -> bool:
    value = body.get(key, False)
    if isinstance(value, bool):
        return value
    if value in (0, 1, "true", "false"):
        return value in (1, "true")
    raise errors.Invalid(f"{key}: expected true or false, got {value!r}")


def _string(body: dict, key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise errors.Invalid(f'{key}: expected {{"{key}": "..."}}')
    return value


def _power(text: str) -> bool:
    """`{"power": true}`, or (as AWTRIX also takes) a bare true/1."""
    if text in ("true", "1", "false", "0"):
        return text in ("true", "1")
    body = _object(text)
    if "power" not in body:
        raise errors.Invalid('power: expected {"power": true} or {"power": false}')
    return _flag(body, "power")


def _hex(r: float, g: float, b: float) -> str:
    return f"#{round(r):02x}{round(g):02x}{round(b):02x}"


def _color(value, key: str) -> str | None:
    """AWTRIX's colours: "#RRGGBB", "RRGGBB", [r, g, b], or a 24-bit integer; None if not given."""
    if value is None or value == "":
        return None
    if isinstance(value, list) and len(value) == 3 and all(isinstance(c, int) and 0 <= c <= 255 for c in value):
        return _hex(*value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 0xFFFFFF:
        return f"#{value:06x}"
    if isinstance(value, str):
        digits = value.removeprefix("#")
        if len(digits) == 6 and all(c in "0123456789abcdefABCDEF" for c in digits):
            return f"#{digits.lower()}"
        if value == "0":
            return "#000000"
    raise errors.Invalid(f'{key}: not a colour: {value!r} (use "#RRGGBB" or [r, g, b])')


# -- the device, as AWTRIX's stats report it ------------------------------------------------------


def _soc_temperature() -> float:
    try:
        return round(int(Path("/sys/class/thermal/thermal_zone0/temp").read_text()) / 1000, 1)
    except (OSError, ValueError):
        return 0.0


def _address() -> str:
    """The address other devices reach this one at (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1: only the route is looked up
            return s.getsockname()[0]
        except OSError:
            return ""
