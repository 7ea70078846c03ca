"""The README's benchmark table and chart from one `python -m bench` run (`make bench-readme`): the table
between the README's two markers is written again from bench.json, and bench.png is copied to docs/, so
the figures people read are one run's, never numbers edited by hand. A section is one run's place:
`bench` (make bench's, artifacts/bench/) or `bench-pi3` (make bench-pi3's, artifacts/bench-pi3/)."""

import argparse
import json
import shutil
from pathlib import Path

from .chart import CONFIGS, RATIOS, ratios

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("bench", "bench-pi3")


def markers(section: str) -> tuple[str, str]:
    """The README's two lines that a section's table is written between."""
    return (
        f"<!-- {section} table: written by python -m bench.readme from one run; do not edit -->",
        f"<!-- /{section} table -->",
    )


def markdown(report: dict) -> str:
    """Each figure's median and p99, each with its 95% interval, per configuration, then the ratios."""
    m = report["machine"]
    load = f"load {m['load_before'][0]} as it began, {m['load_after'][0]} at its end" if "load_before" in m else ""
    lines = [
        f"Measured by one `python -m bench` run ({report['size']} sizes) on {m['cpu']}, {m['cores']} cores, "
        f"{load}; ms unless said, median [95 % interval] / p99 [95 % interval]:",
        "",
        "| figure | " + " | ".join(CONFIGS) + " | " + " | ".join(f"{r} median / p99" for r in RATIOS) + " |",
        "| --- " * (1 + len(CONFIGS) + len(RATIOS)) + "|",
    ]
    figure_ratios = ratios(report["figures"])
    for name, per in report["figures"].items():
        n = max(s["n"] for s in per.values())
        cells = [_stats(per[c]) if c in per else "-" for c in CONFIGS]
        times = [_times(figure_ratios.get(name, {}).get(r)) for r in RATIOS]
        lines.append(f"| {name.removesuffix('_ms').replace('_', ' ')} (n={n}) | " + " | ".join(cells + times) + " |")
    sizes = report["sizes"]
    lines.append(_row(f"frames late > 5 ms (of {sizes['animation_frames'] * sizes['animation_plays']})",
                      report["late_frames"]))  # fmt: skip
    for workers in report["throughput_jobs_per_s"]["baseline"]:
        rates = {c: rate[workers] for c, rate in report["throughput_jobs_per_s"].items()}
        lines.append(_row(f"throughput, {workers} worker(s), jobs/s", rates))
    for phase, per in report["cpu_ms_per_job"].items():
        totals = {c: round(sum(v.values()), 1) for c, v in per.items()}
        lines.append(_row(f"CPU ms per {phase} job, all processes", totals))
    lines.append(_row("display CPU ms per frame (pacing)", report["display_cpu_ms_per_frame"]))
    stages = report["stages_cold_ms"]
    for stage in stages["pixie"]:  # in harness.STAGES' order
        lines.append(_row(f"cold job {stage}, median ms after its POST", {c: per[stage] for c, per in stages.items()}))
    pss = {c: round(sum(p["pss_mb"] for p in procs.values()), 1) for c, procs in report["memory_mb"].items()}
    lines.append(_row("memory after the run, PSS MB (all processes incl. Redis)", pss))
    return "\n".join(lines)


def _stats(s: dict) -> str:
    if s["median"] is None:
        return "-"
    return f"{s['median']} [{_span(s['median_ci'])}] / {s['p99']} [{_span(s['p99_ci'])}]"


def _span(ci) -> str:
    return f"{ci[0]}–{ci[1]}"


def _times(ratio: dict | None) -> str:
    return "-" if not ratio else f"{ratio['median']}× / {ratio['p99']}×"


def _row(name: str, values: dict) -> str:
    return f"| {name} | " + " | ".join(str(values.get(c, "-")) for c in CONFIGS) + " |" + " |" * len(RATIOS)


def update(readme: Path, report: dict, section: str) -> None:
    begin, end = markers(section)
    text = readme.read_text()
    head, found_begin, rest = text.partition(begin)
    _, found_end, tail = rest.partition(end)
    if not found_begin or not found_end:
        raise SystemExit(f"{readme}: no {begin!r} … {end!r} markers to write the table between")
    readme.write_text(f"{head}{begin}\n{markdown(report)}\n{end}{tail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--section", choices=SECTIONS, default="bench", help="whose run, and where it goes")
    parser.add_argument("--run", type=Path, help="its bench.json, bench.png (default: artifacts/SECTION)")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    run = args.run or ROOT / "artifacts" / args.section
    update(args.readme, json.loads((run / "bench.json").read_text()), args.section)
    chart = args.docs / f"{args.section}.png"
    shutil.copyfile(run / "bench.png", chart)
    print(f"wrote the table into {args.readme} and {chart}")


if __name__ == "__main__":
    main()
