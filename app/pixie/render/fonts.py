"""The fonts text is drawn in: the built-in bitmap fonts, uploaded ones, and the fallback between them.

A character the chosen font lacks is drawn from the next font of its chain (the built-ins nearest its
height, unifont last, which has every code point of the BMP); one no font has (most emoji) is drawn as
unifont's U+FFFD and reported by `glyphs`. Fonts load lazily, once per process (the render workers share
them across jobs). Text is laid out without libraqm (Layout.BASIC), so a frame is the same wherever it is
drawn: Hebrew and Arabic runs are reversed to read right to left, Arabic letters unjoined.
"""

import array
import gzip
import hashlib
import io
import re
import struct
import sys
from dataclasses import dataclass
from functools import cache, lru_cache

from PIL import ImageDraw, ImageFont

from .. import errors

# Debian's xfonts-base and xfonts-unifont put them there; the pixie_app role (and `make deps`) installs them.
BUILTIN_DIR = "/usr/share/fonts/X11/misc"
# name -> its file in BUILTIN_DIR (the ISO 10646 encoded ones: all their code points, not one 8-bit set)
BUILTIN = {
    name: f"{name}.pcf.gz" for name in ("4x6", "5x7", "5x8", "6x10", "6x13", "7x13", "8x13", "9x15", "9x18", "10x20")
} | {"unifont": "unifont.pcf.gz"}
# name -> (height, width) in px, as the names say (unifont: 16 rows, 8 columns a half-width glyph): the
# order "auto", shrink and the fallback chain take them in, known without loading a font (unifont's
# glyphs take ~12 MB once loaded; a process loads only the fonts its characters reach).
NOMINAL = {name: (int(h), int(w)) for name in BUILTIN for w, h in re.findall(r"^(\d+)x(\d+)$", name)} | {
    "unifont": (16, 8)
}
ALIASES = {"pixel": "6x10"}  # "pixel" was Pillow's latin-1 bitmap font: now the crisp built-in of that size
SANS = "sans"  # the one anti-aliased font: Pillow's own, at the size asked
LAST_RESORT = "unifont"
REPLACEMENT = "\ufffd"
NOT_A_CHARACTER = "\U0010fffd"  # a private-use code point: every font draws it as its "missing" glyph
MAX_FONT_BYTES = 32 << 20  # a gzipped upload is not unpacked past this
MAX_STRIKE = 64  # px: a bitmap font's size is searched up to this
INVALID_SIZE = "invalid pixel size"  # FreeType's refusal of a bitmap font at another size than its own
# The scripts open_font counts an upload's glyphs of (kept small: the ones the coverage test writes in).
SCRIPTS = {
    "Latin": [(0x20, 0x7E), (0xA0, 0x24F)],
    "Greek": [(0x370, 0x3FF)],
    "Cyrillic": [(0x400, 0x4FF)],
    "Hebrew": [(0x590, 0x5FF)],
    "Arabic": [(0x600, 0x6FF)],
    "CJK": [(0x4E00, 0x9FFF)],
    "Hangul": [(0xAC00, 0xD7A3)],
    "Kana": [(0x3040, 0x30FF)],
}
RTL = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]+(?:\s+[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]+)*")


class FontError(errors.Invalid):
    """A font file that cannot be used; the message says why, for the person who uploaded it."""


@dataclass(frozen=True, eq=False)  # compared by identity: each is loaded once and cached
class Face:
    name: str
    font: ImageFont.FreeTypeFont
    height: int  # px from the top of the tallest glyph to the bottom of the lowest
    ascent: int  # px from the top to the baseline
    crisp: bool = True  # drawn without anti-aliasing
    scalable: bool = False  # drawn at any size (else at its bitmap strike's only)
    charset: "Charset | None" = None  # a bitmap font's characters, read from its file (else: has() compares)

    def has(self, ch: str) -> bool:
        return _has(self, ch)

    def width(self, text: str) -> float:
        return self.font.getlength(text)


@dataclass(frozen=True)
class FontInfo:
    """What open_font reads from an upload."""

    height: int | None  # a bitmap font's pixel height; None: scalable (drawn at the size a line needs)
    coverage: dict[str, int]  # glyphs per script of SCRIPTS


