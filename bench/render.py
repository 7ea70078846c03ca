"""`python -m bench.render`: what crisp text costs the render workers, beside today's rendering.

In-process, on the same inputs, sample by sample in alternation (the render
workers' code path: `kinds.render`, nothing else). Each figure is one text
job's render time in ms:

- short / long text: the bitmap fonts (`font: auto`, the default) against
  `sans`, Pillow's anti-aliased font, the default before them;
- a text with an animated icon (its frame times merged with the scroll's)
  against the same text without it;
- a fallback-heavy line (Japanese and Korean in a Latin font, drawn from
  Unifont) against `sans` (which draws no CJK at all).

Then memory, each in a fresh process: PSS before and after 100 jobs of each
kind, for a render worker (fonts load lazily, once, and are shared by every
job after: "after" must not grow with the jobs) and for the display process
(it draws the clock's face with the same fonts).
"""

import io
import json
import subprocess
import sys
import time

from PIL import Image

from pixie import config as configuration
from pixie import spec
from pixie.render import kinds
from pixie.render.assets import NONE, Assets

from .harness import cli, machine, side_by_side, summaries

SIZES = {"full": {"samples": 100, "jobs": 100}, "smoke": {"samples": 3, "jobs": 3}}
SHORT = "Hi 12°C"
LONG = "The washing machine is done: take the laundry out before it starts to smell"
CJK = "会議は3時から 회의는 3시에 The meeting is at 3"


def _icon_gif() -> bytes:
    """An 8x8 two-frame icon, 200 ms a frame: AWTRIX's size."""
    frames = [Image.new("RGB", (8, 8), color) for color in ("red", "blue")]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=200, loop=0)
    return out.getvalue()


ICONS = Assets(icons={"bell": _icon_gif()})
# figure -> (baseline job, pixie job, pixie's assets)
CASES = {
    "short text": ({"text": SHORT, "font": "sans"}, {"text": SHORT}, None),
    "long text (scrolls)": ({"text": LONG, "font": "sans"}, {"text": LONG}, None),
    "text + animated icon": ({"text": LONG}, {"text": LONG, "icon": "bell"}, ICONS),
    "CJK line (fallback)": ({"text": CJK, "font": "sans"}, {"text": CJK, "font": "6x13"}, None),
}
W, H = 64, 32


def _render_ms(job: dict, assets: Assets | None) -> float:
    parsed = spec.parse({"kind": "text", **job})
    limits = configuration.Render()
    start = time.perf_counter()
    kinds.render(parsed, None, W, H, limits, assets=assets or NONE)
    return (time.perf_counter() - start) * 1000


# A fresh process: PSS after its imports, then after `jobs` renders of every case (or clock faces).
MEMORY_PROBE = """
import json, sys, time
from pathlib import Path

def pss():
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return round(int(line.split()[1]) / 1024, 1)

role, jobs = sys.argv[1], int(sys.argv[2])
if role == "worker":
    import pixie.jobs
    from bench.render import CASES, _render_ms
    before = pss()
    for _ in range(jobs):
        for baseline, job, assets in CASES.values():
            _render_ms(job, assets)
else:
    import pixie.display.process
    from pixie.render import faces
    before = pss()
    for i in range(jobs):
        faces.clock(64, 32, time.time() + 60 * i)
print(json.dumps({"before": before, "after": pss()}))
"""


def memory(role: str, jobs: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, role, str(jobs)], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out)


def main() -> None:
    args = cli(__doc__)
    sizes = SIZES["smoke" if args.smoke else "full"]
    samples: dict = {}
    for figure, (baseline, job, assets) in CASES.items():
        _render_ms(baseline, None)  # fonts and icons loaded: both warm
        _render_ms(job, assets)
        for _ in range(sizes["samples"]):
            samples.setdefault(f"{figure} ms", {}).setdefault("baseline", []).append(_render_ms(baseline, None))
            samples[f"{figure} ms"].setdefault("pixie", []).append(_render_ms(job, assets))
    figures = summaries(samples)
    pss = {role: memory(role, sizes["jobs"]) for role in ("worker", "display")}
    report = {"machine": machine(), "figures": figures, "pss_mb": pss, "jobs_per_role": sizes["jobs"]}
    (args.out / "render.json").write_text(json.dumps(report, indent=2))
    side_by_side(figures, label="bitmap")
    for role, mb in pss.items():
        print(f"{role + ' PSS MB':<28}{'before ' + str(mb['before']):>17}{'':>18}{'after ' + str(mb['after']):>15}")


if __name__ == "__main__":
    main()
