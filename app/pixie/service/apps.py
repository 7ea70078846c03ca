"""The rotation's apps: list, put and delete them, skip to one, pin one on screen."""

import base64
import re
import time

from pydantic import BaseModel, Field

from .. import apps, errors, live, schedule, store
from .. import spec as specs
from ..render.media import open_media
from . import library
from .core import Area, available, log

APP_NAME = re.compile(specs.NAME_PATTERN)


class LiveValue(BaseModel):
    """One of a text's placeholders (live data: the last value of an MQTT topic)."""

    placeholder: str = Field(description="as written in the text, braces and all")
    topic: str
    value: str | None = Field(description="the topic's last value, as received (null: none yet)")
    shows: str = Field(description="what the placeholder shows for it")
    error: str | None = Field(None, description="why the device gets no value of it (the broker refused it)")


class AppState(BaseModel):
    name: str
    content: dict = Field(description="what it shows (an image's or animation's file is not repeated here)")
    dwell_s: float | None
    enabled: bool
    position: int
    schedule: list[specs.TimeWindow] = Field(description="the windows it shows in; none: always")
    on_schedule: bool = Field(description="one of its windows is open now (always, without a schedule)")
    lifetime_s: float | None = None
    expires: float | None = Field(None, description="with a lifetime: when it deletes itself unless put again")
    lifetime_mode: str = "delete"
    transition: str | None = Field(None, description="how it replaces what the panel showed; null: the setting's")
    transition_ms: int | None = Field(None, description="its transition's time; null: the setting's")
    stale: bool = Field(False, description="its lifetime ended and it is kept, in a red frame (lifetime_mode mark)")
    notes: dict | None = Field(
        None, description="what its render drew otherwise than asked: characters from a fallback font or none (glyphs)"
    )
    rev: int = Field(description="its version: every change takes a higher number")
    rendered: bool = Field(description="this version's frames are ready (until then the previous ones show)")
    error: str | None = Field(None, description="why this version could not be rendered (the previous frames show)")
    live: list[LiveValue] = Field(
        default_factory=list, description="its text's {{topic}} placeholders, each with its topic's value now"
    )
    changed: bool | None = Field(None, description="answering a PUT: false if the app was already so")


class Rotation(BaseModel):
    apps: list[AppState] = Field(description="in rotation order")
    showing: str | None = Field(None, description="the app on the panel now (or under a job that interrupts it)")
    next: str | None = Field(None, description="the enabled app on schedule after it")
    pinned: str | None = Field(None, description="the app held on screen until unpinned")


