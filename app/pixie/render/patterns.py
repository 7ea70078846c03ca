"""The test patterns and the built-in demo."""

from PIL import Image, ImageDraw

from . import fonts


def pattern(name: str, width: int, height: int) -> Image.Image:
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    if name == "bars":
        colors = ["white", "yellow", "cyan", "lime", "magenta", "red", "blue", "black"]
        for i, color in enumerate(colors):
            draw.rectangle((i * width // 8, 0, (i + 1) * width // 8 - 1, height), fill=color)
    elif name == "gradient":
        for x in range(width):
            level = round(255 * x / max(1, width - 1))
            draw.line((x, 0, x, height // 3 - 1), fill=(level, 0, 0))
            draw.line((x, height // 3, x, 2 * height // 3 - 1), fill=(0, level, 0))
            draw.line((x, 2 * height // 3, x, height), fill=(0, 0, level))
    else:
        for x in range(0, width, 8):
            draw.line((x, 0, x, height), fill="white")
        for y in range(0, height, 8):
            draw.line((0, y, width, y), fill="white")
        draw.rectangle((0, 0, width - 1, height - 1), outline="red")
    return image


def countdown(i: int, n: int, width: int, height: int) -> Image.Image:
    """The built-in demo: the number over a bar that shrinks to zero."""
    image = pattern("gradient", width, height) if i == 0 else Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    digits = [(str(i), "white")]
    face = fonts.fit([digits], width, height - 4)  # above the bar
    fonts.draw_lines(image, [fonts.runs(digits, face)], face, (0, 0, width, height - 4))
    if i:
        draw.rectangle((0, height - 3, max(0, round(width * i / n) - 1), height - 1), fill=(0, 120, 255))
    return image
