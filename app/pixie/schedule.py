"""Time windows, as pure functions of an explicit time: night mode's
brightness by the time of day, and the hours an app shows in.

A window is local wall-clock time on some days of the week: from `start`
to `end` the panel shows at `brightness` (0: off), reached over the first
`fade_min` minutes (an app's windows have no brightness: it shows in
them). A window whose end is not after its start crosses midnight and
belongs to the day it starts on (Friday 22:00-07:00 ends on Saturday
morning). Times are the device's time zone's, so a window keeps
its wall-clock times across a DST change: a time inside the spring-forward
gap comes that much after the jump (02:30 is 03:30 that night), one in the
autumn's repeated hour is its first occurrence.

What the panel shows at a moment (`effective`): a manual brightness set
while a window is open holds until that window ends; otherwise the open
window's brightness; otherwise the base brightness, which a manual change
outside any window sets.

A start or end may instead be the day's sunrise or sunset, moved by an
offset (`sunset-30m`, `sunrise+1h15m`), at the device's location (config
[location]): each day's run has that day's sun times. Its end is compared
with its start on the start's day as above (`sunset`-`sunrise` ends the next
morning). Where the sun does not set (or rise) on a day, as in a polar day or
night, a window starting or ending at that event does not open that day;
without a location it never opens (the API refuses it then).
"""

import functools
import os
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

import astral.sun

from . import errors

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
UTC = ZoneInfo("UTC")
MAX_SUN_OFFSET = timedelta(hours=12)
# A window's start or end: HH:MM[:SS], or sunrise/sunset with an offset of hours, minutes, seconds.
BOUND_PATTERN = (
    r"^(?:(?P<wall>([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?)"
    r"|(?P<sun>sunrise|sunset)((?P<sign>[+-])(?=[0-9])((?P<h>[0-9]{1,2})h)?((?P<m>[0-9]{1,4})m)?((?P<s>[0-9]{1,5})s)?)?)$"
)
BOUND_FORMS = "HH:MM[:SS], or sunrise or sunset with an offset such as sunset-30m or sunrise+1h15m"
_BOUND = re.compile(BOUND_PATTERN)
Place = tuple[float, float]  # the device's latitude and longitude, degrees north and east


@dataclass(frozen=True)
class Bound:
    """A window's start or end: a wall-clock time, or the day's sunrise or sunset moved by `offset`."""

    wall: time | None = None
    sun: str | None = None
    offset: timedelta = timedelta(0)

    @classmethod
    def parse(cls, text: str) -> "Bound":
        """ValueError says what is wrong, for people."""
        match = _BOUND.fullmatch(text)
        if match is None:
            raise ValueError(f"{text!r} is not {BOUND_FORMS}")
        if match["wall"]:
            return cls(wall=time.fromisoformat(match["wall"]))
        offset = timedelta(hours=int(match["h"] or 0), minutes=int(match["m"] or 0), seconds=int(match["s"] or 0))
        if offset > MAX_SUN_OFFSET:
            raise ValueError(f"{text!r}: the offset is at most 12h")
        return cls(sun=match["sun"], offset=-offset if match["sign"] == "-" else offset)

    def on(self, day: date, zone: tzinfo, place: Place | None) -> tuple[datetime, datetime] | None:
        """(local wall-clock time, UTC) of this bound on `day`; None where the sun gives none."""
        if self.wall is not None:
            return datetime.combine(day, self.wall), _at(day, self.wall, zone)
        event = _sun(self.sun, day, place, zone) if place is not None else None
        if event is None:
            return None
        instant = event + self.offset
        return instant.astimezone(zone).replace(tzinfo=None), instant


@functools.lru_cache(maxsize=2048)
def _sun(event: str, day: date, place: Place, zone: tzinfo) -> datetime | None:
    """`day`'s sunrise or sunset at `place` (the day in `zone`), in UTC; None if the sun does not rise or set."""
    try:
        at = (astral.sun.sunrise if event == "sunrise" else astral.sun.sunset)(astral.Observer(*place), day, zone)
    except ValueError:  # astral: the sun is always above (or below) the horizon on this day
        return None
    return at.astimezone(UTC)


