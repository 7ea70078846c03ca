"""Faces drawn from the time: the clock and the countdown (also the display's idle screen)."""

import math
import time
from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from PIL import Image

from . import fonts

IDLE_CLOCK = SimpleNamespace(format="24h", timezone=None, color="#5a3c14")  # dim: a display at rest does not glare
CLOCK_FORMATS = {"24h": "%H:%M", "12h": "%I:%M"}


def clock(width: int, height: int, now: float | None = None) -> bytes:
    """The idle screen."""
    return clock_face(IDLE_CLOCK, width, height, time.time() if now is None else now)


def clock_face(spec, width: int, height: int, now: float) -> bytes:
    """HH:MM at `now` in the clock's time zone (the device's, if it names none)."""
    zone = ZoneInfo(spec.timezone) if spec.timezone else None
    moment = datetime.fromtimestamp(now, zone) if zone else datetime.fromtimestamp(now).astimezone()
    stamp = moment.strftime(CLOCK_FORMATS[spec.format]).removeprefix("0" if spec.format == "12h" else "")
    return _centered(stamp, spec.color, width, height)


COUNTDOWN_JOB_S = 10  # a countdown job without a duration_s


def countdown_face(spec, width: int, height: int, now: float) -> bytes:
    """The time left at `now` until spec.to, in whole seconds rounded up (00:00 once it has come)."""
    left = max(0, math.ceil(datetime.fromisoformat(spec.to).timestamp() - now))  # naive: the device's local time
    days, rest = divmod(left, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        stamp = f"{days}d {hours:02}:{minutes:02}"
    else:
        stamp = f"{hours}:{minutes:02}:{seconds:02}" if hours else f"{minutes:02}:{seconds:02}"
    return _centered(stamp, spec.color, width, height)


def face(spec, width: int, height: int, now: float) -> tuple[bytes, float | None]:
    """A face drawn from the time (vocabulary.FACES) at `now`, and when it changes next (None: never)."""
    if spec.kind == "clock":
        return clock_face(spec, width, height, now), (now // 60 + 1) * 60
    frame = countdown_face(spec, width, height, now)
    return frame, (math.floor(now) + 1 if now < datetime.fromisoformat(spec.to).timestamp() else None)


def _centered(stamp: str, color: str, width: int, height: int) -> bytes:
    """In the largest bitmap font it fits (crisp digits), as a text job with overflow "shrink" draws it."""
    image = Image.new("RGB", (width, height))
    parts = [(stamp, color)]
    face = fonts.fit([parts], width, height)
    fonts.draw_lines(image, [fonts.runs(parts, face)], face, (0, 0, width, height))
    return image.tobytes()
