"""Progress bars: AWTRIX's line under a text, and the `progress` kind's bar with a still line above it.

AWTRIX draws its bar on the bottom row of its 8, from the icon's right edge (x 8, or 0 without one) to the
panel's, filled `progress * width // 100` pixels from the left. Pixie keeps that geometry on any panel,
the rows scaled as its indicators are: an eighth of the height (4 rows on a 32-row panel, 1 on AWTRIX's 8).
"""

from PIL import Image, ImageDraw

from . import fonts, icons
from .assets import NONE, Assets
from .frames import Frames

KIND_SHARE = 4  # the progress kind's bar: a quarter of the panel's height


def under_text_rows(height: int) -> int:
    """The rows a text's progress bar takes at the bottom: AWTRIX's one row of 8, scaled."""
    return max(1, height // 8)


def draw(image: Image.Image, box: tuple[int, int, int, int], percent: int, color: str, background: str) -> None:
    """A bar in `box` (x, y, width, height): `percent` of its width filled from the left in whole pixels
    (rounded down, as AWTRIX does), the rest `background`."""
    x, y, w, h = box
    if w <= 0 or h <= 0:
        return
    pen = ImageDraw.Draw(image)
    pen.rectangle((x, y, x + w - 1, y + h - 1), fill=background)
    if filled := percent * w // 100:
        pen.rectangle((x, y, x + filled - 1, y + h - 1), fill=color)


def progress_frames(spec, width: int, height: int, assets: Assets = NONE) -> Frames:
    """The progress kind: the icon at the left (the panel's height), the bar from its right edge; a text
    above the bar, else the bar alone across the middle."""
    icon = icons.line_icon(spec, assets, height, width)
    left, slot = icons.width(icon), icons.slot(icon)
    image = Image.new("RGB", (width, height), spec.background)
    rows = max(1, height // KIND_SHARE)
    if spec.text:
        lines = [[(line, spec.color)] for line in spec.text.split("\n")]
        area = Image.new("RGB", (width - slot, height - rows), spec.background)  # the text clipped to its area
        face = fonts.fit(lines, area.width, area.height)
        fonts.draw_lines(area, [fonts.runs(line, face) for line in lines], face, (0, 0, area.width, area.height))
        image.paste(area, (slot, 0))
        top = height - rows
    else:
        top = (height - rows) // 2
    draw(image, (left, top, width - left, rows), spec.progress, spec.progress_color, spec.progress_bg)
    return icons.over(image, icon)
