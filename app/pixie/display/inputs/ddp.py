"""DDP, the Distributed Display Protocol (3waylabs.com/ddp), as WLED, LedFx and xLights send it on UDP 4048.

A datagram is a 10-byte header, 4 bytes of timecode when its flag is set (read past, not used), then the data:

    byte 0    flags: VV.TSRQP: version (01 = v1, required), Timecode, Storage, Reply, Query, Push
    byte 1    sequence number (low 4 bits; ignored: UDP on a LAN rarely reorders, and a late packet only
              rewrites a few pixels that the next frame rewrites again)
    byte 2    data type CRTTTSSS: Custom, Reserved, TTT type (0 undefined, 1 RGB), SSS bits (0 undefined,
              3 = 8 bits per channel, 5 = 24 bits per pixel)
    byte 3    destination id
    4..7      data offset in bytes, 32-bit big-endian
    8..9      data length, 16-bit big-endian

Accepted: version 1; data types that say RGB or leave it undefined: TTT 0 or 1 with SSS 0, 1, 3 or 5 (0x0B is
the spec's RGB 8-bit that WLED sends, 0x0D ddp-rs's 24-bit pixel, 0x00 and 0x01 older senders' "RGB"), refused
otherwise (custom types, HSL, RGBW, grayscale, other depths); destination 1 (the default output: the display)
or 255 (all devices), refused otherwise (the spec's control, config, status, DMX and custom ids); query and reply
packets refused (Pixie answers nothing); a storage packet refused unless it also pushes, as WLED does. The
datagram must hold the length's bytes; bytes past them are ignored.

Mapping: DDP pixel p = offset/3 + i (offsets are bytes, so a packet may end mid-pixel and the next finish it);
the panel pixel shown is p - start, row by row from the top left, every other row right to left when
serpentine; data outside the panel is dropped. Pixels keep their value until written again.

Push: a packet with the push flag shows the frame. A sender that never pushes (some send one packet per frame
and leave the flag clear) gets every packet shown, until its first push; from then on only pushes show, as
WLED does (its `ddpSeenPush`).
"""

from dataclasses import dataclass

HEADER = 10
TIMECODE = 4
_VERSION_MASK, _VERSION_1 = 0xC0, 0x40
_TIMECODE, _STORAGE, _REPLY, _QUERY, _PUSH = 0x10, 0x08, 0x04, 0x02, 0x01
_DESTINATIONS = {1, 255}
_TYPES = {0, 1}  # TTT: undefined, RGB
_SIZES = {0, 1, 3, 5}  # SSS: undefined, (legacy 0x01), 8 bits per channel, 24 bits per pixel


class Malformed(ValueError):
    """A datagram that is not DDP RGB data for the display; str() is a short reason, counted by the receiver."""


@dataclass(frozen=True)
class Packet:
    offset: int
    data: bytes
    push: bool


def parse(datagram: bytes) -> Packet:
    """The RGB data a datagram carries; Malformed (and nothing else) for anything else."""
    data = bytes(datagram)
    if len(data) < HEADER:
        raise Malformed("truncated header")
    flags, _sequence, kind, destination = data[0], data[1], data[2], data[3]
    if flags & _VERSION_MASK != _VERSION_1:
        raise Malformed("not DDP version 1")
    if flags & (_QUERY | _REPLY):
        raise Malformed("query or reply")
    push = bool(flags & _PUSH)
    if flags & _STORAGE and not push:
        raise Malformed("storage")
    if kind & 0x80 or (kind >> 3) & 0x07 not in _TYPES or kind & 0x07 not in _SIZES:
        raise Malformed("not RGB 8-bit")
    if destination not in _DESTINATIONS:
        raise Malformed("not the display")
    start = HEADER + (TIMECODE if flags & _TIMECODE else 0)
    length = int.from_bytes(data[8:10], "big")
    if len(data) < start + length:
        raise Malformed("truncated")
    return Packet(int.from_bytes(data[4:8], "big"), data[start : start + length], push)


class Canvas:
    """The panel's pixels as DDP addresses them; put() returns the frame to show, or None."""

    def __init__(self, width: int, height: int, serpentine: bool = False, start: int = 0):
        self.width, self.height, self.serpentine, self.start = width, height, serpentine, start
        self._pixels = bytearray(width * height * 3)  # in DDP order: panel pixel n is DDP pixel start + n
        self._seen_push = False

    def put(self, packet: Packet) -> bytes | None:
        at = packet.offset - self.start * 3  # the packet's first byte in _pixels
        begin, end = max(at, 0), min(at + len(packet.data), len(self._pixels))
        if begin < end:
            self._pixels[begin:end] = packet.data[begin - at : end - at]
        self._seen_push |= packet.push
        if packet.push or not self._seen_push:
            return self.frame()
        return None

    def frame(self) -> bytes:
        """The RGB24 frame, rows from the top, width*height*3 bytes."""
        if not self.serpentine:
            return bytes(self._pixels)
        out = bytearray(self._pixels)
        stride = self.width * 3
        for row in range(stride, len(out), 2 * stride):  # rows 1, 3, 5, ... run right to left
            backwards = self._pixels[row : row + stride][::-1]  # pixels reversed, each as B, G, R
            out[row : row + stride : 3] = backwards[2::3]
            out[row + 1 : row + stride : 3] = backwards[1::3]
            out[row + 2 : row + stride : 3] = backwards[0::3]
        return bytes(out)
