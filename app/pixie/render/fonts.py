"""The fonts text is drawn in."""

from PIL import ImageFont


def font(name: str, size: int | None, height: int):
    if name == "pixel":
        return ImageFont.load_default_imagefont()
    return ImageFont.load_default(size or max(8, height // 2))
