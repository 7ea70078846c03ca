"""What a display job may ask for: one schema for the HTTP API and for jobs
enqueued directly by other projects (`pixie.jobs.show_text(text=...)`)."""

import json
import re
from datetime import datetime, time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from PIL import ImageColor
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    StrictBool,
    Tag,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from . import errors, live
from .render import transitions
from .schedule import BOUND_FORMS, BOUND_PATTERN, DAYS, Bound
from .vocabulary import KINDS, PRIORITIES, Kind, Priority

MAX_TEXT_CHARS = 200
MAX_SPEED = 500  # px/s
MAX_TEXT_PARTS = MAX_TEXT_CHARS  # a part per letter at most (AWTRIX's rainbow)
MAX_DURATION_S = 24 * 3600
MAX_REPEAT = 10_000
MAX_DELAY_S = 24 * 3600  # a timed job: at most a day ahead
BRIGHTNESS = (0, 100)  # percent; 0 is dark
MAX_WINDOWS = 16
MAX_FADE_MIN = 180
MAX_LIFETIME_S = 7 * 24 * 3600
NAME_PATTERN = r"^[A-Za-z0-9_.:-]+$"  # a job's name, an app's, a font's, an icon's
MAX_NAME_CHARS = 64
# An icon's: a name, or AWTRIX's with one size folder ("8x8/8544"); library.py keeps it so.
ICON_PATTERN = r"^([0-9]{1,3}x[0-9]{1,3}/)?[A-Za-z0-9_.:-]+$"
MAX_OFFSET = 256  # px a text may be shifted by
MIN_EFFECT_MS, MAX_EFFECT_MS = 100, 10_000
# A chart's numbers: at most this many (the widest panel a chain makes; the renderer refuses more than the chart
# has columns on the panel it draws on), each finite and within this size (scaling stays exact enough).
MAX_CHART_VALUES = 1024
MAX_CHART_MAGNITUDE = 1e15
# render.fonts.BUILTIN's bitmap fonts (spec imports no renderer: the display process stays small).
# Animated backgrounds and weather (render/backgrounds.py; AWTRIX's effect names and palettes, its overlays)
EFFECTS = tuple(
    "Matrix Plasma PlasmaCloud Fade ColorWaves TwinklingStars Ripple Radar MovingLine BrickBreaker PingPong"
    " Checkerboard Fireworks Snake Pacifica TheaterChase SwirlIn SwirlOut LookingEyes".split()
)
PALETTES = ("Cloud", "Lava", "Ocean", "Forest", "Stripe", "Party", "Heat", "Rainbow")
OVERLAYS = ("snow", "drizzle", "rain", "storm", "thunder", "frost")
MAX_EFFECT_SPEED = 10
BITMAP_FONTS = ("4x6", "5x7", "5x8", "6x10", "6x13", "7x13", "8x13", "9x15", "9x18", "10x20", "unifont")


def color(value: str) -> str:
    """A colour as `#rrggbb` (from #rrggbb or a CSS name); ValueError names what is wrong."""
    try:
        r, g, b = ImageColor.getrgb(value)[:3]
    except ValueError:
        raise ValueError(f"not a colour: {value!r} (use #rrggbb or a CSS name)") from None
    return f"#{r:02x}{g:02x}{b:02x}"


def _json_integer(value):
    """An integer as JSON Schema means it (40 or 40.0), never `true` or "40"."""
    if isinstance(value, bool | str | bytes):
        raise ValueError("must be an integer")
    return value


def _moment(value):
    """JSON has no date type: `at` is a string, even where the rest of a body is held to its JSON types."""
    if value is None or isinstance(value, datetime | time):
        return value
    if isinstance(value, str):
        for parse in (datetime.fromisoformat, time.fromisoformat):
            try:
                return parse(value)
            except ValueError:
                pass
    raise ValueError(f"not an ISO 8601 date-time or a time of day (HH:MM[:SS]): {value!r}")


def _window_time(value: str) -> str:
    Bound.parse(value)  # ValueError: what is wrong
    return value


def _shown(value) -> str:
    """A refused value as JSON writes it, cut short."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 40 else text[:39] + "…"


def worded(message: str) -> WrapValidator:
    """Any refusal of the type it annotates as `message` (a phrase starting "must", then "got <value>"):
    pydantic's own quotes a regular expression, or only the bound that was crossed."""

    def check(value, handler):
        try:
            return handler(value)
        except ValidationError:
            raise PydanticCustomError("worded", f"{message}, got {{value}}", {"value": _shown(value)}) from None

    return WrapValidator(check)


Color = Annotated[str, Field(max_length=32, examples=["#ff8800", "red"]), AfterValidator(color)]
Percent = Annotated[
    int,
    Field(ge=BRIGHTNESS[0], le=BRIGHTNESS[1]),
    BeforeValidator(_json_integer),
    worded(f"must be {BRIGHTNESS[0]}..{BRIGHTNESS[1]}"),
]
WindowTime = Annotated[
    str,
    Field(
        max_length=32,
        examples=["22:30", "sunset-30m"],
        description=f"{BOUND_FORMS} (the sun's at the device)",
        # the schedule's own pattern for clients, its groups unnamed (JSON Schema's regexes have no (?P<>));
        # checked by _window_time, which also bounds the offset
        json_schema_extra={"pattern": re.sub(r"\?P<\w+>", "", BOUND_PATTERN)},
    ),
    AfterValidator(_window_time),
    worded(
        "must be a time of day (HH:MM or HH:MM:SS, 00:00 to 23:59), or sunrise or sunset with an offset of at"
        " most 12h (sunset-30m, sunrise+1h15m)"
    ),
]
# Plain strings in the schema (strict JSON validation takes "high", not only Priority.HIGH).
PriorityName = Literal[tuple(p.value for p in PRIORITIES)]
Fit = Literal["fit", "fill", "center"]