class Apps(Area):
    @available
    def rotation(self) -> Rotation:
        now = time.time()
        ordered = apps.ordered(apps.current(self.r, self.v, now))
        renders = store.app_renders(self.v, [name for name, _ in ordered])
        values = self._values([d for _, d in ordered])
        listed = [self._app_state(name, d, renders[name], now, values) for name, d in ordered]
        showing = store.showing(self.v)[1]
        playable = [a.name for a in listed if a.enabled and a.on_schedule]
        pinned = store.pinned(self.r)
        following = playable[(playable.index(showing) + 1) % len(playable)] if showing in playable else None
        following = pinned or following or (playable[0] if playable else None)
        return Rotation(apps=listed, showing=showing, next=following, pinned=pinned)

    @available
    def get(self, name: str) -> AppState:
        now = time.time()
        definition = apps.current(self.r, self.v, now).get(name)
        if definition is None:
            raise errors.NotFound(f"no app {name}")
        rendered = store.app_renders(self.v, [name])[name]
        return self._app_state(name, definition, rendered, now, self._values([definition]))

    @available
    def put(self, name: str, app: specs.App) -> AppState:
        """Create or update an app; it renders off the display and swaps in at its dwell's end (or at once).
        The same app put again changes nothing (`changed` false): nothing is rendered, and nothing is
        written but a lifetime's new start."""
        definition = self.definition(name, app)
        now = time.time()
        existing = apps.current(self.r, self.v, now)
        if name not in existing and len(existing) >= self.config.display.max_apps:
            raise errors.Invalid(f"at most {self.config.display.max_apps} apps (display.max_apps); delete one first")
        media = self.media(name, app.content, name in existing)
        others = {other: d for other, d in existing.items() if other != name}
        position = app.position if app.position is not None else existing.get(name, {}).get("position")
        if position is None:
            position = max((d["position"] for d in others.values()), default=-1) + 1
        definition["position"] = position
        stored = existing.get(name)
        if stored and all(stored.get(k) == v for k, v in definition.items()) and media == self._stored_media(name, app):
            if app.lifetime_s:
                stored = store.touch_app(self.r, name, {**stored, "updated": now})
                self._apps_changed(name)
            rendered = store.app_renders(self.v, [name])[name]
            if rendered.failed_rev >= stored["rev"]:  # it may fit now: try again (nothing to write)
                self.queues.render_app(name, stored["rev"], store.RECORD_TTL_S)
            return self._app_state(name, stored, rendered, now, self._values([stored]), changed=False)
        definition.update(now=app.now, updated=now)
        rev = store.put_app(self.r, name, definition, media, apps.make_room(others, position))
        if not app.enabled:
            store.unpin(self.r, name)
        self.queues.render_app(name, rev, store.RECORD_TTL_S)
        store.event(self.v, "apps", name=name)  # the display hears of it once it is rendered
        log.info("app %s rev %d saved", name, rev)
        values = self._values([definition])
        return self._app_state(name, {**definition, "rev": rev}, store.AppRender(), now, values, changed=True)

    def definition(self, name: str, app: specs.App, names: dict[str, set[str]] | None = None) -> dict:
        """An app as stored, once its name, the fonts and icons it names (in `names`, a restore's library, if
        given) and its schedule pass; its position as given (None: the put decides)."""
        if not (APP_NAME.match(name) and len(name) <= specs.MAX_NAME_CHARS):
            raise errors.Invalid(f"app name {name!r}: letters, digits and _ . : - only (1-64)")
        library.check(self.r, self.config, app.content, names)
        schedule.check_place([w.model_dump() for w in app.schedule], self.config.location.place, "schedule")
        return {
            "content": app.content.model_dump(exclude={*specs.JOB_ONLY, "data_b64", "blob"}, exclude_none=True),
            "dwell_s": app.dwell_s,
            "enabled": app.enabled,
            "position": app.position,
            "schedule": [w.model_dump() for w in app.schedule],
            "lifetime_s": app.lifetime_s,
            "lifetime_mode": app.lifetime_mode,
            "transition": app.transition,
            "transition_ms": app.transition_ms,
        }

    def _values(self, definitions: list[dict]) -> tuple[dict[str, str], dict[str, str]]:
        """The values of the topics these apps show, and those the broker refused (with why)."""
        topics = list(dict.fromkeys(t for d in definitions for t in live.topics(d["content"])))
        if not topics:
            return {}, {}
        return store.live_values(self.v, topics)[0], store.live_refused(self.v, topics)

    def _apps_changed(self, name: str) -> None:
        """The display loads the rotation again; listeners hear of it."""
        store.send(self.v, apps=name)
        store.event(self.v, "apps", name=name)

    def media(self, name: str, content, exists: bool) -> bytes | None:
        """An image or animation app's file: the one sent, or (on an update that leaves it out) the one it has."""
        if not isinstance(content, specs.Media):
            return None
        if content.data_b64 is None:
            media = store.get_app_media(self.r, name) if exists else None
            if media is None:
                raise errors.Invalid(f"content.data_b64: a {content.kind} app needs its file")
            return media
        try:
            media = base64.b64decode(content.data_b64, validate=True)
        except ValueError:
            raise errors.Invalid("content.data_b64 is not valid base64") from None
        open_media(media, self.config.render)  # refused now, not by the worker later
        return media

    def _stored_media(self, name: str, app: specs.App) -> bytes | None:
        return store.get_app_media(self.r, name) if isinstance(app.content, specs.Media) else None

    @available
    def delete(self, name: str) -> None:
        if not store.delete_app(self.r, self.v, name):
            raise errors.NotFound(f"no app {name}")
        self._apps_changed(name)

    @available
    def skip(self, step: int, to: str | None = None) -> None:
        """The next (1) or previous (-1) app, or the app `to`, now; the rotation goes on from there."""
        if pinned := store.pinned(self.r):
            raise errors.Conflict(f"app {pinned} is pinned: unpin it first")
        if to is not None:
            app = self.get(to)
            if not (app.enabled and app.on_schedule):
                raise errors.Conflict(f"app {to} is not in the rotation now (disabled, or outside its schedule)")
        store.send(self.v, skip=step, **({"to": to} if to else {}))

    @available
    def pin(self, name: str) -> Rotation:
        """Hold an app on screen (it shows now, turn after turn) until unpinned."""
        if not self.get(name).enabled:
            raise errors.Conflict(f"app {name} is disabled: enable it to pin it")
        self.r.set(store.PINNED, name)
        self._apps_changed(name)
        return self.rotation()

    @available
    def unpin(self, name: str) -> Rotation:
        if not store.unpin(self.r, name):
            raise errors.Conflict(f"app {name} is not pinned")
        self._apps_changed(name)
        return self.rotation()

    def _app_state(
        self,
        name: str,
        definition: dict,
        rendered: store.AppRender,
        now: float,
        values: tuple[dict[str, str], dict[str, str]],
        changed: bool | None = None,
    ) -> AppState:
        fields = {k: definition[k] for k in ("content", "dwell_s", "enabled", "position", "rev")}
        got, refused = values
        placeholders = live.placeholders(definition["content"])
        return AppState(
            name=name,
            schedule=definition.get("schedule", []),
            on_schedule=apps.on_schedule(definition, apps.local(now), self.config.location.place),
            lifetime_s=definition.get("lifetime_s"),
            expires=apps.expires(definition),
            lifetime_mode=definition.get("lifetime_mode", "delete"),
            transition=definition.get("transition"),
            transition_ms=definition.get("transition_ms"),
            stale=apps.stale(definition, now),
            rendered=rendered.rev >= definition["rev"],
            error=rendered.error if rendered.failed_rev >= definition["rev"] else None,
            notes=rendered.notes if rendered.rev >= definition["rev"] else None,
            live=[
                LiveValue(
                    placeholder=p.source,
                    topic=p.topic,
                    value=got.get(p.topic),
                    shows=live.show(p, got.get(p.topic)),
                    error=refused.get(p.topic),
                )
                for p in placeholders
            ],
            changed=changed,
            **fields,
        )
