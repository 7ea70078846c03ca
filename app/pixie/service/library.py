"""The library: uploaded fonts and icons, kept in the durable Redis, named by the text jobs that use them.

A font's name is a job name's (letters, digits and _ . : -, at most 64) and never a built-in's; an icon's
may also take AWTRIX's form with one size folder, "8x8/8544" or "32x8/logo", and is kept under that whole
name, as AWTRIX clients send it (so one id in two sizes is two icons). Each file is checked by the
renderer that will draw it (render.fonts.open_font, render.icons.open_icon) before it is kept, so a job
never fails later on a file the library took. The render workers read only the files a spec names
(`assets`), and key the render cache on them: replacing an icon renders again what uses it.
"""

import hashlib
import re
import time
import urllib.request
from dataclasses import replace

import redis
from PIL import Image
from pydantic import BaseModel, Field

from .. import config as configuration
from .. import errors, store
from .. import spec as specs
from ..render.assets import Assets
from ..render.fonts import open_font
from ..render.icons import open_icon
from .core import Area, Core, available, log

BUILTIN_FONTS = (*specs.BITMAP_FONTS, "auto", "sans", "pixel")
FONT_NAME = re.compile(specs.NAME_PATTERN)
ICON_NAME = re.compile(specs.ICON_PATTERN)
# What a font file starts with: its format and the content type it is served with.
FONT_FORMATS = (
    (b"STARTFONT", "bdf", "application/x-font-bdf"),
    (b"\x01fcp", "pcf", "application/x-font-pcf"),
    (b"\x1f\x8b", "pcf.gz", "application/gzip"),  # X11's fonts come gzipped
    (b"OTTO", "otf", "font/otf"),
    (b"\x00\x01\x00\x00", "ttf", "font/ttf"),
    (b"true", "ttf", "font/ttf"),
)


class FontInfo(BaseModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {"name": "6x13", "builtin": True, "height": 13},
                {"name": "clock7", "builtin": False, "format": "bdf", "content_type": "application/x-font-bdf",
                 "bytes": 2310, "height": 7, "coverage": {"Latin": 12}, "sha256": "9f2c...", "added": 1767225600.0},
            ]
        }
    }  # fmt: skip

    name: str
    builtin: bool = Field(description="one of the appliance's own (not uploaded, cannot be deleted)")
    format: str | None = Field(None, description="bdf, pcf, pcf.gz, ttf or otf")
    content_type: str | None = None
    bytes: int | None = Field(None, description="the file's size")
    height: int | None = Field(None, description="its pixel height (a line of text), where it has one")
    coverage: dict[str, int] | None = Field(None, description="how many characters it has glyphs for, per script")
    sha256: str | None = None
    added: float | None = Field(None, description="when it was uploaded (replaced)")


class IconInfo(BaseModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {"name": "8x8/8544", "format": "gif", "content_type": "image/gif", "bytes": 412, "width": 8,
                 "height": 8, "frames": 4, "sha256": "0c1d...", "added": 1767225600.0,
                 "url": "/api/v1/icons/8x8/8544?download=1"},
            ]
        }
    }  # fmt: skip

    name: str
    format: str = Field(description="png, gif or webp")
    content_type: str
    bytes: int
    width: int
    height: int
    frames: int = Field(description="1 for a still icon")
    sha256: str
    added: float
    url: str = Field(description="the file itself (what the page shows as a preview)")