class Options(BaseModel):
    """How and when a job plays; shared by every kind."""

    model_config = ConfigDict(extra="forbid")

    priority: PriorityName = Priority.DEFAULT.value
    duration_s: float | None = Field(None, gt=0, le=MAX_DURATION_S, description="play for this long (loops)")
    repeat: int | None = Field(None, ge=1, le=MAX_REPEAT, description="play the frames this many times")
    name: str | None = Field(
        None,
        min_length=1,
        max_length=MAX_NAME_CHARS,
        pattern=NAME_PATTERN,
        description="a later job with the same name replaces this one",
    )
    at: Annotated[datetime | time | None, BeforeValidator(_moment)] = Field(
        None,
        examples=["2026-12-24T07:30:00+01:00", "07:30"],
        description="render and play it then: ISO 8601 (without an offset, the device's local time), or a time"
        " of day (HH:MM[:SS], its next occurrence); at most a day ahead",
    )
    in_s: float | None = Field(None, gt=0, le=MAX_DELAY_S, description="render and play it this many seconds from now")
    wakeup: bool = Field(False, description="a panel switched off lights up while this job plays")

    @model_validator(mode="after")
    def _one_end(self):
        if self.duration_s is not None and self.repeat is not None:
            raise ValueError("give duration_s or repeat, not both")
        if self.at is not None and self.in_s is not None:
            raise ValueError("give at or in_s, not both")
        return self

    def play(self) -> dict:
        return {"duration_s": self.duration_s, "repeat": self.repeat}


# -- drawing: shapes, text and bitmaps on the panel's coordinates (render/draw.py) -------------------------

MAX_DRAW = 256  # primitives in one drawing
# px either way: the widest panel Pixie drives (16 chained 256-column panels); what falls off the panel is clipped
MAX_COORD = 4096
MAX_BITMAP_PIXELS = 64 * 64  # a drawing's bitmaps together: a 64x64 panel's worth (a bigger picture: an image job)
MAX_RGB = 0xFFFFFF
DRAW_OPS = ("pixel", "line", "rect", "filled_rect", "circle", "filled_circle", "text", "bitmap")
FontName = Annotated[str, Field(max_length=MAX_NAME_CHARS, pattern=NAME_PATTERN)]  # built-in or uploaded
Coord = Annotated[int, Field(ge=-MAX_COORD, le=MAX_COORD)]
Size = Annotated[int, Field(ge=1, le=MAX_COORD)]


def _drawn(example: dict) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": [example]})


class DrawPixel(BaseModel):
    """One pixel."""

    model_config = _drawn({"op": "pixel", "x": 3, "y": 2, "color": "red"})
    op: Literal["pixel"]
    x: Coord
    y: Coord
    color: Color = "#ffffff"


class DrawLine(BaseModel):
    """A line from (x0, y0) to (x1, y1), both ends drawn."""

    model_config = _drawn({"op": "line", "x0": 0, "y0": 31, "x1": 63, "y1": 0, "color": "#00ff00"})
    op: Literal["line"]
    x0: Coord
    y0: Coord
    x1: Coord
    y1: Coord
    color: Color = "#ffffff"


class DrawRect(BaseModel):
    """A rectangle's outline: its top-left corner at (x, y), w pixels wide and h high."""

    model_config = _drawn({"op": "rect", "x": 20, "y": 4, "w": 4, "h": 4, "color": "#0000ff"})
    op: Literal["rect"]
    x: Coord
    y: Coord
    w: Size
    h: Size
    color: Color = "#ffffff"


class DrawFilledRect(DrawRect):
    """A filled rectangle: its top-left corner at (x, y), w pixels wide and h high."""

    model_config = _drawn({"op": "filled_rect", "x": 0, "y": 24, "w": 64, "h": 8, "color": "navy"})
    op: Literal["filled_rect"]


class DrawCircle(BaseModel):
    """A circle's outline around (x, y), r pixels from the centre (0: the centre alone)."""

    model_config = _drawn({"op": "circle", "x": 28, "y": 4, "r": 3, "color": "#ff0000"})
    op: Literal["circle"]
    x: Coord
    y: Coord
    r: int = Field(ge=0, le=MAX_COORD)
    color: Color = "#ffffff"


class DrawFilledCircle(DrawCircle):
    """A filled circle (a disc) around (x, y), r pixels from the centre."""

    model_config = _drawn({"op": "filled_circle", "x": 56, "y": 8, "r": 6, "color": "orange"})
    op: Literal["filled_circle"]


class DrawText(BaseModel):
    """A text whose first line's top-left corner is at (x, y); a `\\n` starts a line below."""

    model_config = _drawn({"op": "text", "x": 0, "y": 0, "text": "Hello", "color": "#00ff00", "font": "4x6"})
    op: Literal["text"]
    x: Coord
    y: Coord
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    color: Color = "#ffffff"
    font: FontName = Field(
        "auto",
        examples=["4x6", "auto", "unifont"],
        description="any font a text job takes; auto: the largest built-in whose height fits from y to the panel's"
        " bottom",
    )
    size: int | None = Field(None, ge=6, le=64, description="font size in pixels (sans only)")


class DrawBitmap(BaseModel):
    """A w x h picture with its top-left corner at (x, y): its colours row by row, each 0xRRGGBB as an
    integer (AWTRIX's `db`, and what GET /api/screen answers)."""

    model_config = _drawn({"op": "bitmap", "x": 0, "y": 0, "w": 2, "h": 2, "pixels": [16711680, 65280, 255, 16777215]})
    op: Literal["bitmap"]
    x: Coord
    y: Coord
    w: int = Field(ge=1, le=MAX_BITMAP_PIXELS)
    h: int = Field(ge=1, le=MAX_BITMAP_PIXELS)
    pixels: list[Annotated[int, Field(ge=0, le=MAX_RGB)]] = Field(max_length=MAX_BITMAP_PIXELS)

    @field_validator("h")
    @classmethod
    def _fits(cls, h: int, info: ValidationInfo) -> int:
        if "w" in info.data and info.data["w"] * h > MAX_BITMAP_PIXELS:
            w = info.data["w"]
            raise ValueError(f"a {w}x{h} bitmap has {w * h} pixels, more than {MAX_BITMAP_PIXELS}")
        return h

    @field_validator("pixels")
    @classmethod
    def _one_a_pixel(cls, pixels: list[int], info: ValidationInfo) -> list[int]:
        if {"w", "h"} <= info.data.keys() and len(pixels) != info.data["w"] * info.data["h"]:
            w, h = info.data["w"], info.data["h"]
            raise ValueError(f"a {w}x{h} bitmap takes {w * h} colours, got {len(pixels)}")
        return pixels


