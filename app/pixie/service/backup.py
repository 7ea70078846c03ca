"""Backup and restore: everything a user set up on the appliance, as one JSON document, and back.

A backup holds what lives in the durable Redis because someone set it up: the apps (with an image's or
animation's file), the library (uploaded fonts and icons) and the settings store.SETTINGS names (the pin,
brightness, night mode, power, the transition, AWTRIX's preferences). Files are base64, as the apps API
takes them. Jobs, render caches, heartbeats and the other volatile state are not in it.

One JSON document rather than an archive: a restore parses it once and checks it with the same models
and checks the API applies to each part (a tar would need its own reader, and the CLI is stdlib only);
`manifest.sha256` over the canonical JSON of the rest finds a document corrupted in a way that still
parses. A restore is checked whole before anything is written, then replaces everything at once
(store.replace_all): a refused one changes nothing.
"""

import base64
import binascii
import hashlib
import json
import socket
import time
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .. import apps as rotation
from .. import errors, store
from .. import spec as specs
from .apps import Apps
from .core import Area, Core, available, log
from .library import Library, stamped
from .system import installed_version

FORMAT = 1  # the document's layout; a newer one is refused (an older Pixie cannot know what it left out)
# An app's fields a backup keeps (its rev, `now` and lifetime start are this appliance's).
APP_FIELDS = ("content", "dwell_s", "enabled", "position", "schedule", "lifetime_s", "lifetime_mode")
APP_FIELDS += ("transition", "transition_ms")


class Manifest(BaseModel):
    format: int = Field(description=f"the document's layout ({FORMAT}); a Pixie refuses a newer one")
    pixie: str = Field(description="the version of the Pixie that made it")
    created: str = Field(description="when (UTC, ISO 8601)")
    device: str = Field(description="the device it was taken from (mqtt.device, else the host name)")
    sha256: str | None = Field(None, description="of the canonical JSON of the rest: a corrupted backup is refused")


class Contents(BaseModel):
    """What a backup holds, beside its manifest."""

    model_config = ConfigDict(extra="forbid")

    apps: dict[str, dict] = Field(default_factory=dict, description="name -> the app as PUT /api/v1/apps takes it")
    pinned: str | None = None
    brightness: int | None = Field(
        None, ge=specs.BRIGHTNESS[0], le=specs.BRIGHTNESS[1], description="null: the config's"
    )
    night_mode: specs.NightMode | None = None
    power: bool = True
    transition: specs.Transition | None = None
    awtrix: dict = Field(default_factory=dict, description="AWTRIX's preferences (ATIME, UPPERCASE, TCOL, SSPEED)")
    fonts: dict[str, str] = Field(default_factory=dict, description="name -> the file, base64")
    icons: dict[str, str] = Field(default_factory=dict, description="name -> the file, base64")


class Document(Contents):
    """A backup: its manifest, and what it holds."""

    manifest: Manifest


class Restored(BaseModel):
    manifest: Manifest = Field(description="the restored backup's")
    apps: list[str] = Field(description="the apps now on the appliance (rendering again)")
    fonts: int
    icons: int


