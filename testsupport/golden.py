"""Pictures tested as pictures: a rendering against tests/golden/<name>.png, pixel for pixel.

On a mismatch the rendering (<name>.actual.png) and a diff (<name>.diff.png: the differing pixels red
over the expected picture, dimmed) are written to the test's output directory, and the failure names
both. `make golden` sets PIXIE_GOLDEN_UPDATE=1 to rewrite the PNGs instead: only on purpose, with the
change looked at before it is committed (CI never sets it).
"""

import os
from pathlib import Path

from PIL import Image, ImageChops

ROOT = Path(__file__).resolve().parent.parent
GOLDEN_DIR = ROOT / "tests" / "golden"
ARTIFACTS = ROOT / "artifacts" / "golden"  # where a mismatch is written when the test gives no directory
UPDATE = "PIXIE_GOLDEN_UPDATE"


def assert_golden(picture, name: str, size: tuple[int, int] | None = None, out_dir: Path | None = None) -> None:
    """`picture`: a PIL image, or an RGB24 frame of `size` (width, height)."""
    actual = picture.convert("RGB") if isinstance(picture, Image.Image) else Image.frombytes("RGB", size, picture)
    path = GOLDEN_DIR / f"{name}.png"
    if os.environ.get(UPDATE) == "1":
        GOLDEN_DIR.mkdir(exist_ok=True)
        actual.save(path)
        return
    assert path.exists(), f"no golden picture {path}: `make golden` writes it (look at it before committing it)"
    expected = Image.open(path).convert("RGB")
    if expected.size == actual.size and ImageChops.difference(expected, actual).getbbox() is None:
        return
    out = Path(out_dir or ARTIFACTS)
    out.mkdir(parents=True, exist_ok=True)
    actual_path, diff_path = out / f"{name}.actual.png", out / f"{name}.diff.png"
    actual.save(actual_path)
    diff, count = _diff(expected, actual)
    diff.save(diff_path)
    raise AssertionError(
        f"{name}: {count} pixels differ from {path} (expected {expected.size}, got {actual.size});"
        f" actual: {actual_path}, diff: {diff_path}"
    )


def _diff(expected: Image.Image, actual: Image.Image) -> tuple[Image.Image, int]:
    """The expected picture dimmed, the pixels that differ red (both padded to the larger size)."""
    size = (max(expected.width, actual.width), max(expected.height, actual.height))
    padded = [Image.new("RGB", size), Image.new("RGB", size)]
    padded[0].paste(expected)
    padded[1].paste(actual)
    differs = ImageChops.difference(*padded).convert("L").point(lambda v: 255 if v else 0)
    if expected.size != actual.size:  # outside either picture differs too
        outside = Image.new("L", size, 255)
        outside.paste(0, (0, 0, min(expected.width, actual.width), min(expected.height, actual.height)))
        differs = ImageChops.lighter(differs, outside)
    diff = padded[0].point(lambda v: v // 4)
    diff.paste((255, 0, 0), mask=differs)
    return diff, differs.histogram()[255]