def _bitmaps_fit(primitives: list) -> list:
    total = sum(p.w * p.h for p in primitives if p.op == "bitmap")
    if total > MAX_BITMAP_PIXELS:
        raise ValueError(f"the bitmaps together have {total} pixels, more than {MAX_BITMAP_PIXELS}")
    return primitives


Primitive = Annotated[
    DrawPixel | DrawLine | DrawRect | DrawFilledRect | DrawCircle | DrawFilledCircle | DrawText | DrawBitmap,
    Field(discriminator="op"),
]
Drawing = Annotated[
    list[Primitive],
    Field(
        min_length=1,
        max_length=MAX_DRAW,
        examples=[
            [
                {"op": "circle", "x": 28, "y": 4, "r": 3, "color": "#ff0000"},
                {"op": "rect", "x": 20, "y": 4, "w": 4, "h": 4, "color": "#0000ff"},
                {"op": "text", "x": 0, "y": 0, "text": "Hello", "color": "#00ff00", "font": "4x6"},
            ]
        ],
        description=f"at most {MAX_DRAW} primitives (op: {', '.join(DRAW_OPS)}), drawn in order on the panel's"
        f" coordinates ((0, 0) the top-left pixel); what falls off the panel is clipped; coordinates within"
        f" ±{MAX_COORD}, bitmaps together at most {MAX_BITMAP_PIXELS} pixels",
    ),
    AfterValidator(_bitmaps_fit),
]


class Draw(Options):
    """Shapes, text and bitmaps drawn on the background, in order (a later one over an earlier)."""

    kind: Literal[Kind.DRAW.value]
    draw: Drawing
    background: Color = "#000000"


# -- progress bars and charts (render/progress.py, render/chart.py) -----------------------------------------

ChartValue = Annotated[float, Field(allow_inf_nan=False, ge=-MAX_CHART_MAGNITUDE, le=MAX_CHART_MAGNITUDE)]
# In an app, a {{topic}} placeholder may stand for one of these numbers (App._live_numbers): dumped as written.
AS_WRITTEN = PlainSerializer(lambda value: value, return_type=Any)
LIVE_NUMBER = " (in an app, also a {{topic}} placeholder alone: live data)"
ProgressColor = Annotated[Color, Field(description="the bar's filled part (AWTRIX's default: green)")]
ProgressBackground = Annotated[Color, Field(description="the rest of the bar (AWTRIX's default: white)")]


