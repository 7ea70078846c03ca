"""A job's fields rendered in-process on the render workers' code path (no appliance), for picture tests."""

from PIL import Image

from pixie import spec as specs
from pixie.config import Render
from pixie.render import kinds
from pixie.render.assets import NONE


def frames(width: int, height: int, assets=NONE, **fields):
    return kinds.render(specs.parse(fields, strict=True), None, width, height, Render(), assets=assets)


def still(width: int, height: int, assets=NONE, **fields) -> Image.Image:
    """The one frame of a still."""
    [(frame, _)] = frames(width, height, assets, **fields)
    return Image.frombytes("RGB", (width, height), frame)
