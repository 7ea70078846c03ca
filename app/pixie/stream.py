"""Frame streams: what render workers hand to the display process.

The layout follows hzeller's content streamer (`led-image-viewer -O file`):
a 32-byte file header (magic 0xED0C5A48, frame size, width, height), then per
frame a 32-byte header (magic 0x12345678, size, hold time in µs) and the
frame. Unlike upstream, a frame here is plain RGB24 rows, not the library's
internal bit planes, so any back-end (and a person) can read it.

A recording (the headless back-end's log of what the panel showed) uses the
same frame header with the swap time in ns since the epoch instead of the
hold time.
"""

import struct
from dataclasses import dataclass

FILE_MAGIC = 0xED0C5A48
FRAME_MAGIC = 0x12345678
_FILE = struct.Struct("<IIII16x")
_FRAME = struct.Struct("<IIQ16x")


@dataclass(frozen=True)
class Stream:
    width: int
    height: int
    frames: list[bytes]
    hold_us: list[int]

    @property
    def total_us(self) -> int:
        return sum(self.hold_us)


def pack(width: int, height: int, frames: list[tuple[bytes, int]]) -> bytes:
    """`frames` is a list of (rgb bytes, hold time in µs)."""
    size = width * height * 3
    parts = [_FILE.pack(FILE_MAGIC, size, width, height)]
    for data, hold_us in frames:
        if len(data) != size:
            raise ValueError(f"frame has {len(data)} bytes, expected {size}")
        parts.append(_FRAME.pack(FRAME_MAGIC, size, hold_us))
        parts.append(data)
    return b"".join(parts)


def unpack(blob: bytes) -> Stream:
    magic, size, width, height = _FILE.unpack_from(blob, 0)
    if magic != FILE_MAGIC or size != width * height * 3:
        raise ValueError("not a pixie frame stream")
    return Stream(width, height, *unpack_frames(blob, width, height, offset=_FILE.size))


def frame_span(width: int, height: int, first: int, count: int) -> tuple[int, int]:
    """Where frames first .. first+count-1 lie in a stream: (start, end), both inclusive, as GETRANGE takes
    them; past its end, whatever of them there is."""
    record = _FRAME.size + width * height * 3
    start = _FILE.size + first * record
    return start, start + count * record - 1


def unpack_frames(data: bytes, width: int, height: int, offset: int = 0) -> tuple[list[bytes], list[int]]:
    """Frames and hold times of a frame_span's bytes (or of a stream's, from past its header)."""
    frames, holds = [], []
    for _, frame, hold in _frames(data, offset, width * height * 3):
        frames.append(frame)
        holds.append(hold)
    return frames, holds


def record_header(size: int, swap_ns: int) -> bytes:
    return _FRAME.pack(FRAME_MAGIC, size, swap_ns)


def read_recording(blob: bytes) -> list[tuple[int, bytes]]:
    """(swap time ns, rgb bytes) for every frame in a headless recording."""
    if not blob:
        return []
    size = _FRAME.unpack_from(blob, 0)[1]
    # The display may be mid-write: a partial last record is not a frame yet.
    whole = len(blob) - len(blob) % (_FRAME.size + size)
    return [(ns, data) for _, data, ns in _frames(blob[:whole], 0, size)]


def _frames(blob: bytes, offset: int, size: int):
    while offset < len(blob):
        magic, frame_size, value = _FRAME.unpack_from(blob, offset)
        if magic != FRAME_MAGIC or frame_size != size:
            raise ValueError(f"bad frame header at byte {offset}")
        start = offset + _FRAME.size
        data = blob[start : start + size]
        if len(data) != size:
            raise ValueError(f"truncated frame at byte {offset}")
        yield offset, data, value
        offset = start + size