class ChartData(BaseModel):
    """A bar or line chart of numbers, scaled to the rows it has: the value at `min` on the bottom row's
    edge, `max` at the top (the values outside are drawn at the edge)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"values": [1, 5, 3, 8]},
                {"values": [20.5, 21, 22.25, 21.5], "style": "line", "min": 15, "max": 25, "color": "orange"},
            ]
        },
    )

    values: list[Annotated[ChartValue, AS_WRITTEN]] = Field(
        min_length=1,
        max_length=MAX_CHART_VALUES,
        examples=[[1, 5, 3, 8]],
        description="the numbers, left to right, finite: at most one per column of the chart (the panel's width,"
        f" less an icon's); more fail the render with the reason{LIVE_NUMBER}",
    )
    style: Literal["bar", "line"] = Field(
        "bar",
        description="bar: a bar per value, 1 px apart while they fit (AWTRIX's bar); line: the values' points"
        " joined by 1-px lines (AWTRIX's line)",
    )
    min: ChartValue | None = Field(
        None, description="the value at the bottom; default (autoscale): the least of the values and the baseline"
    )
    max: ChartValue | None = Field(
        None, description="the value at the top; default (autoscale): the greatest of the values and the baseline"
    )
    color: Color = Field("#ffffff", description="the bars or the line")
    bar_background: Color | None = Field(
        None, description="a bar chart: each bar's column in this colour behind it, all the way up (AWTRIX's barBC)"
    )
    baseline: ChartValue | None = Field(
        None,
        description="a line across the chart at this value, behind it; bars rise from it or hang from it"
        " (default: bars rise from 0, and no line)",
    )
    baseline_color: Color = "#808080"

    @field_validator("max")
    @classmethod
    def _above_min(cls, top: float | None, info: ValidationInfo) -> float | None:
        if top is not None and info.data.get("min") is not None and top <= info.data["min"]:
            raise PydanticCustomError(
                "chart_range",
                "must be more than min ({min}), got {max}",
                {"min": f"{info.data['min']:g}", "max": f"{top:g}"},
            )
        return top

    @field_validator("bar_background")
    @classmethod
    def _bars_only(cls, color: str | None, info: ValidationInfo) -> str | None:
        if color is not None and info.data.get("style") == "line":
            raise PydanticCustomError("chart_bars", "must be left out of a line chart: it has no bars")
        return color


TEXT_FORMS = ("str", "parts")


def _text_form(value) -> str | None:
    """Which form a text is in, so a refusal speaks of that form only."""
    return "str" if isinstance(value, str) else "parts" if isinstance(value, list) else None


class TextPart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    color: Color


class Text(Options):
    kind: Literal[Kind.TEXT.value]
    text: Annotated[
        Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS), Tag("str")]
        | Annotated[list[TextPart], Field(min_length=1, max_length=MAX_TEXT_PARTS), Tag("parts")],
        Discriminator(
            _text_form,
            custom_error_type="text_form",
            custom_error_message="Input should be a string or a list of {text, color} parts",
        ),
    ] = Field(
        examples=["Hello", [{"text": "Hello, ", "color": "red"}, {"text": "world", "color": "#00ff00"}]],
        description="the text; or coloured parts of it, drawn one after another (then `color` is unused)",
    )
    color: Color = "#ffffff"
    background: Color = "#000000"
    font: FontName = Field(
        "auto",
        examples=["auto", "6x13", "unifont", "sans"],
        description="a built-in bitmap font (" + ", ".join(BITMAP_FONTS) + '); "auto": the largest of them whose'
        ' height fits a line (the panel, or its share of it); "sans": the one anti-aliased font (`size` applies);'
        ' "pixel": the same as "6x10"; or the name of an uploaded font. A character the font lacks is drawn from'
        " the built-ins nearest its height, then unifont (all of Unicode's first 65,536 code points); one no font"
        " has (most emoji) shows as a box. Hebrew and Arabic runs are drawn right to left, letters unjoined",
    )
    size: int | None = Field(None, ge=6, le=64, description="font size in pixels (sans only)")
    align: Literal["left", "center", "right"] = Field("center", description="each line's place across the panel")
    valign: Literal["top", "middle", "bottom"] = Field("middle", description="the lines' place up and down")
    offset_x: int = Field(0, ge=-MAX_OFFSET, le=MAX_OFFSET, description="shift the text right (negative: left), px")
    offset_y: int = Field(0, ge=-MAX_OFFSET, le=MAX_OFFSET, description="shift the text down (negative: up), px")
    outline: Color | None = Field(None, description="a 1-pixel outline of this colour around the glyphs")
    shadow: Color | None = Field(None, description="a shadow of this colour, 1 pixel down and right")
    overflow: Literal["clip", "shrink", "wrap"] = Field(
        "clip",
        description="a still text wider than the panel: clip it; shrink: the next smaller bitmap font until it"
        " fits; wrap: break it into lines that fit (at spaces where possible)",
    )
    scroll: bool | None = Field(
        None,
        description="default: scroll when a one-line text is wider than the panel and overflow is clip (a"
        " multi-line one does not); offset_x shifts a still text only",
    )
    speed: float = Field(32.0, gt=0, le=MAX_SPEED, description="scroll speed in pixels per second")
    top_text: str | None = Field(
        None,
        min_length=1,
        max_length=MAX_TEXT_CHARS,
        examples=["Bus 42"],
        description="a still line above the text (on panels under 32 rows: drawn in the top half)",
    )
    top_color: Color = "#ffffff"
    icon: str | None = Field(
        None, max_length=MAX_NAME_CHARS, pattern=ICON_PATTERN, description="an icon of the library, left of the text"
    )
    icon_mode: Literal["fixed", "scroll", "once"] = Field(
        "fixed", description="fixed: the icon stays; scroll: it moves with the text; once: it scrolls away once"
    )
    blink_ms: int | None = Field(None, ge=MIN_EFFECT_MS, le=MAX_EFFECT_MS, description="blink, on and off this long")
    fade_ms: int | None = Field(None, ge=MIN_EFFECT_MS, le=MAX_EFFECT_MS, description="fade in and out over this long")
    rainbow: bool = Field(False, description="each letter in a colour of the rainbow, moving")
    gradient: list[Color] | None = Field(
        None, min_length=2, max_length=2, examples=[["#ff0000", "#0000ff"]], description="from one colour to another"
    )
    progress: Annotated[Percent, AS_WRITTEN] | None = Field(
        None,
        examples=[40],
        description="a progress bar under the text, this many % full: the panel's bottom eighth (a row at least),"
        " from the icon's right edge to the panel's (AWTRIX's progress); the text keeps the rows above it"
        + LIVE_NUMBER,
    )
    progress_color: ProgressColor = "#00ff00"
    progress_bg: ProgressBackground = "#ffffff"
    chart: ChartData | None = Field(
        None,
        description="a bar or line chart under (behind) the text, the panel's height, right of the icon (AWTRIX's"
        " bar and line)",
    )
    draw: Drawing | None = Field(None, description="shapes, text and bitmaps drawn over the text, every frame")
    effect: Literal[EFFECTS] | None = Field(
        None,
        examples=["Plasma"],
        description="an animated background behind the text (AWTRIX's effect names); it shows wherever the text's"
        " background would",
    )
    effect_speed: float | None = Field(
        None,
        gt=0,
        le=MAX_EFFECT_SPEED,
        description="the effect's speed (AWTRIX's: higher is faster; one loop lasts 12 s / speed); default: the"
        " effect's own",
    )
    effect_palette: Literal[PALETTES] | None = Field(None, description="the effect's 16 colours; default: its own")
    effect_blend: bool | None = Field(None, description="blend between the palette's colours; default: the effect's")
    overlay: Literal[OVERLAYS] | None = Field(None, description="weather over everything the text shows")

    @model_validator(mode="after")
    def _parts_fit(self):
        if not isinstance(self.text, str) and sum(len(p.text) for p in self.text) > MAX_TEXT_CHARS:
            raise ValueError(f"text: the parts together are longer than {MAX_TEXT_CHARS} characters")
        return self

    @model_validator(mode="after")
    def _effect_settings_need_an_effect(self):
        for name in ("effect_speed", "effect_palette", "effect_blend"):
            if getattr(self, name) is not None and self.effect is None:
                raise ValueError(f"{name}: applies to an effect, and there is none")
        return self


class Media(Options):
    fit: Fit = "fit"
    data_b64: str | None = Field(None, description="the file, base64 (JSON producers); or upload it")
    blob: str | None = Field(None, pattern=r"^[0-9a-f]{64}$", description="an uploaded file (set by the API)")


class Image(Media):
    kind: Literal[Kind.IMAGE.value]


class Animation(Media):
    kind: Literal[Kind.ANIMATION.value]


class Fill(Options):
    kind: Literal[Kind.FILL.value]
    color: Color


class Clear(Options):
    kind: Literal[Kind.CLEAR.value]


class Pattern(Options):
    kind: Literal[Kind.PATTERN.value]
    pattern: Literal["bars", "gradient", "grid"] = "bars"


class Demo(Options):
    kind: Literal[Kind.DEMO.value]
    n: int = Field(10, ge=1, le=999, description="count down from n, one second a step")


def _zone(name: str | None) -> str | None:
    if name is not None:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"not a time zone: {name!r} (an IANA name, e.g. Europe/Berlin)") from None
    return name


class Clock(Options):
    """The time, HH:MM; as an app its face is drawn again each minute by the display."""

    kind: Literal[Kind.CLOCK.value]
    format: Literal["24h", "12h"] = "24h"
    timezone: Annotated[str | None, AfterValidator(_zone)] = Field(
        None, max_length=64, examples=["Europe/Berlin"], description="default: the device's time zone"
    )
    color: Color = "#ffffff"


class TimeWindow(BaseModel):
    """From `start` to `end` (local time, or the day's sunrise or sunset with an offset; an end not after the
    start is the next day's: equal is 24 h)."""

    model_config = ConfigDict(extra="forbid")

    start: WindowTime
    end: WindowTime
    days: list[Literal[DAYS]] = Field(
        default_factory=lambda: list(DAYS),
        min_length=1,
        max_length=7,
        json_schema_extra={"uniqueItems": True},
        description="the days a window starts on",
    )

    @model_validator(mode="after")
    def _each_day_once(self):
        if len(set(self.days)) != len(self.days):
            raise ValueError("days: each day once")
        return self


def _instant(value: str) -> str:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not an ISO 8601 date-time: {value!r}") from None
    return value


class Countdown(Options):
    """The time left until `to` (D days HH:MM, H:MM:SS, MM:SS; 00:00 once it has come). As an app its face is
    drawn again each second by the display; as a job, a frame a second for its duration (default 10 s)."""

    kind: Literal[Kind.COUNTDOWN.value]
    to: Annotated[str, AfterValidator(_instant)] = Field(
        max_length=40,
        examples=["2026-12-31T23:59:59", "2026-12-24T18:00:00+01:00"],
        description="ISO 8601; without an offset, the device's local time",
    )
    color: Color = "#ffffff"


class Progress(Options):
    """A progress bar: with a text, the text's still line above a bar a quarter of the panel tall at the
    bottom; without, the bar alone across the middle. An icon stands at the left, the bar from its right edge."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"kind": "progress", "progress": 40, "text": "Print"},
                {"kind": "progress", "progress": 75, "progress_color": "#0080ff", "progress_bg": "#202020"},
            ]
        }
    )

    kind: Literal[Kind.PROGRESS.value]
    progress: Annotated[Percent, AS_WRITTEN] = Field(examples=[40], description="how full the bar is, %" + LIVE_NUMBER)
    progress_color: ProgressColor = "#00ff00"
    progress_bg: ProgressBackground = "#ffffff"
    text: str | None = Field(
        None,
        min_length=1,
        max_length=MAX_TEXT_CHARS,
        examples=["Print"],
        description="a still line above the bar (a \\n starts another), in the largest built-in font that fits",
    )
    color: Color = Field("#ffffff", description="the text's")
    background: Color = "#000000"
    icon: str | None = Field(
        None, max_length=MAX_NAME_CHARS, pattern=ICON_PATTERN, description="an icon of the library, at the left"
    )


class Chart(Options, ChartData):
    """A bar or line chart filling the panel, right of an icon if it has one (AWTRIX's bar and line)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"kind": "chart", "values": [1, 5, 3, 8]},
                {"kind": "chart", "values": [3, 4, 6, 5, 7, 9, 8], "style": "line", "color": "#00ff80", "min": 0},
                {"kind": "chart", "values": [2, -1, 3, -2, 4], "baseline": 0, "color": "#ffa000", "icon": "sun"},
            ]
        }
    )

    kind: Literal[Kind.CHART.value]
    background: Color = "#000000"
    icon: str | None = Field(
        None, max_length=MAX_NAME_CHARS, pattern=ICON_PATTERN, description="an icon of the library, at the left"
    )


