"""hzeller's FlaschenTaschen protocol (github.com/hzeller/flaschen-taschen, doc/protocols.md; the server's
ppm-reader.cc and composite-flaschen-taschen.cc for what the doc leaves open).

A datagram is one binary PPM: `P6`, width, height, maxval (255: the doc calls it fixed), one whitespace byte,
then width*height*3 bytes of RGB. `#` comments may sit wherever the header allows whitespace; a comment starting
with exactly `#FT:` carries the tile's offset `x y z` (z the layer). Numbers after the pixel data (whitespace and
`#` comments between them, as the doc's footer) give x, y, z too and win over the comment, as in the server;
trailing bytes that are not numbers are ignored. Numbers left out keep their value (0 by default); z is clamped
to 0..15 as the server's SetLayer does. Unlike hzeller's server, a datagram without the P6 magic is refused,
not shown as raw pixels.

Layers composite as the server does: layer 0 is the background; a pixel of layers 1..15 shows where it is not
black (black is transparent), the highest such layer winning; a layer above 0 not sent for `layer_timeout_s` is
cleared (the server's `--layer-timeout`). A tile paints all its pixels, black included, into its layer.
"""

import re
from dataclasses import dataclass

from PIL import Image, ImageChops

LAYERS = 16
MAX_PIXELS = 65536  # a tile of up to 256x256: more than one datagram (64 KiB) can carry anyway
_NUMBER = re.compile(rb"[+-]?[0-9]+")
_MAX_DIGITS = 9  # keeps int() cheap and offsets within Pillow's C ints
_SPACE = b" \t\n\v\f\r"
_OPAQUE = [0] + [255] * 255  # lookup table: a channel maximum above 0 is an opaque pixel


class Malformed(ValueError):
    """A datagram that is not a FlaschenTaschen frame; str() is a short reason, counted by the receiver."""


@dataclass(frozen=True)
class Tile:
    x: int
    y: int
    z: int
    width: int
    height: int
    rgb: bytes


def _number(data: bytes, pos: int, end: int, offsets: list[int] | None) -> tuple[int, int] | None:
    """The decimal number at or after pos (skipping whitespace and comments) and the position after it, or None.
    A `#FT:` comment met on the way sets `offsets` (when given), as the server reads its header."""
    while pos < end:
        byte = data[pos]
        if byte in _SPACE:
            pos += 1
        elif byte == 0x23:  # '#': a comment to the end of the line
            eol = data.find(b"\n", pos, end)
            eol = end if eol < 0 else eol
            if offsets is not None and data.startswith(b"#FT:", pos):
                found = _offsets(data, pos + 4, eol)
                offsets[: len(found)] = found
            pos = eol
        else:
            match = _NUMBER.match(data, pos, end)
            if not match:
                return None
            if len(match[0].lstrip(b"+-")) > _MAX_DIGITS:
                raise Malformed("number too long")
            return int(match[0]), match.end()
    return None


def _offsets(data: bytes, pos: int, end: int) -> list[int]:
    """Up to three numbers (x, y, z) from pos to end, stopping at the first thing that is not one."""
    found = []
    while len(found) < 3:
        got = _number(data, pos, end, None)
        if got is None:
            break
        value, pos = got
        found.append(value)
    return found


def parse(datagram: bytes) -> Tile:
    """The tile a datagram carries; Malformed (and nothing else) for anything that is not one."""
    data = bytes(datagram)
    if len(data) < 3 or not data.startswith(b"P6") or not (data[2] in _SPACE or data[2] == 0x23):
        raise Malformed("not a P6 PPM")
    end = len(data)
    offsets = [0, 0, 0]
    pos = 2
    header = []
    for _field in ("width", "height", "maxval"):
        got = _number(data, pos, end, offsets)
        if got is None:
            raise Malformed("truncated header")
        value, pos = got
        header.append(value)
    width, height, maxval = header
    if width < 1 or height < 1:
        raise Malformed("empty image")
    if width * height > MAX_PIXELS:
        raise Malformed("too large")
    if maxval != 255:
        raise Malformed("maxval not 255")
    if pos >= end or data[pos] not in _SPACE:
        raise Malformed("truncated header")
    pos += 1
    size = width * height * 3
    if end - pos < size:
        raise Malformed("truncated")
    footer = _offsets(data, pos + size, end)
    offsets[: len(footer)] = footer
    x, y, z = offsets
    return Tile(x, y, min(max(z, 0), LAYERS - 1), width, height, data[pos : pos + size])


class Layers:
    """The panel as FlaschenTaschen's server composites it: 16 layers, black transparent above layer 0."""

    def __init__(self, width: int, height: int, layer_timeout_s: float):
        self.width, self.height, self.layer_timeout_s = width, height, layer_timeout_s
        self._layers: dict[int, Image.Image] = {}
        self._masks: dict[int, Image.Image] = {}  # per layer above 0: 255 where not black; dropped when painted
        self._put_at: dict[int, float] = {}
        self._frame: bytes | None = None

    def put(self, tile: Tile, now: float) -> None:
        layer = self._layers.get(tile.z)
        if layer is None:
            layer = self._layers[tile.z] = Image.new("RGB", (self.width, self.height))
        # Pillow clips the paste at the panel's edges, wherever the offset puts the tile.
        layer.paste(Image.frombytes("RGB", (tile.width, tile.height), tile.rgb), (tile.x, tile.y))
        self._masks.pop(tile.z, None)
        self._put_at[tile.z] = now
        self._frame = None

    def frame(self, now: float) -> bytes:
        """The composited RGB24 frame, width*height*3 bytes."""
        for z, at in list(self._put_at.items()):
            if z and now - at > self.layer_timeout_s:
                del self._layers[z], self._put_at[z]
                self._masks.pop(z, None)
                self._frame = None
        if self._frame is None:
            base = self._layers.get(0)
            out = base.copy() if base else Image.new("RGB", (self.width, self.height))
            for z in sorted(self._layers):
                if z:
                    out.paste(self._layers[z], (0, 0), self._mask(z))
            self._frame = out.tobytes()
        return self._frame

    def _mask(self, z: int) -> Image.Image:
        mask = self._masks.get(z)
        if mask is None:
            red, green, blue = self._layers[z].split()
            mask = self._masks[z] = ImageChops.lighter(ImageChops.lighter(red, green), blue).point(_OPAQUE)
        return mask
