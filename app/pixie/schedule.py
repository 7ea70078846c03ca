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
"""

import os
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
UTC = ZoneInfo("UTC")


@dataclass(frozen=True)
class Window:
    start: time
    end: time
    brightness: int | None = None
    days: tuple[str, ...] = DAYS
    fade_min: int = 0

    @classmethod
    def parse(cls, raw: dict) -> "Window":
        """From the stored (and API) form: "HH:MM" times, day names."""
        return cls(
            start=time.fromisoformat(raw["start"]),
            end=time.fromisoformat(raw["end"]),
            brightness=raw.get("brightness"),
            days=tuple(raw.get("days") or DAYS),
            fade_min=int(raw.get("fade_min", 0)),
        )

    def occurrences(self, now: datetime, days_ahead: int = 1) -> list[tuple[datetime, datetime]]:
        """(opens, closes) in UTC of the runs starting from yesterday to `days_ahead` (`now`'s zone).

        UTC, because Python compares and subtracts two datetimes of one zone by their wall clocks."""
        zone = now.tzinfo
        today = now.date()
        runs = []
        for offset in range(-1, days_ahead + 1):
            day = today + timedelta(days=offset)
            if DAYS[day.weekday()] not in self.days:
                continue
            end_day = day if self.end > self.start else day + timedelta(days=1)
            runs.append((_at(day, self.start, zone), _at(end_day, self.end, zone)))
        return runs


def parse(raw: list[dict]) -> list[Window]:
    """Windows from their stored form (store.brightness_settings())."""
    return [Window.parse(w) for w in raw]


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
    """The next moment a window opens or closes after `now`, in `now`'s zone."""
    instant = now.astimezone(UTC)
    moments = [m for w in windows for run in w.occurrences(now, days_ahead=7) for m in run if m > instant]
    return min(moments).astimezone(now.tzinfo) if moments else None


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


def now_brightness(settings: tuple, default_base: int, now: datetime | None = None) -> int:
    """`effective` for store.brightness_settings(), now in the device's zone unless `now` is given."""
    base, windows, manual = settings
    base = default_base if base is None else base
    return effective(parse(windows), now or local_now(), base, tuple(manual) if manual else None)


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