# -- layouts: rows, columns, layers, padding, boxes and marquees of leaves (render/layout.py) ----------------

MAX_LAYOUT_DEPTH = 8  # levels of elements: a job's children are the first, their children the second...
MAX_LAYOUT_CHILDREN = 16  # children of one row, column, stack or layout
MAX_LAYOUT_ELEMENTS = 64  # elements in one layout, containers and leaves together
LAYOUT_KINDS = ("row", "column", "stack", "padding", "box", "marquee", "text", "icon", "progress", "chart", "draw")
Px = Annotated[int, Field(ge=1, le=MAX_COORD, description="px; default: what the element is given")]
Pad = Annotated[int, Field(ge=0, le=MAX_COORD)]


class _Element(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Line(_Element):
    children: list["NestedElement"] = Field(min_length=1, max_length=MAX_LAYOUT_CHILDREN)
    main_align: Literal["start", "center", "end", "space_between", "space_evenly"] = Field(
        "start", description="where the children sit along the line when it has room to spare"
    )
    cross_align: Literal["start", "center", "end"] = Field("start", description="each child's place across the line")
    expanded: bool = Field(False, description="take all the length it is given (else: the children's)")


class LayoutRow(_Line):
    """Children left to right (Pixlet's Row)."""

    kind: Literal["row"]


class LayoutColumn(_Line):
    """Children top to bottom (Pixlet's Column)."""

    kind: Literal["column"]


class LayoutStack(_Element):
    """Children as layers from the top-left corner, the first at the bottom (Pixlet's Stack)."""

    kind: Literal["stack"]
    children: list["NestedElement"] = Field(min_length=1, max_length=MAX_LAYOUT_CHILDREN)


class LayoutPadding(_Element):
    """Space around a child (Pixlet's Padding): `pad` px on every side, or [left, top, right, bottom]."""

    kind: Literal["padding"]
    child: "NestedElement"
    pad: Pad | Annotated[list[Pad], Field(min_length=4, max_length=4)] = 1


class LayoutBox(_Element):
    """A rectangle, filled and/or outlined, its child centred in it (Pixlet's Box)."""

    kind: Literal["box"]
    child: "NestedElement | None" = None
    width: Px | None = None
    height: Px | None = None
    padding: Pad = Field(0, description="px kept free inside the edge, around the child")
    color: Color | None = Field(None, description="the fill (default: none, what is behind shows)")
    outline: Color | None = Field(None, description="a 1-px border of this colour, over the child")


class LayoutMarquee(_Element):
    """A window its child scrolls through when it does not fit (Pixlet's Marquee): from where it would
    stand still out of the start, then back in from the far edge; a child that fits stands still."""

    kind: Literal["marquee"]
    child: "NestedElement"
    width: Px | None = None
    height: Px | None = None
    scroll_direction: Literal["horizontal", "vertical"] = "horizontal"
    speed: float = Field(32.0, ge=1, le=MAX_SPEED, description="px per second")


class LayoutText(_Element):
    """A text as wide as its letters (a \\n starts another line, centred under it)."""

    kind: Literal["text"]
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    color: Color = "#ffffff"
    font: FontName = Field(
        "auto",
        description="any font a text job takes; auto: the largest built-in as tall as the height it is given",
    )
    size: int | None = Field(None, ge=6, le=64, description="font size in pixels (sans only)")


class LayoutIcon(_Element):
    """An icon of the library, scaled by a whole factor to fit `height` (its first frame: a layout is
    still but for its marquees)."""

    kind: Literal["icon"]
    icon: str = Field(max_length=MAX_NAME_CHARS, pattern=ICON_PATTERN)
    height: Px | None = None


class LayoutProgress(_Element):
    """A progress bar (the progress kind's), default a quarter of the height it is given."""

    kind: Literal["progress"]
    progress: Percent
    progress_color: ProgressColor = "#00ff00"
    progress_bg: ProgressBackground = "#ffffff"
    width: Px | None = None
    height: Px | None = None


class LayoutChart(_Element, ChartData):
    """A bar or line chart (the chart kind's): at most one value a column of its width."""

    kind: Literal["chart"]
    width: Px | None = None
    height: Px | None = None


class LayoutDraw(_Element):
    """A drawing (the draw kind's) on its own coordinates, (0, 0) its top-left pixel, clipped at its edges."""

    kind: Literal["draw"]
    draw: Drawing
    width: Px | None = None
    height: Px | None = None


Element = Annotated[
    LayoutRow
    | LayoutColumn
    | LayoutStack
    | LayoutPadding
    | LayoutBox
    | LayoutMarquee
    | LayoutText
    | LayoutIcon
    | LayoutProgress
    | LayoutChart
    | LayoutDraw,
    Field(discriminator="kind"),
]
# An element within a container: validated as Element, but in the schema an object naming its kind. A
# recursive union inlined level by level grows exponentially (schemathesis did not finish generating one).
NestedElement = Annotated[
    Element,
    WithJsonSchema(
        {
            "type": "object",
            "required": ["kind"],
            "properties": {"kind": {"enum": list(LAYOUT_KINDS)}},
            "description": "an element as the layout's children are, with its kind's fields",
        }
    ),
]
for _container in (LayoutRow, LayoutColumn, LayoutStack, LayoutPadding, LayoutBox, LayoutMarquee):
    _container.model_rebuild()


def _nested(value, path: str):
    """An element's children with their paths (the JSON as sent: this runs before the recursive validation)."""
    if not isinstance(value, dict):
        return []
    children = value.get("children")
    out = [(c, f"{path}children.{i}.") for i, c in enumerate(children)] if isinstance(children, list) else []
    return out + ([(value["child"], f"{path}child.")] if "child" in value else [])


WEATHER_LAYOUT = {
    "kind": "layout",
    "children": [
        {
            "kind": "column",
            "children": [
                {
                    "kind": "row",
                    "cross_align": "center",
                    "children": [
                        {"kind": "icon", "icon": "sun", "height": 16},
                        {"kind": "padding", "pad": [2, 0, 0, 0], "child": {"kind": "text", "text": "21°C"}},
                    ],
                },
                {"kind": "chart", "values": [14, 15, 17, 19, 21, 22, 21, 19], "style": "line", "color": "orange"},
            ],
        }
    ],
}
ENERGY_LAYOUT = {
    "kind": "layout",
    "children": [
        {
            "kind": "column",
            "main_align": "space_evenly",
            "expanded": True,
            "children": [
                {"kind": "text", "text": "Solar", "color": "yellow", "font": "5x7"},
                {"kind": "progress", "progress": 64, "height": 4, "progress_bg": "#202020"},
                {"kind": "marquee", "child": {"kind": "text", "text": "3.2 kW now, 14 kWh today", "font": "5x7"}},
            ],
        }
    ],
}


class Layout(Options):
    """Rows, columns, layers, padding, boxes and marquees of texts, icons, progress bars, charts and drawings,
    sizes in pixels (Pixlet's widgets as JSON); the children are layers on the background. A still, but for
    marquees, which scroll while the rest stays."""

    model_config = ConfigDict(json_schema_extra={"examples": [WEATHER_LAYOUT, ENERGY_LAYOUT]})

    kind: Literal[Kind.LAYOUT.value]
    children: list[Element] = Field(
        min_length=1,
        max_length=MAX_LAYOUT_CHILDREN,
        description=f"elements (kind: {', '.join(LAYOUT_KINDS)}) nested at most {MAX_LAYOUT_DEPTH} levels"
        f" deep, at most {MAX_LAYOUT_CHILDREN} children to a container and {MAX_LAYOUT_ELEMENTS} elements in all",
    )
    background: Color = "#000000"

    @model_validator(mode="before")
    @classmethod
    def _bounded(cls, data):
        """Depth and count refused on the JSON as sent, before the recursive validation walks it."""
        if not isinstance(data, dict) or not isinstance(data.get("children"), list):
            return data
        level, count = [(c, f"children.{i}.") for i, c in enumerate(data["children"])], 0
        for depth in range(1, MAX_LAYOUT_DEPTH + 2):
            count += len(level)
            if count > MAX_LAYOUT_ELEMENTS:
                raise PydanticCustomError(
                    "layout_size", "more than {n} elements in one layout", {"n": MAX_LAYOUT_ELEMENTS}
                )
            level = [nested for value, path in level for nested in _nested(value, path)]
            if level and depth == MAX_LAYOUT_DEPTH:
                raise PydanticCustomError(
                    "layout_depth",
                    "{path}: nested more than {n} levels deep",
                    {"path": level[0][1].rstrip("."), "n": MAX_LAYOUT_DEPTH},
                )
            if not level:
                break
        return data

    def elements(self):
        """(path, element) of each element, depth first, its path as a refusal names it."""
        todo = [(f"children.{i}", c) for i, c in reversed(list(enumerate(self.children)))]
        while todo:
            path, element = todo.pop()
            yield path, element
            nested = [(f"{path}.children.{i}", c) for i, c in enumerate(getattr(element, "children", ()))]
            if getattr(element, "child", None) is not None:
                nested.append((f"{path}.child", element.child))
            todo += reversed(nested)


class NightWindow(TimeWindow):
    brightness: Percent = Field(description="0 turns the panel off")
    fade_min: Annotated[int, BeforeValidator(_json_integer)] = Field(
        0, ge=0, le=MAX_FADE_MIN, description="minutes to reach `brightness` from the base brightness"
    )


class NightMode(BaseModel):
    """The panel's brightness schedule; no windows: the base brightness all day."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"windows": [{"start": "22:30", "end": "07:00", "brightness": 0, "fade_min": 15}]}]
        },
    )

    windows: list[NightWindow] = Field(default_factory=list, max_length=MAX_WINDOWS)
    # strict: FastAPI validates this body in lax mode, where 0 and "no" would pass for false
    enabled: StrictBool = Field(True, description="false: off, the windows kept for turning it on again")


MAX_TRANSITION_MS = 5000
TransitionName = Literal[transitions.NAMES]
TRANSITION_DOC = (
    "how it replaces what the panel showed: cut, fade, dim, slide-up/down/left/right, wipe-up/down/left/right,"
    " zoom, rotate, pixelate, curtain, ripple, blink, reload, or random (another each time)"
)


class Transition(BaseModel):
    """How whatever comes next on the panel (an app of the rotation, a job) replaces what it showed, unless an
    app says otherwise. Its time is part of the time of what comes (an app's dwell, a job's duration)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"transition": "fade", "transition_ms": 400}]}
    )

    transition: TransitionName = Field(transitions.CUT, description=TRANSITION_DOC)
    # an integer as JSON Schema means it (400 or 400.0), never "400" or true: FastAPI reads this body laxly
    transition_ms: Annotated[int, BeforeValidator(_json_integer)] = Field(
        transitions.DEFAULT_MS,
        ge=0,
        le=MAX_TRANSITION_MS,
        description="how long it takes; at most half of what it leads to plays",
    )


