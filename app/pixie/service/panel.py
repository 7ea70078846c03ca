"""The panel: brightness and night mode, power, indicators, what it shows and its state in one value."""

import json
import math
import time
from datetime import datetime

from pydantic import BaseModel, Field

from .. import apps, errors, schedule, store
from .. import spec as specs
from ..render import transitions
from ..spec import BRIGHTNESS
from .core import Area, Core, available
from .system import System, installed_version

INDICATORS = (1, 2, 3)  # top right, right, bottom right


class NightModeState(BaseModel):
    timezone: str = Field(description="the device's time zone, which the windows' times are in")
    windows: list[specs.NightWindow]
    enabled: bool = Field(description="false: night mode is off, its windows kept (none applies)")
    brightness: int = Field(description="the brightness the panel has now")
    window_open: bool = Field(description="a window decides the brightness now")
    next_change: datetime | None = Field(None, description="when a window opens or closes next")


class TransitionState(specs.Transition):
    names: list[str] = Field(list(transitions.NAMES), description="the transitions there are")


class PanelState(BaseModel):
    """What the panel does now, in one value (MQTT's retained `state`)."""

    power: bool = Field(description="false: the panel is dark (jobs and apps play on, unseen)")
    brightness: int = Field(description="the brightness it has when on")
    now_playing: str = Field(description="a job's kind and name, the app's name, or idle")
    job: str | None = Field(None, description="the job on the panel")
    app: str | None = Field(None, description="the rotation's app on the panel (or under the job)")
    pinned: str | None = None
    apps: list[str] = Field(description="the apps, in rotation order")
    progress: dict[str, int] = Field(
        description="each progress app's progress (%), by name (but those a {{topic}} placeholder fills)"
    )
    waiting: int = Field(description="accepted jobs not yet on the panel (timed ones too)")
    health: str = Field(description="ok, or what is wrong")
    night_mode: bool = Field(description="night mode is on (its windows apply)")
    text: str | None = Field(None, description="the last text job's text, since the volatile Redis started")
    version: str = Field(description="the installed Pixie's version")


