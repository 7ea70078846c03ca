"""Senders of live UDP frames for the tests and the benchmarks, written from each protocol's documentation, not
from Pixie's receivers (nothing here imports pixie):

- FlaschenTaschen: hzeller/flaschen-taschen doc/protocols.md: one binary PPM (P6, maxval 255) per datagram, its
  offset and layer as the documented footer of decimal numbers after the pixel data (or, with `comment=True`, as
  the `#FT: x y z` comment in the header).
- DDP: the Distributed Display Protocol, 3waylabs.com/ddp: a 10-byte header (flags with version 1 and push,
  sequence number 1..15, data type 0x0B = RGB 8 bits per channel, destination 1 = the default output, byte offset
  32-bit and data length 16-bit big-endian), up to 1440 data bytes per datagram, push on the last.
"""

import itertools
import socket

from PIL import Image

DDP_CHUNK = 1440  # 480 RGB pixels: the data a datagram carries within an Ethernet MTU


def flaschen_taschen_datagram(image, x: int = 0, y: int = 0, z: int = 0, comment: bool = False) -> bytes:
    """A PIL image, or rows of (r, g, b), as one FlaschenTaschen datagram placed at (x, y) on layer z."""
    if isinstance(image, Image.Image):
        width, height, rgb = image.width, image.height, image.convert("RGB").tobytes()
    else:
        rows = [list(row) for row in image]
        width, height = len(rows[0]), len(rows)
        rgb = bytes(channel for row in rows for pixel in row for channel in pixel)
    if comment:
        return b"P6\n%d %d\n#FT: %d %d %d\n255\n" % (width, height, x, y, z) + rgb
    return b"P6\n%d %d\n255\n" % (width, height) + rgb + b"%d\n%d\n%d\n" % (x, y, z)


def _send(host: str, port: int, datagrams: list[bytes]) -> None:
    family, kind, _proto, _name, address = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
    with socket.socket(family, kind) as sock:
        for datagram in datagrams:
            sock.sendto(datagram, address)


def send_flaschen_taschen(host: str, port: int, image, x: int = 0, y: int = 0, z: int = 0, comment: bool = False):
    _send(host, port, [flaschen_taschen_datagram(image, x, y, z, comment)])


_sequence = itertools.cycle(range(1, 16))  # DDP's sequence numbers run 1..15 (0 means unused)


def ddp_datagram(data: bytes, offset: int = 0, push: bool = True, timecode: int | None = None) -> bytes:
    flags = 0x40 | (0x01 if push else 0) | (0x10 if timecode is not None else 0)
    header = bytes([flags, next(_sequence), 0x0B, 1]) + offset.to_bytes(4, "big") + len(data).to_bytes(2, "big")
    return header + (timecode.to_bytes(4, "big") if timecode is not None else b"") + data


def ddp_datagrams(rgb: bytes, offset: int = 0, push: bool = True, chunk: int = DDP_CHUNK) -> list[bytes]:
    """A frame's bytes (starting at byte `offset`) as DDP datagrams of up to `chunk` bytes, push on the last."""
    starts = range(0, len(rgb), chunk) if rgb else [0]
    return [ddp_datagram(rgb[at : at + chunk], offset + at, push and at == starts[-1]) for at in starts]


def send_ddp(host: str, port: int, rgb: bytes, offset: int = 0, push: bool = True, chunk: int = DDP_CHUNK):
    _send(host, port, ddp_datagrams(rgb, offset, push, chunk))