JobSpec = Annotated[
    Text | Image | Animation | Fill | Clear | Pattern | Demo | Clock | Countdown | Draw | Progress | Chart | Layout,
    Field(discriminator="kind"),
]
_adapter = TypeAdapter(JobSpec)
MAX_DWELL_S = 3600
MAX_POSITION = 9999
# How and when a job plays; an app's dwell and place in the rotation say that for it.
JOB_ONLY = ("priority", "duration_s", "repeat", "name", "at", "in_s", "wakeup")
# A 2x2 GIF blinking red and blue: the example of an animation app.
RED_BLUE_GIF = (
    "R0lGODlhAgACAIEAAP8AAAAAAAAAAAAAACH/C05FVFNDQVBFMi4wAwEAAAAh+QQAMgAAACwAAAAAAgACAAAIBgABCAQQEAAh+QQBMgABACwAA"
    "AAAAgACAIEAAP8AAAAAAAAAAAAIBgABCAQQEAA7"
)


class App(BaseModel):
    """A named piece of content the rotation shows, kept until deleted."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"content": {"kind": "text", "text": "Good morning", "color": "orange"}, "dwell_s": 8},
                {"content": {"kind": "animation", "data_b64": RED_BLUE_GIF}, "position": 0},
                {
                    "content": {"kind": "text", "text": "Bus in 4 min"},
                    "schedule": [{"start": "07:00", "end": "08:30", "days": ["mon", "tue", "wed", "thu", "fri"]}],
                    "lifetime_s": 300,
                },
                {"content": {"kind": "text", "text": "{{home/outside/temperature|round:1|default:?}} °C"}},
            ]
        },
    )

    content: JobSpec = Field(
        description="what it shows: a job's fields, without priority, duration_s, repeat or name; in a text,"
        " `{{topic}}` or `{{topic|filter|...}}` shows that MQTT topic's last value (filters: json:$.path,"
        " round:N, upper, lower, default:TEXT); a progress or a chart's value may be one placeholder alone,"
        " its value read as a number"
    )
    dwell_s: float | None = Field(
        None,
        gt=0,
        le=MAX_DWELL_S,
        description="how long it shows; default: a still for display.default_duration_s, other content once through",
    )
    enabled: bool = True
    position: int | None = Field(None, ge=0, le=MAX_POSITION, description="its place, ascending; default: last")
    schedule: list[TimeWindow] = Field(
        default_factory=list,
        max_length=MAX_WINDOWS,
        description="it shows only while one of these windows is open (device's local time); none: always",
    )
    lifetime_s: float | None = Field(
        None, gt=0, le=MAX_LIFETIME_S, description="it deletes itself when not put again for this long"
    )
    lifetime_mode: Literal["delete", "mark"] = Field(
        "delete", description="when its lifetime ends: delete it, or keep showing it inside a red frame (stale)"
    )
    now: bool = Field(False, description="an update replaces the app on screen at once, not at its dwell's end")
    transition: TransitionName | None = Field(None, description=f"{TRANSITION_DOC}; default: the transition setting")
    transition_ms: int | None = Field(
        None, ge=0, le=MAX_TRANSITION_MS, description="its transition's time; default: the transition setting's"
    )

    @model_validator(mode="after")
    def _rotates(self):
        if given := [f for f in JOB_ONLY if f in self.content.model_fields_set]:
            field = given[0]
            raise ValueError(f"content.{field}: an app has no {field} (its dwell_s and position say how it rotates)")
        return self

    @field_validator("content", mode="wrap")
    @classmethod
    def _live_numbers(cls, content, handler):
        """A progress or chart value written as a placeholder (live.numbers) is kept as written, the rest of
        the content validated with 0 in its place; the worker fills it with a number. A job takes numbers only."""
        written = live.numbers(content) if isinstance(content, dict) else {}
        if not written:
            return handler(content)
        spec = handler(content | live.replaced(content, dict.fromkeys(written, 0)))
        for field, text in written.items():
            spec = _placed(spec, field.split("."), text)
        return spec

    @model_validator(mode="after")
    def _placeholders(self):
        """Its {{topic}} placeholders (live.py), shown with the topics' values; a job's text is literal.
        A refusal names the field it is in, as a field's own validation does."""
        try:
            live.check(self.content.model_dump(include={"text", "top_text", "progress", "values", "chart"}))
        except live.Invalid as e:
            # under its kind, the union's tag, as pydantic places a field of the content's
            loc = ("content", self.content.kind, *(int(p) if p.isdigit() else p for p in e.field.split(".") if p))
            error = PydanticCustomError("placeholder", "{reason}", {"reason": e.reason})
            raise ValidationError.from_exception_data("App", [{"type": error, "loc": loc, "input": None}]) from None
        return self