@dataclass(frozen=True)
class Window:
    start: Bound
    end: Bound
    brightness: int | None = None
    days: tuple[str, ...] = DAYS
    fade_min: int = 0
    place: Place | None = None  # where the sun's times are taken

    @classmethod
    def parse(cls, raw: dict, place: Place | None = None) -> "Window":
        """From the stored (and API) form: "HH:MM" times or sunrise/sunset with offsets, day names."""
        return cls(
            start=Bound.parse(raw["start"]),
            end=Bound.parse(raw["end"]),
            brightness=raw.get("brightness"),
            days=tuple(raw.get("days") or DAYS),
            fade_min=int(raw.get("fade_min", 0)),
            place=place,
        )

    def occurrences(self, now: datetime, days_ahead: int = 1) -> list[tuple[datetime, datetime]]:
        """(opens, closes) in UTC of the runs starting from yesterday to `days_ahead` (`now`'s zone).

        UTC, because Python compares and subtracts two datetimes of one zone by their wall clocks."""
        runs = []
        for offset in range(-1, days_ahead + 1):
            day = now.date() + timedelta(days=offset)
            if DAYS[day.weekday()] in self.days and (run := self.run(day, now.tzinfo)) is not None:
                runs.append(run)
        return runs

    def run(self, day: date, zone: tzinfo) -> tuple[datetime, datetime] | None:
        """(opens, closes) in UTC of the run starting on `day`; None if the sun gives a bound none."""
        opens = self.start.on(day, zone, self.place)
        closes = self.end.on(day, zone, self.place) if opens else None
        if closes and closes[0] <= opens[0]:  # not after the start on the start's day: the next day's
            closes = self.end.on(day + timedelta(days=1), zone, self.place)
        return (opens[1], closes[1]) if closes else None


def parse(raw: list[dict], place: Place | None = None) -> list[Window]:
    """Windows from their stored form (store.brightness_settings()), sun times taken at `place`."""
    return [Window.parse(w, place) for w in raw]


def check_place(raw: list[dict], place: Place | None, field: str) -> None:
    """A window at sunrise or sunset needs the device's location: errors.Invalid naming the field without one."""
    if place is not None:
        return
    for i, window in enumerate(raw):
        for key in ("start", "end"):
            if Bound.parse(window[key]).sun:
                raise errors.Invalid(
                    f"{field}.{i}.{key}: {window[key]} needs the device's location, which is not set "
                    "([location] latitude and longitude; pixie_app_location_latitude/longitude)"
                )


def _at(day, wall: time, zone: tzinfo) -> datetime:
    """`wall` on `day` in `zone`, as UTC (a time in a gap maps as PEP 495's fold=0 says)."""
    return datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)


def open_run(windows: list[Window], now: datetime) -> tuple[Window, datetime, datetime] | None:
    """The window open at `now` (the latest listed wins an overlap), with its run's bounds."""
    found = None
    instant = now.astimezone(UTC)
    for window in windows:
        for opens, closes in window.occurrences(now):
            if opens <= instant < closes:
                found = (window, opens, closes)
    return found


def is_open(windows: list[Window], now: datetime) -> bool:
    """An app's schedule: no windows is always."""
    return not windows or open_run(windows, now) is not None


def next_boundary(windows: list[Window], now: datetime) -> datetime | None:
    """The next moment a window opens or closes after `now`, in `now`'s zone: within a week, else (a
    sun window a polar day or night keeps shut) within a year; None if none."""
    instant = now.astimezone(UTC)
    for days_ahead in (7, 366):
        moments = [m for w in windows for run in w.occurrences(now, days_ahead) for m in run if m > instant]
        if moments:
            return min(moments).astimezone(now.tzinfo)
    return None


def effective(windows: list[Window], now: datetime, base: int, manual: tuple[int, float] | None) -> int:
    """The brightness the panel shows at `now`; `manual` is (value, set at epoch) of a change made in a window."""
    run = open_run(windows, now)
    if run is None:
        return base
    window, opens, _ = run
    if manual is not None and manual[1] >= opens.timestamp():
        return manual[0]
    if window.fade_min > 0:
        done = (now.timestamp() - opens.timestamp()) / (window.fade_min * 60)
        if done < 1:
            return round(base + (window.brightness - base) * done)
    return window.brightness


def now_brightness(settings: tuple, default_base: int, place: Place | None, now: datetime | None = None) -> int:
    """`effective` for store.brightness_settings(), now in the device's zone unless `now` is given."""
    base, windows, manual = settings
    base = default_base if base is None else base
    return effective(parse(windows, place), now or local_now(), base, tuple(manual) if manual else None)


def local_now() -> datetime:
    return datetime.now(local_zone())


def local_zone() -> tzinfo:
    """The device's time zone: $TZ as the C library reads it, else /etc/localtime, else UTC."""
    name = os.environ.get("TZ", "").removeprefix(":")
    try:
        if name:
            return ZoneInfo(name)
        with open("/etc/localtime", "rb") as f:
            return ZoneInfo.from_file(f, key=zone_name())
    except (OSError, ValueError):
        return UTC


def zone_name() -> str:
    """The zone's name for people (Europe/Berlin), as /etc/localtime's link or $TZ says."""
    name = os.environ.get("TZ", "").removeprefix(":")
    if name:
        return name
    target = os.path.realpath("/etc/localtime")
    return target.split("zoneinfo/", 1)[1] if "zoneinfo/" in target else "UTC"