class Backup(Area):
    def __init__(self, core: Core, apps: Apps, library: Library):
        """`apps` and `library`: their checks are a restore's."""
        super().__init__(core)
        self.apps = apps
        self.library = library

    @available
    def take(self) -> dict:
        """The backup document: the manifest first, then what it holds (read as of one moment)."""
        held = store.snapshot(self.r)
        settings = {key: value.decode() for key, value in held.settings.items()}
        night = settings.get(store.NIGHT_MODE)
        now = time.time()
        live = {name: d for name, d in held.apps.items() if not _ended(d, now)}
        contents = {
            "apps": {name: _app(d, held.media.get(name)) for name, d in live.items()},
            "pinned": settings.get(store.PINNED),
            "brightness": int(settings[store.BRIGHTNESS]) if store.BRIGHTNESS in settings else None,
            "night_mode": {"windows": json.loads(night), "enabled": store.NIGHT_MODE_OFF not in settings}
            if night
            else None,
            "power": settings.get(store.POWER) != "off",
            "transition": json.loads(settings[store.TRANSITION]) if store.TRANSITION in settings else None,
            "awtrix": json.loads(settings.get(store.AWTRIX_SETTINGS) or "{}"),
            **{f"{kind}s": {name: _b64(data) for name, data in files.items()} for kind, files in held.library.items()},
        }
        device = self.config.mqtt.device if self.config.mqtt.enabled else socket.gethostname()
        manifest = Manifest(
            format=FORMAT,
            pixie=installed_version(),
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            device=device,
            sha256=digest(contents),
        )
        return {"manifest": manifest.model_dump(), **contents}

    @available
    def restore(self, document) -> Restored:
        """Replace everything a backup holds with `document`'s, once all of it passes the checks the API
        applies to each part; then the apps render again and the display plays the restored rotation."""
        manifest, contents = _checked_document(document)
        library = {
            "font": {
                name: self._file("font", name, data, self.library.font_meta) for name, data in contents.fonts.items()
            },
            "icon": {
                name: self._file("icon", name, data, self.library.icon_meta) for name, data in contents.icons.items()
            },
        }
        for kind, files in library.items():
            most = getattr(self.config, f"{kind}s").max_count
            if len(files) > most:
                raise errors.Invalid(f"{kind}s: {len(files)} of them, more than {kind}s.max_count={most}")
        if len(contents.apps) > self.config.display.max_apps:
            raise errors.Invalid(
                f"apps: {len(contents.apps)} of them, more than display.max_apps={self.config.display.max_apps}"
            )
        names = {kind: set(files) for kind, files in library.items()}
        apps = {name: self._checked_app(name, body, names) for name, body in contents.apps.items()}
        if contents.pinned is not None and not apps.get(contents.pinned, ({"enabled": False},))[0]["enabled"]:
            raise errors.Invalid(f"pinned: {contents.pinned!r} is not an enabled app of the backup")
        awtrix_preferences = self._awtrix(contents.awtrix)
        revs = store.replace_all(self.r, self.v, apps, library, _settings(contents, awtrix_preferences))
        for name, rev in revs.items():
            self.queues.render_app(name, rev, store.RECORD_TTL_S)
        self._tell_display(contents)
        log.info(
            "restored %d apps, %d fonts, %d icons from %s",
            len(apps),
            len(library["font"]),
            len(library["icon"]),
            manifest.device,
        )
        return Restored(manifest=manifest, apps=list(apps), fonts=len(library["font"]), icons=len(library["icon"]))

    @staticmethod
    def _file(kind: str, name: str, data_b64: str, meta) -> tuple[dict, bytes]:
        """A library file of the backup, checked as an upload is (`meta`: the library's check)."""
        data = _decoded(data_b64, f"{kind}s.{name}")
        try:
            return stamped(meta(name, data), data), data
        except errors.Invalid as e:
            raise _under(f"{kind}s.{name}", e) from None

    def _checked_app(self, name: str, body: dict, names: dict[str, set[str]]) -> tuple[dict, bytes | None]:
        """An app of the backup, checked as PUT /api/v1/apps checks one: (its definition, its file)."""
        try:
            app = specs.parse_app(body)
            definition = self.apps.definition(name, app, names)
            media = self.apps.media(name, app.content, exists=False)
        except errors.Invalid as e:
            raise _under(f"apps.{name}", e) from None
        if definition["position"] is None:
            raise errors.Invalid(f"apps.{name}.position: missing (a backup's apps keep their places)")
        return {**definition, "now": True, "updated": time.time()}, media  # now: its frames replace the old at once

    @staticmethod
    def _awtrix(preferences: dict) -> dict:
        from .. import awtrix  # awtrix.py is a front door over the service: imported once both are loaded

        unknown = sorted(set(preferences) - set(awtrix.DEFAULT_SETTINGS))
        if unknown:
            raise errors.Invalid(
                f"awtrix: unknown setting {unknown[0]!r} (known: {', '.join(awtrix.DEFAULT_SETTINGS)})"
            )
        try:
            return awtrix.checked_preferences(preferences)
        except errors.Invalid as e:
            raise errors.Invalid(f"awtrix.{e}") from None

    def _tell_display(self, contents: Contents) -> None:
        """The display loads the restored rotation at once, and the transition, brightness and power."""
        store.send(self.v, apps="", now=True, transition=True, power=contents.power, brightness=True)
        store.event(self.v, "apps", restored=True)
        store.event(self.v, "panel", power=contents.power)