class Library(Area):
    """The fonts and icons of one appliance."""

    # -- fonts -----------------------------------------------------------------------------------

    @available
    def put_font(self, name: str, data: bytes) -> FontInfo:
        """Add a font, or replace the one of that name; refused unless it is a font with glyphs."""
        stored = self._put("font", name, data, self.font_meta(name, data), self.config.fonts.max_count)
        self._render_users("font", name)
        return FontInfo(name=name, builtin=False, **stored)

    def font_meta(self, name: str, data: bytes) -> dict:
        """A font's metadata, once its name and file pass every check (a restore's fonts too)."""
        if not (FONT_NAME.match(name) and len(name) <= specs.MAX_NAME_CHARS):
            raise errors.Invalid(f"font name {name!r}: letters, digits and _ . : - only (1-64)")
        if name in BUILTIN_FONTS:
            raise errors.Invalid(f"font name {name!r} is a built-in font's; choose another")
        self._fits("font", data, self.config.fonts.max_bytes)
        info = open_font(data)  # refuses a file that is not a font, and one with no glyphs
        fmt, content_type = _font_format(data)
        return {"format": fmt, "content_type": content_type, "height": info.height, "coverage": info.coverage}

    @available
    def get_font(self, name: str) -> FontInfo:
        if name in BUILTIN_FONTS:
            return _builtin(name)
        return FontInfo(name=name, builtin=False, **self._meta("font", name))

    @available
    def font_file(self, name: str) -> tuple[bytes, str]:
        """An uploaded font's file and its content type."""
        return self._file("font", name)

    @available
    def delete_font(self, name: str) -> None:
        if name in BUILTIN_FONTS:
            raise errors.Invalid(f"{name!r} is a built-in font; only uploaded ones can be deleted")
        self._delete("font", name)

    @available
    def fonts(self) -> list[FontInfo]:
        """The built-in fonts, then the uploaded ones by name."""
        uploaded = sorted(store.library(self.r, "font").items())
        return [_builtin(name) for name in BUILTIN_FONTS] + [FontInfo(name=n, builtin=False, **m) for n, m in uploaded]

    # -- icons -----------------------------------------------------------------------------------

    @available
    def put_icon(self, name: str, data: bytes) -> IconInfo:
        """Add an icon, or replace the one of that name: a PNG, GIF or WebP no taller than the panel."""
        stored = self._put("icon", name, data, self.icon_meta(name, data), self.config.icons.max_count)
        self._render_users("icon", name)
        return _icon(name, stored)

    def icon_meta(self, name: str, data: bytes) -> dict:
        """An icon's metadata, once its name and file pass every check (a restore's icons too)."""
        if not (ICON_NAME.match(name) and len(name) <= specs.MAX_NAME_CHARS):
            raise errors.Invalid(
                f"icon name {name!r}: letters, digits and _ . : - only (1-64), optionally in a size folder"
                ' as AWTRIX has them ("8x8/8544")'
            )
        icons = self.config.icons
        self._fits("icon", data, icons.max_bytes)
        image = open_icon(data, replace(self.config.render, max_frames=icons.max_frames), self.config.panel.height)
        return {
            "format": image.format.lower(),
            "content_type": Image.MIME[image.format],
            "width": image.width,
            "height": image.height,
            "frames": getattr(image, "n_frames", 1),
        }

    @available
    def get_icon(self, name: str) -> IconInfo:
        return _icon(name, self._meta("icon", name))

    @available
    def icon_file(self, name: str) -> tuple[bytes, str]:
        return self._file("icon", name)

    @available
    def delete_icon(self, name: str) -> None:
        self._delete("icon", name)

    @available
    def has_icon(self, name: str) -> bool:
        return bool(self.r.hexists(store.LIBRARY["icon"], name))

    @available
    def icons(self) -> list[IconInfo]:
        return [_icon(name, meta) for name, meta in sorted(store.library(self.r, "icon").items())]

    # -- shared by both kinds --------------------------------------------------------------------

    @staticmethod
    def _fits(kind: str, data: bytes, max_bytes: int) -> None:
        if not data:
            raise errors.Invalid(f"the {kind} file is empty")
        if len(data) > max_bytes:
            raise errors.TooLarge(f"the {kind} is {len(data)} bytes, more than {kind}s.max_bytes={max_bytes}")

    def _put(self, kind: str, name: str, data: bytes, meta: dict, max_count: int) -> dict:
        meta = stamped(meta, data)
        if not store.put_library(self.r, kind, name, meta, data, max_count):
            raise errors.Conflict(f"the library holds {max_count} {kind}s ({kind}s.max_count): delete one first")
        return meta

    def _render_users(self, kind: str, name: str) -> None:
        """The apps drawn with this font or icon render again, as a new version the display swaps in
        (jobs need nothing: the file's hash is in their render cache's key)."""
        for app, definition in store.get_apps(self.r).items():
            if definition["content"].get(kind) == name:
                stored = {k: v for k, v in definition.items() if k != "rev"}
                rev = store.put_app(self.r, app, stored, store.get_app_media(self.r, app), {})
                self.queues.render_app(app, rev, store.RECORD_TTL_S)
                log.info("app %s rev %d renders again: its %s %s was replaced", app, rev, kind, name)

    def _meta(self, kind: str, name: str) -> dict:
        meta = store.library_meta(self.r, kind, name)
        if meta is None:
            raise errors.NotFound(f"no {kind} named {name!r}")
        return meta

    def _file(self, kind: str, name: str) -> tuple[bytes, str]:
        meta = self._meta(kind, name)
        data = store.library_files(self.r, kind, [name]).get(name)
        if data is None:  # deleted between the two reads
            raise errors.NotFound(f"no {kind} named {name!r}")
        return data, meta["content_type"]

    def _delete(self, kind: str, name: str) -> None:
        if not store.delete_library(self.r, kind, name):
            raise errors.NotFound(f"no {kind} named {name!r}")


def stamped(meta: dict, data: bytes) -> dict:
    """A library file's metadata as kept: with its size, hash and when it was added."""
    return {**meta, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(), "added": time.time()}


