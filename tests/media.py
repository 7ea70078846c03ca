"""Test media made on the fly with Pillow (nothing binary is committed)."""

import io
import struct
import zlib

from PIL import Image, ImageDraw


def still(fmt: str = "PNG", color=(255, 0, 0), size=(128, 64)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt)
    return out.getvalue()


def disc_icon(color=(255, 255, 0), size=8) -> bytes:
    """A PNG icon: a disc of `color` on a transparent ground."""
    image = Image.new("RGBA", (size, size))
    ImageDraw.Draw(image).ellipse((0, 0, size - 1, size - 1), fill=(*color, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def animated(fmt: str = "GIF", colors=((255, 0, 0), (0, 255, 0), (0, 0, 255)), delay_ms=50, size=(64, 32)) -> bytes:
    frames = [Image.new("RGB", size, c) for c in colors]
    out = io.BytesIO()
    frames[0].save(out, fmt, save_all=True, append_images=frames[1:], duration=delay_ms, loop=0, lossless=True)
    return out.getvalue()


def png_bomb(width=60_000, height=60_000) -> bytes:
    """A valid PNG header claiming a huge image over a few bytes of data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def multipart(fields: dict, file: bytes, filename="upload.bin", content_type="application/octet-stream"):
    """(body, content-type header) of a multipart/form-data request."""
    boundary = "pixie-test-boundary"
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
        + file
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