def _app(definition: dict, media: bytes | None) -> dict:
    """An app as PUT /api/v1/apps takes it, its file (if it has one) in its content."""
    body = {k: definition[k] for k in APP_FIELDS if definition.get(k) is not None}
    if media is not None:
        body["content"] = {**body["content"], "data_b64": _b64(media)}
    return body


def _ended(definition: dict, now: float) -> bool:
    """Its lifetime ended and it is not kept marked: gone at the next look (apps.current), not backed up."""
    end = rotation.expires(definition)
    return end is not None and end <= now and not rotation.stale(definition, now)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def digest(contents: dict) -> str:
    """The sha256 of a backup's contents as canonical JSON (sorted keys, no spaces)."""
    canonical = json.dumps(contents, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _checked_document(document) -> tuple[Manifest, Contents]:
    """The manifest (a format this Pixie reads, the contents' sha256 matching) and the contents, typed."""
    if not isinstance(document, dict):
        raise errors.Invalid("a backup is a JSON object")
    manifest = document.get("manifest")
    if not isinstance(manifest, dict):
        raise errors.Invalid("manifest: missing (not a Pixie backup)")
    version = manifest.get("format")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise errors.Invalid(f"manifest.format must be a positive integer, got {version!r}")
    if version > FORMAT:
        raise errors.Invalid(
            f"manifest.format {version} is newer than this Pixie ({installed_version()}) reads ({FORMAT}):"
            " update it first"
        )
    manifest = _typed(Manifest, manifest, "manifest.")
    contents = {k: v for k, v in document.items() if k != "manifest"}
    if manifest.sha256 is not None and manifest.sha256 != digest(contents):
        raise errors.Invalid(
            "manifest.sha256 does not match the backup's contents: it is corrupted"
            " (a backup edited on purpose restores without its sha256)"
        )
    return manifest, _typed(Contents, contents, "")


def _typed(model: type[BaseModel], data: dict, prefix: str):
    try:
        return model.model_validate(data, strict=True)
    except ValidationError as e:
        found = e.errors(include_url=False, include_input=False)
        raise errors.Invalid(prefix + specs.SpecError(found).args[0]) from None


def _under(field: str, e: errors.Invalid) -> errors.Invalid:
    """A refusal of a part of the backup, named by where it is: an invalid backup (422), whatever the part's
    own upload would have answered (a file too large or not an image is what is wrong with the document)."""
    return errors.Invalid(f"{field}: {e}")


def _decoded(data_b64: str, field: str) -> bytes:
    try:
        return base64.b64decode(data_b64, validate=True)
    except (binascii.Error, ValueError):
        raise errors.Invalid(f"{field}: not valid base64") from None


def _settings(contents: Contents, awtrix_preferences: dict) -> dict[str, str]:
    """store.SETTINGS as the backup sets them (those left out are cleared)."""
    held = {}
    if contents.pinned is not None:
        held[store.PINNED] = contents.pinned
    if contents.brightness is not None:
        held[store.BRIGHTNESS] = str(contents.brightness)
    if contents.night_mode is not None:
        held[store.NIGHT_MODE] = json.dumps([w.model_dump() for w in contents.night_mode.windows])
        if not contents.night_mode.enabled:
            held[store.NIGHT_MODE_OFF] = "1"
    if contents.transition is not None:
        held[store.TRANSITION] = json.dumps(contents.transition.model_dump())
    if not contents.power:
        held[store.POWER] = "off"
    if awtrix_preferences:
        held[store.AWTRIX_SETTINGS] = json.dumps(awtrix_preferences)
    return held