def face(name: str, height: int, assets=None, size: int | None = None) -> Face:
    """The font called `name` for a line `height` px tall; `size` is sans's (and a scalable upload's) size."""
    name = ALIASES.get(name, name)
    if name == "auto":
        return builtin(next((n for n in by_size() if NOMINAL[n][0] <= height), by_size()[-1]))
    if name in BUILTIN:
        return builtin(name)
    if name == SANS:
        return _sans(size or max(8, height // 2))
    if assets and name in assets.fonts:  # assets: a render.Assets (not imported: the display loads this module)
        return _uploaded(name, assets.fonts[name], size or height)
    raise FontError(f"no font called {name!r} (built in: auto, {', '.join(BUILTIN)}, sans; or an uploaded one)")


@cache
def builtin(name: str) -> Face:
    return _bitmap(name, _unpacked(name))


@cache
def _table(name: str) -> "Charset | None":
    """A built-in's characters, read from its file without opening it."""
    return _charset(_unpacked(name))


def _unpacked(name: str) -> bytes:
    # The unpacked bytes, not the .pcf.gz's path, go to FreeType: it reads a gzip file through a stream
    # that unpacks it again from the start at each seek, and a CJK line took 100 times as long (268 ms).
    with open(f"{BUILTIN_DIR}/{BUILTIN[name]}", "rb") as f:
        return gzip.decompress(f.read())


@cache
def by_size() -> list[str]:
    """The built-ins' names, largest first (taller, then wider): "auto" takes the first that fits, shrink the next."""
    return sorted(BUILTIN, key=NOMINAL.get, reverse=True)


def fit(lines: list[list[tuple[str, str]]], width: int, height: int, start: Face | None = None) -> Face:
    """The largest built-in from `start` (default: the largest whose height fits) in which the lines of
    coloured parts fit the box."""
    names = by_size()
    if start is not None and start.name in BUILTIN:  # an upload can have no built-in's name
        first = names.index(start.name)
    else:
        first = next((i for i, n in enumerate(names) if NOMINAL[n][0] <= height), -1)
    fitting = (builtin(n) for n in names[first:])
    return next(
        (f for f in fitting if f.height * len(lines) <= height and all(width_of(runs(ln, f)) <= width for ln in lines)),
        builtin(names[-1]),
    )


def chain(primary: Face) -> list[Face | str]:
    """Where a character comes from: the font chosen, the other built-ins nearest its height, unifont last
    (the built-ins by name: `source` loads one only when a character reaches it)."""
    others = [n for n in BUILTIN if n not in (primary.name, LAST_RESORT)]
    others.sort(key=lambda n: (abs(NOMINAL[n][0] - primary.height), NOMINAL[n][0]))
    return [primary, *others, LAST_RESORT]


def source(ch: str, faces: list[Face | str]) -> Face | None:
    """The first face of a chain that has `ch` (None: no font has it)."""
    return next((_face(f) for f in faces if _may_have(f, ch) and _face(f).has(ch)), None)


def _may_have(f: Face | str, ch: str) -> bool:
    """A built-in not yet opened is asked its table (8 KB) first: a character none of the nearer fonts has
    would otherwise open every built-in of the chain on its way to unifont (~1 MB each, in every process)."""
    if not isinstance(f, str):
        return True
    table = _table(f)
    return table is None or ch in table


def _face(f: Face | str) -> Face:
    return builtin(f) if isinstance(f, str) else f


Run = tuple[Face, str, str]  # a face, the characters it draws, their colour


def runs(parts: list[tuple[str, str]], primary: Face) -> list[Run]:
    """One line's coloured parts as runs of characters per face, in drawing order (right-to-left runs
    reversed); a character no font has becomes U+FFFD."""
    faces = chain(primary)
    chars = [(ch, color) for text, color in parts for ch in text]
    line = "".join(ch for ch, _ in chars)
    for m in RTL.finditer(line):
        chars[m.start() : m.end()] = chars[m.start() : m.end()][::-1]
    out: list[Run] = []
    for ch, color in chars:
        f = source(ch, faces)
        f, ch = (f, ch) if f else (builtin(LAST_RESORT), REPLACEMENT)
        if out and out[-1][0] is f and out[-1][2] == color:
            out[-1] = (f, out[-1][1] + ch, color)
        else:
            out.append((f, ch, color))
    return out


def width_of(line: list[Run]) -> int:
    return round(sum(f.width(text) for f, text, _ in line))


def draw_lines(
    image, lines: list[list[Run]], primary: Face, box, align="center", valign="middle", outline=None, shadow=None
):
    """Lines of runs in `box` (x, y, width, height), a line of the primary face's height each."""
    x, y, w, h = box
    free_h = h - primary.height * len(lines)
    y += {"top": 0, "middle": free_h // 2, "bottom": free_h}[valign]
    for i, line in enumerate(lines):
        free_w = w - width_of(line)
        left = x + {"left": 0, "center": free_w // 2, "right": free_w}[align]
        draw(image, left, y + i * primary.height + primary.ascent, line, outline, shadow)


def draw(image, x: float, baseline: int, line: list[Run], outline: str | None = None, shadow: str | None = None):
    """Draw one line's runs on a common baseline from x: its shadow (1 px down-right), its outline (1 px
    around), then the glyphs."""
    pen = ImageDraw.Draw(image)
    passes = [(1, 1, shadow)] if shadow else []
    if outline:
        passes += [(dx, dy, outline) for dx in (-1, 0, 1) for dy in (-1, 0, 1) if dx or dy]
    for dx, dy, color in [*passes, (0, 0, None)]:
        left = x
        for f, text, fill in line:
            pen.fontmode = "1" if f.crisp else "L"
            pen.text((left + dx, baseline + dy), text, font=f.font, fill=color or fill, anchor="ls")
            left += f.width(text)


def glyphs(text: str, font_name: str, height: int, assets=None) -> dict:
    """For the job's record: {"fallback": {font: chars drawn from it instead}, "missing": chars no font
    has}; {} when the font chosen drew every character."""
    faces = chain(face(font_name, height, assets))
    fallback: dict[str, str] = {}
    missing = ""
    for ch in dict.fromkeys(text.replace("\n", "")):
        f = source(ch, faces)
        if f is None:
            missing += ch
        elif f is not faces[0]:
            fallback[f.name] = fallback.get(f.name, "") + ch
    return {"fallback": fallback, "missing": missing} if fallback or missing else {}


def open_font(data: bytes) -> FontInfo:
    """An upload (BDF, PCF, PCF.gz, TTF or OTF) checked: FontError says why it cannot be used."""
    f = _uploaded("upload", data, 16)
    coverage = {
        # a space is "present" in any font (has() cannot tell it from a missing glyph): glyphs are the rest
        script: sum(f.has(chr(c)) for lo, hi in spans for c in range(lo, hi + 1) if not chr(c).isspace())
        for script, spans in SCRIPTS.items()
    }
    if not any(coverage.values()):
        raise FontError("the font has no glyphs for the letters of any script")
    return FontInfo(height=None if f.scalable else f.height, coverage=coverage)


@lru_cache(maxsize=4096)
def _has(f: Face, ch: str) -> bool:
    """From the font's own table where it has one; else a glyph the font lacks is drawn as its "missing"
    glyph, the one of a private-use code point (FreeType draws a bitmap font's first glyph for a missing
    one when it names no default: only the table tells that glyph's own character from a missing one)."""
    if f.charset is not None:
        return ch in f.charset
    return ch.isspace() or _ink(f, ch) != _ink(f, NOT_A_CHARACTER)


@dataclass(frozen=True)
class Charset:
    """Code points as a bitmap: 8 KB for the whole BMP (Unifont's 57,000 characters as Python strings
    would take ~4 MB in every process that draws with it)."""

    bits: bytes

    def __contains__(self, ch: str) -> bool:
        cp = ord(ch)
        return cp >> 3 < len(self.bits) and bool(self.bits[cp >> 3] & 1 << (cp & 7))

    @classmethod
    def of(cls, code_points) -> "Charset":
        bits = bytearray()
        for cp in code_points:
            if cp >> 3 >= len(bits):
                bits.extend(bytes((cp >> 3) + 1 - len(bits)))
            bits[cp >> 3] |= 1 << (cp & 7)
        return cls(bytes(bits))


def _charset(data: bytes) -> Charset | None:
    """The characters a BDF or PCF file encodes (None for other formats)."""
    if data.startswith(b"STARTFONT"):
        return Charset.of(int(c) for c in re.findall(rb"^ENCODING (\d+)", data, re.M) if int(c) < 0x110000)
    if data.startswith(b"\x01fcp"):
        try:
            return _pcf_charset(data)
        except (struct.error, ValueError):  # a table cut short: FreeType drew it, so compare glyphs instead
            return None
    return None


PCF_BDF_ENCODINGS = 1 << 5  # the table mapping code points to glyphs (X.Org's PCF format)
PCF_BYTE_MASK = 1 << 2  # set: the table's numbers are big-endian
NO_GLYPH = 0xFFFF


def _pcf_charset(data: bytes) -> Charset | None:
    (count,) = struct.unpack_from("<i", data, 4)
    for i in range(min(count, 64)):
        kind, _, _, offset = struct.unpack_from("<4i", data, 8 + 16 * i)
        if kind != PCF_BDF_ENCODINGS:
            continue
        (fmt,) = struct.unpack_from("<i", data, offset)
        order = ">" if fmt & PCF_BYTE_MASK else "<"
        lo2, hi2, lo1, hi1, _ = struct.unpack_from(order + "5h", data, offset + 4)
        cols, start = hi2 - lo2 + 1, offset + 14
        glyphs = array.array("H", data[start : start + 2 * cols * (hi1 - lo1 + 1)])  # no object per entry
        if order != ("<" if sys.byteorder == "little" else ">"):
            glyphs.byteswap()
        return Charset.of((lo1 + k // cols) << 8 | (lo2 + k % cols) for k, g in enumerate(glyphs) if g != NO_GLYPH)
    return None


@lru_cache(maxsize=64)
def _notdef(f: Face) -> tuple:
    return _ink(f, NOT_A_CHARACTER)


def _ink(f: Face, ch: str) -> tuple:
    mask = f.font.getmask(ch, mode="1")
    return mask.size, bytes(mask), f.font.getlength(ch)


@lru_cache(maxsize=8)
def _sans(size: int) -> Face:
    font = ImageFont.load_default(size)
    ascent, descent = font.getmetrics()
    return Face(SANS, font, ascent + descent, ascent, crisp=False, scalable=True)


_UPLOADED: dict[tuple[bytes, int], Face] = {}  # (sha256, size) -> face; a worker keeps the last few
MAX_UPLOADED = 16


def _uploaded(name: str, data: bytes, size: int) -> Face:
    key = (hashlib.sha256(data).digest(), size)
    if key not in _UPLOADED:
        if len(_UPLOADED) >= MAX_UPLOADED:
            _UPLOADED.pop(next(iter(_UPLOADED)))
        _UPLOADED[key] = _load(name, data, size)
    return _UPLOADED[key]


def _load(name: str, data: bytes, size: int) -> Face:
    if data[:2] == b"\x1f\x8b":  # PCF.gz
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as z:
                data = z.read(MAX_FONT_BYTES + 1)
        except (OSError, EOFError):
            raise FontError("not a font: a gzip file that does not unpack") from None
        if len(data) > MAX_FONT_BYTES:
            raise FontError(f"the font unpacks to more than {MAX_FONT_BYTES >> 20} MB")
    try:
        font = _open(data, size)
    except FontError as e:
        if str(e) != INVALID_SIZE:  # else a bitmap font: it opens at its strike's pixel size only
            raise
        return _bitmap(name, data)
    ascent, descent = font.getmetrics()
    return Face(name, font, ascent + descent, ascent, scalable=True)


def _bitmap(name: str, data: bytes) -> Face:
    """A bitmap font at its strike: its XLFD name says the pixel size (-Misc-Fixed-...--13-...), else search."""
    hint = re.search(rb"-(\d{1,2})-\d+-\d+-\d+-[CMPcmp]-\d+-", data[: 1 << 20])
    sizes = [int(hint[1])] if hint else []
    for size in [*sizes, *range(1, MAX_STRIKE + 1)]:
        try:
            font = _open(data, size)
        except FontError:
            continue
        ascent, descent = font.getmetrics()
        return Face(name, font, ascent + descent, ascent, charset=_charset(data))
    raise FontError(f"a bitmap font without a size of at most {MAX_STRIKE} pixels")


def _open(data: bytes, size: int) -> ImageFont.FreeTypeFont:
    try:
        return ImageFont.truetype(io.BytesIO(data), size=size, layout_engine=ImageFont.Layout.BASIC)
    except OSError as e:
        if INVALID_SIZE in str(e):
            raise FontError(INVALID_SIZE) from None
        raise FontError("not a font this appliance reads (BDF, PCF, PCF.gz, TTF or OTF)") from None