@available
def check(r: redis.Redis, config: configuration.Config, spec, names: dict[str, set[str]] | None = None) -> None:
    """Refuse a job's or app's content naming a font or an icon the appliance does not have; an icon
    named by a number passes when [icons] fetch_url is set (it is fetched from there). `names`: the
    library to check against instead of the stored one (kind -> names: a restore's)."""

    def has(kind: str, name: str) -> bool:
        return name in names[kind] if names is not None else bool(r.hexists(store.LIBRARY[kind], name))

    for field, font in _fonts(spec).items():
        if font not in BUILTIN_FONTS and not has("font", font):
            listed = names["font"] if names is not None else store.library(r, "font")
            uploaded = ", ".join(sorted(listed)) or "none"
            builtin = ", ".join(BUILTIN_FONTS)
            raise errors.Invalid(f"{field}: no font named {font!r} (built-in: {builtin}; uploaded: {uploaded})")
    icon = getattr(spec, "icon", None)
    fetched = icon is not None and icon.isdigit() and config.icons.fetch_url
    if icon is not None and not fetched and not has("icon", icon):
        raise errors.Invalid(f"icon: no icon named {icon!r} in the library (upload it: PUT /api/v1/icons/{icon})")
    for field, icon in _layout_icons(spec).items():  # not fetched: a layout's are the library's
        if not has("icon", icon):
            raise errors.Invalid(
                f"{field}: no icon named {icon!r} in the library (upload it: PUT /api/v1/icons/{icon})"
            )


def _fonts(spec) -> dict[str, str]:
    """The fonts a spec names, by the field that names each: its own, its drawing's texts', a layout's."""
    named = {"font": getattr(spec, "font", None)}
    drawing = getattr(spec, "draw", None) or ()
    named |= {f"draw.{i}.font": p.font for i, p in enumerate(drawing) if p.op == "text"}
    for path, element in spec.elements() if spec.kind == "layout" else ():
        if element.kind == "text":
            named[f"{path}.font"] = element.font
        elif element.kind == "draw":
            named |= {f"{path}.draw.{i}.font": p.font for i, p in enumerate(element.draw) if p.op == "text"}
    return {field: font for field, font in named.items() if font is not None}


def _layout_icons(spec) -> dict[str, str]:
    """A layout's icons, by the field that names each."""
    elements = spec.elements() if spec.kind == "layout" else ()
    return {f"{path}.icon": element.icon for path, element in elements if element.kind == "icon"}


def fetch_icon(r: redis.Redis, config: configuration.Config, spec) -> str | None:
    """An icon named by a number the library lacks (AWTRIX's LaMetric ids), fetched once from
    [icons] fetch_url and kept in the library under that number; the reason if that fails (the job
    then plays without it)."""
    icon = getattr(spec, "icon", None)
    if not (icon and icon.isdigit() and config.icons.fetch_url) or r.hexists(store.LIBRARY["icon"], icon):
        return None
    url = config.icons.fetch_url.replace("{id}", icon)
    try:
        with urllib.request.urlopen(url, timeout=config.icons.fetch_timeout_s) as answer:  # noqa: S310 - the owner's URL
            data = answer.read(config.icons.max_bytes + 1)
        Library(Core(r, config)).put_icon(icon, data)
    except (OSError, errors.PixieError) as e:  # unreachable, an HTTP error, or not an icon we can show
        log.warning("icon %s not fetched from %s: %s", icon, url, e)
        return f"icon {icon} could not be fetched from {url}: {e}"
    log.info("icon %s fetched from %s", icon, url)
    return None


def assets(r: redis.Redis, spec) -> Assets:
    """The library's files a spec names (an uploaded font, an icon), for the render worker to hand in."""
    icon = getattr(spec, "icon", None)
    uploaded = [font for font in dict.fromkeys(_fonts(spec).values()) if font not in BUILTIN_FONTS]
    fonts = store.library_files(r, "font", uploaded)
    named = [*([icon] if icon else []), *dict.fromkeys(_layout_icons(spec).values())]
    icons = store.library_files(r, "icon", named)
    return Assets(fonts=fonts, icons=icons)


def _builtin(name: str) -> FontInfo:
    """A built-in font: its height is in its name (6x13: 13 rows); unifont's is 16."""
    size = re.fullmatch(r"\d+x(\d+)", name)
    return FontInfo(name=name, builtin=True, height=int(size[1]) if size else 16 if name == "unifont" else None)


def _icon(name: str, meta: dict) -> IconInfo:
    return IconInfo(name=name, url=f"/api/v1/icons/{name}?download=1", **meta)


def _font_format(data: bytes) -> tuple[str, str]:
    """(format, content type) by the file's first bytes (open_font has read it: it is a font)."""
    known = ((fmt, kind) for magic, fmt, kind in FONT_FORMATS if data.startswith(magic))
    return next(known, ("font", "application/octet-stream"))