class Panel(Area):
    def __init__(self, core: Core, system: System):
        """`system`: the health its state reports."""
        super().__init__(core)
        self.system = system

    @available
    def brightness(self) -> int:
        """What the panel shows now: night mode's window, a manual change, or the base brightness."""
        settings = store.brightness_settings(self.r)
        return schedule.now_brightness(settings, self.config.panel.brightness, self.config.location.place)

    @available
    def set_brightness(self, value: int) -> int:
        """Outside night mode's windows: the new base. Inside one: held until that window closes."""
        if not BRIGHTNESS[0] <= value <= BRIGHTNESS[1]:
            raise errors.Invalid(f"brightness must be {BRIGHTNESS[0]}..{BRIGHTNESS[1]}, got {value}")
        _, windows, _ = store.brightness_settings(self.r)
        now = schedule.local_now()
        run = schedule.open_run(schedule.parse(windows, self.config.location.place), now)
        if run is None:
            self.r.set(store.BRIGHTNESS, value)
        else:
            closes = run[2].timestamp()
            self.r.set(store.MANUAL_BRIGHTNESS, json.dumps([value, now.timestamp()]), exat=int(closes) + 1)
        return self._tell_display()

    @available
    def night_mode(self) -> NightModeState:
        settings = store.brightness_settings(self.r)
        place = self.config.location.place
        windows = schedule.parse(settings[1], place)
        now = schedule.local_now()
        kept, enabled = store.night_mode(self.r)
        return NightModeState(
            timezone=schedule.zone_name(),
            windows=kept,
            enabled=enabled,
            brightness=schedule.now_brightness(settings, self.config.panel.brightness, place, now),
            window_open=schedule.open_run(windows, now) is not None,
            next_change=schedule.next_boundary(windows, now),
        )

    @available
    def set_night_mode(self, night: specs.NightMode) -> NightModeState:
        windows = [w.model_dump() for w in night.windows]
        schedule.check_place(windows, self.config.location.place, "windows")
        with self.r.pipeline() as p:
            p.set(store.NIGHT_MODE, json.dumps(windows))
            p.delete(store.MANUAL_BRIGHTNESS)  # it was held against the old windows
            p.execute()
        return self.set_night_mode_on(night.enabled)

    @available
    def set_night_mode_on(self, on: bool) -> NightModeState:
        """Night mode on or off; its windows are kept either way."""
        with self.r.pipeline() as p:
            if on:
                p.delete(store.NIGHT_MODE_OFF)
            else:
                p.set(store.NIGHT_MODE_OFF, 1)
            p.delete(store.MANUAL_BRIGHTNESS)  # it was held against windows that applied before
            p.execute()
        self._tell_display()
        return self.night_mode()

    @available
    def transition(self) -> TransitionState:
        """The default transition: into every job, and into every app without its own."""
        return TransitionState(**(store.get_json(self.r, store.TRANSITION) or {}))

    @available
    def set_transition(self, setting: specs.Transition) -> TransitionState:
        store.put_json(self.r, store.TRANSITION, setting.model_dump())
        store.send(self.v, transition=True)
        store.event(self.v, "panel", transition=setting.transition, transition_ms=setting.transition_ms)
        return self.transition()

    @available
    def power(self) -> bool:
        return store.powered(self.r)

    @available
    def set_power(self, on: bool, for_s: float | None = None) -> bool:
        """Off: the panel goes dark, and everything else goes on (jobs play unseen, and are done);
        `for_s`: off for that long, then on again by itself (the key expires, the display's watcher sees it)."""
        if on:
            self.r.delete(store.POWER)
        else:
            self.r.set(store.POWER, "off", ex=math.ceil(for_s) if for_s else None)
        store.send(self.v, power=on)
        store.event(self.v, "panel", power=on)
        return on

    @available
    def indicators(self) -> dict[str, dict]:
        """The indicators lit: number ("1".."3") -> {color, blink_ms, fade_ms}."""
        return store.indicators(self.v)

    @available
    def set_indicator(self, number: int, color: str | None, blink_ms: int = 0, fade_ms: int = 0) -> None:
        """Light indicator `number` (a corner pixel over whatever shows), or (None) hide it. Volatile, as
        AWTRIX's are: a reboot clears them."""
        if number not in INDICATORS:
            raise errors.Invalid(f"indicator must be one of {INDICATORS}, got {number}")
        if color is None:
            self.v.hdel(store.INDICATORS, number)
        else:
            try:
                color = specs.color(color)
            except ValueError as e:
                raise errors.Invalid(f"color: {e}") from None
            lit = {"color": color, "blink_ms": blink_ms, "fade_ms": fade_ms}
            self.v.hset(store.INDICATORS, number, json.dumps(lit))
        store.send(self.v, indicators=True)
        store.event(self.v, "panel", indicator=number, color=color)

    @available
    def restart_display(self) -> None:
        """The display process exits, and its supervisor (systemd, pixie-local) starts it again: what
        played goes back to the head of its queue."""
        store.send(self.v, restart=True)

    @available
    def state(self) -> PanelState:
        job_id, app = store.showing(self.v)
        if job_id:
            record = store.get(self.r, job_id)
            now_playing = " ".join(filter(None, [record.get("kind", "a"), "job", record.get("name")]))
        else:
            now_playing = app or "idle"
        health = self.system.health()
        with self.r.pipeline(transaction=False) as p:
            p.scard(store.QUEUED)
            p.zcard(store.READY)
            waiting = sum(p.execute())
        ordered = apps.ordered(apps.current(self.r, self.v, time.time()))
        return PanelState(
            power=self.power(),
            brightness=self.brightness(),
            now_playing=now_playing,
            job=job_id,
            app=app,
            pinned=store.pinned(self.r),
            apps=[name for name, _ in ordered],
            progress={
                name: d["content"]["progress"]
                for name, d in ordered
                if d["content"]["kind"] == "progress" and isinstance(d["content"]["progress"], int)
            },
            waiting=waiting,
            health="ok" if health["ok"] else _trouble(health),
            night_mode=store.night_mode(self.r)[1],
            text=(text := self.v.get(store.LAST_TEXT)) and text.decode(),
            version=installed_version(),
        )

    def _tell_display(self) -> int:
        """The display applies the brightness at once (its watcher would within a second)."""
        value = self.brightness()
        store.send(self.v, brightness=value)
        store.event(self.v, "panel", brightness=value)
        return value

    @available
    def screen(self) -> bytes | None:
        """The panel's pixels now (RGB24 rows), as the display last published them."""
        raw = self.v.get(store.SCREEN)
        panel = self.config.panel
        return raw if raw and len(raw) == panel.width * panel.height * 3 else None


def _trouble(health: dict) -> str:
    """What /healthz's answer says is wrong, in a word or three."""
    if not health["redis"]:
        return "redis down"
    if not health["workers"]:
        return "no render worker"
    return "display stalled"
