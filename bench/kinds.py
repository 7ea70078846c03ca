"""`python -m bench.kinds`: what each job kind, text effect, animated background and overlay costs a render worker.

In-process, on the render workers' code path: `kinds.render` on a 64x32 panel, timed with perf_counter_ns
around that call alone (the spec parsed and the file decoded before, as the worker does). Each figure is
one job's render time in ms, every renderer warmed up once first (fonts and numpy load once per worker).

The baseline, in the same run: a plain short text ("12:34", no effect) rendered the same way just before
each measured render, round by round across all figures, so that machine noise hits both alike. The
effects and overlays are drawn on that same text: their ratio to the baseline is what they add.
"""

import base64
import io
import json
import statistics
import time

from PIL import Image

from pixie import config as configuration
from pixie import spec
from pixie.render import kinds

from .harness import _gif, cli, machine, summaries

SIZES = {"full": {"renders": 100}, "smoke": {"renders": 3}}
W, H = 64, 32
BASELINE = {"kind": "text", "text": "12:34"}
LONG = "The washing machine is done: take the laundry out before it starts to smell"


def _photo() -> bytes:
    """A 640x480 JPEG with detail in it (a phone picture scaled down): decoded and resized by every render."""
    size = (640, 480)
    bands = [Image.linear_gradient("L").resize(size), Image.effect_noise(size, 40)]
    bands.append(Image.radial_gradient("L").resize(size))
    out = io.BytesIO()
    Image.merge("RGB", bands).save(out, "JPEG", quality=85)
    return out.getvalue()


def cases() -> dict[str, tuple[dict, bytes | None]]:
    """figure -> (job, its file): every kind, then each text effect, animated background and overlay on the
    baseline's text."""
    gif = base64.b64decode(_gif([(40 + 10 * i, 255 - 10 * i, 128) for i in range(20)], 100))
    jobs = {
        "text (scrolls)": ({"kind": "text", "text": LONG}, None),
        "image (640x480 JPEG)": ({"kind": "image", "fit": "fill"}, _photo()),
        "animation (20-frame GIF)": ({"kind": "animation"}, gif),
        "fill": ({"kind": "fill", "color": "#ff8000"}, None),
        "clear": ({"kind": "clear"}, None),
        "pattern": ({"kind": "pattern", "pattern": "grid"}, None),
        "demo": ({"kind": "demo", "n": 3}, None),
        "clock": ({"kind": "clock", "timezone": "Europe/Berlin"}, None),
        "countdown (10 faces)": ({"kind": "countdown", "to": "2099-01-01T00:00:00+00:00"}, None),
        "draw": (
            {
                "kind": "draw",
                "draw": [
                    {"op": "filled_circle", "x": 10, "y": 16, "r": 8, "color": "#ffd000"},
                    {"op": "line", "x0": 0, "y0": 31, "x1": 63, "y1": 0, "color": "#0080ff"},
                    {"op": "rect", "x": 20, "y": 4, "w": 40, "h": 24, "color": "#ff0000"},
                    {"op": "text", "x": 24, "y": 12, "text": "Hello", "color": "#00ff00", "font": "4x6"},
                ],
            },
            None,
        ),
        "progress": ({"kind": "progress", "progress": 40, "text": "Print"}, None),
        "chart": ({"kind": "chart", "values": [3, 4, 6, 5, 7, 9, 8], "style": "line", "min": 0}, None),
        "layout (marquee)": (spec.ENERGY_LAYOUT, None),
        "text blink": ({**BASELINE, "blink_ms": 500}, None),
        "text fade": ({**BASELINE, "fade_ms": 1000}, None),
        "text rainbow": ({**BASELINE, "rainbow": True}, None),
        "text gradient": ({**BASELINE, "gradient": ["#ff0000", "#0000ff"]}, None),
    }
    jobs |= {f"effect {name}": ({**BASELINE, "effect": name}, None) for name in spec.EFFECTS}
    jobs |= {f"overlay {name}": ({**BASELINE, "overlay": name}, None) for name in spec.OVERLAYS}
    return jobs


class Job:
    """One job as a render worker holds it before rendering: parsed, its file decoded."""

    limits = configuration.Render()

    def __init__(self, job: dict, data: bytes | None):
        self.spec, self.data = spec.parse(job), data

    def render(self) -> tuple[float, int]:
        """(ms, frames) of one render."""
        start = time.perf_counter_ns()
        frames = kinds.render(self.spec, self.data, W, H, self.limits, time.time())
        return (time.perf_counter_ns() - start) / 1e6, len(frames)


def table(figures: dict, frames: dict) -> str:
    lines = [f"{'figure':<28}{'median ms':>11}{'p95':>9}{'baseline median':>17}{'ratio':>8}{'frames':>8}"]
    for name, per in figures.items():
        job, base = per["job"], per["baseline"]
        row = f"{job['median']:>11}{job['p95']:>9}{base['median']:>17}{per['ratio']:>8}{frames[name]:>8}"
        lines.append(f"{name:<28}{row}")
    return "\n".join(lines)


def main() -> None:
    args = cli(__doc__)
    sizes = SIZES["smoke" if args.smoke else "full"]
    baseline = Job(BASELINE, None)
    jobs = {name: Job(job, data) for name, (job, data) in cases().items()}
    baseline.render()
    frames = {name: job.render()[1] for name, job in jobs.items()}  # once first: a worker loads fonts, numpy once
    samples: dict = {name: {"job": [], "baseline": []} for name in jobs}
    for _ in range(sizes["renders"]):
        for name, job in jobs.items():
            samples[name]["baseline"].append(baseline.render()[0])
            samples[name]["job"].append(job.render()[0])
    figures = summaries(samples)
    for name, per in samples.items():  # from the unrounded medians: a fill takes µs
        figures[name]["ratio"] = round(statistics.median(per["job"]) / statistics.median(per["baseline"]), 2)
    report = {
        "machine": machine(),
        "sizes": sizes,
        "panel": f"{W}x{H}",
        "baseline": BASELINE,
        "frames": frames,
        "figures": figures,
        "samples": samples,
    }
    (args.out / "kinds.json").write_text(json.dumps(report, indent=2))
    print(table(figures, frames))
    print(f"baseline: {BASELINE['text']!r}, a plain text, rendered just before each measured render")
    print(f"wrote {args.out / 'kinds.json'}")


if __name__ == "__main__":
    main()