def _placed(node, path: list[str], value):
    """`node` (a model, or a list) with `value` at `path` (chart.values.3), copied along it."""
    step, *rest = path
    if isinstance(node, list):
        at = int(step)
        return [*node[:at], _placed(node[at], rest, value) if rest else value, *node[at + 1 :]]
    return node.model_copy(update={step: _placed(getattr(node, step), rest, value) if rest else value})


class SpecError(errors.Invalid):
    """A job spec that does not validate; the message is for people."""

    def __init__(self, errors: list[dict]):
        self.errors = errors
        super().__init__("; ".join(describe(e) for e in errors))


def describe(error: dict) -> str:
    loc = tuple(error.get("loc", ()))
    # The union's tag, not a field (a text job's `text` is one): at the top, or under an app's content.
    loc = tuple(p for i, p in enumerate(loc) if not (p in KINDS and loc[i - 1 : i] in ((), ("content",))))
    loc = tuple(p for p in loc if p not in TEXT_FORMS)  # a text's form: a tag, not a field
    # A drawing's primitive's op: a tag too (draw.3.w, not draw.3.rect.w).
    # A layout's element's kind: a tag too (children.0.child.text, not children.0.padding.child.text.text).
    loc = tuple(p for i, p in enumerate(loc) if not (p in LAYOUT_KINDS and _element_at(loc[:i])))
    loc = tuple(p for i, p in enumerate(loc) if not (p in DRAW_OPS and loc[i - 2 : i - 1] == ("draw",)))
    msg = error["msg"]
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):  # JobSpec's kind, or a primitive's op
        ctx = error.get("ctx", {})
        field, names = ("op", DRAW_OPS) if ctx.get("discriminator") == "'op'" else ("kind", KINDS)
        names = LAYOUT_KINDS if field == "kind" and _element_at(loc) else names
        loc, tag = (*loc, field), ctx.get("tag")
        msg = f"must be one of {', '.join(names[:-1])} or {names[-1]}" + (f", got {_shown(tag)}" if tag else "")
    where = ".".join(str(p) for p in loc)
    if not where:
        return msg
    # A phrase starting "must" reads as a sentence with its field: "brightness must be 0..100, got 101".
    return f"{where} {msg}" if msg.startswith("must ") else f"{where}: {msg}"


def _element_at(loc: tuple) -> bool:
    """Whether a location is a layout's element: a child, or one of a list of children."""
    return loc[-1:] == ("child",) or (len(loc) >= 2 and isinstance(loc[-1], int) and loc[-2] == "children")


def parse(
    data: dict, strict: bool = False
) -> Text | Image | Animation | Fill | Clear | Pattern | Demo | Clock | Countdown | Draw | Progress | Chart | Layout:
    """strict: types as JSON has them (no `0` for false, no "3" for 3); form fields and query strings are lax."""
    return _validated(_adapter.validate_python, data, strict)


def _validated(validate, data, strict: bool):
    try:
        return validate(data, strict=strict)
    except ValidationError as e:
        raise SpecError(e.errors(include_url=False, include_input=False)) from None


def content(spec: Options) -> dict:
    """The fields that decide the pixels (what the render cache is keyed on)."""
    return spec.model_dump(exclude={*JOB_ONLY, "data_b64", "blob"})


def parse_app(data) -> App:
    """An app's body, typed as JSON has it."""
    if not isinstance(data, dict):
        raise errors.Invalid("body must be a JSON object")
    return _validated(App.model_validate, data, strict=True)
