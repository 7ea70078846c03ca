"""The benchmark report for people: a table with each median and p99's 95% interval and the
baseline/pixie and pixie/floor ratios per figure, and one PNG with the latency distributions (notches:
the median's interval; a bar: the p99 and its interval) and the pacing error."""

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

CONFIGS = ("baseline", "pixie", "floor")
COLORS = {"baseline": "#c0504d", "pixie": "#4f81bd", "floor": "#9bbb59"}
RATIOS = {"baseline/pixie": ("baseline", "pixie"), "pixie/floor": ("pixie", "floor")}
STATS = ("median", "p95", "p99")


def ratios(figures: dict) -> dict:
    """{figure: {"baseline/pixie" and "pixie/floor", where both were measured: {stat: ratio}}}."""
    return {
        name: {label: {stat: _ratio(per[a][stat], per[b][stat]) for stat in STATS} for label, (a, b) in pairs}
        for name, per in figures.items()
        if (pairs := [(label, (a, b)) for label, (a, b) in RATIOS.items() if a in per and b in per])
    }


def _ratio(a, b) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def table(report: dict) -> str:
    rows = [f"{'figure':<34} {'stat':<7}" + "".join(f"{c:>22}" for c in CONFIGS) + "".join(f"{r:>15}" for r in RATIOS)]

    def row(name, stat, values: dict, ratio: dict | None = None):
        """`ratio`: {label: ratio}; by default the ratios of the values (where both were measured)."""
        cells = "".join(f"{values.get(config, '-'):>22}" for config in CONFIGS)
        if ratio is None:
            ratio = {r: _ratio(values[a], values[b]) for r, (a, b) in RATIOS.items() if a in values and b in values}
        rows.append(f"{name:<34} {stat:<7}{cells}" + "".join(f"{_times(ratio.get(r)):>15}" for r in RATIOS))

    figure_ratios = ratios(report["figures"])
    for name, per in report["figures"].items():
        for stat in STATS:
            values = {config: _fmt(s[stat]) + _interval(s.get(f"{stat}_ci")) for config, s in per.items()}
            row(name, stat, values, {r: figure_ratios.get(name, {}).get(r, {}).get(stat) for r in RATIOS})
        row("", "n", {config: s["n"] for config, s in per.items()}, {})
    sizes = report["sizes"]
    late = report["late_frames"]
    frames = sizes["animation_frames"] * sizes["animation_plays"]
    row(f"frames late > 5 ms (of {frames})", "count", late)
    rates = report["throughput_jobs_per_s"]
    for workers in rates["baseline"]:
        row(f"throughput, {workers} worker(s)", "jobs/s", {config: rate[workers] for config, rate in rates.items()})
    for phase, per in report["cpu_ms_per_job"].items():
        row(f"CPU ms per {phase} job, all processes", "total", {c: round(sum(ms.values()), 2) for c, ms in per.items()})
        for config, procs in per.items():
            rows.append(f"  {config}: " + ", ".join(f"{name} {ms:.2f}" for name, ms in procs.items()))
    row("display CPU ms per frame (pacing)", "ms", report["display_cpu_ms_per_frame"])
    stages = report["stages_cold_ms"]
    for stage in stages["pixie"]:  # in harness.STAGES' order
        row(f"cold job {stage}, median ms after POST", "ms", {c: per[stage] for c, per in stages.items()}, {})
    memory = report["memory_mb"]
    for kind in ("rss_mb", "pss_mb"):
        totals = {config: round(sum(m[kind] for m in procs.values()), 1) for config, procs in memory.items()}
        row(f"memory {kind[:3].upper()} MB, all processes", "total", totals)
    for config, procs in memory.items():
        parts = ", ".join(f"{name} {m['pss_mb']:.0f}" for name, m in procs.items())
        rows.append(f"  {config} PSS MB: {parts}")
    return "\n".join(rows)


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.1f}" if isinstance(value, float) else str(value)


def _interval(ci) -> str:
    return f" [{ci[0]:.1f}, {ci[1]:.1f}]" if ci else ""


def _times(ratio) -> str:
    return "-" if ratio is None else f"{ratio:.2g}x"


def draw(report: dict, path) -> None:
    samples, figures = report["samples"], report["figures"]
    figure, axes = plt.subplots(1, 3, figsize=(19, 5), gridspec_kw={"width_ratios": [2.2, 1, 1]})
    latency = [name for name in samples if name.startswith("latency")]
    ax = axes[0]
    width = 0.8 / len(CONFIGS)
    for k, config in enumerate(CONFIGS):
        names = [name for name in latency if config in samples[name]]
        x = [latency.index(name) + (k - (len(CONFIGS) - 1) / 2) * width for name in names]
        stats = [figures[name][config] for name in names]
        parts = ax.boxplot([samples[name][config] for name in names], positions=x, widths=width * 0.85,
                           patch_artist=True, notch=True, conf_intervals=[s["median_ci"] for s in stats],
                           showfliers=False)  # fmt: skip
        for box in parts["boxes"]:
            box.set_facecolor(COLORS[config])
        spread = [[s["p99"] - s["p99_ci"][0] for s in stats], [s["p99_ci"][1] - s["p99"] for s in stats]]
        ax.errorbar(x, [s["p99"] for s in stats], yerr=spread, fmt="v", color=COLORS[config], markersize=4, capsize=2)
    handles = [Patch(color=COLORS[c], label=c) for c in CONFIGS]
    ax.legend(handles=handles, title="notch: median 95% CI; ▼: p99 and its 95% CI", fontsize=8, title_fontsize=8)
    ax.set_yscale("log")
    ticks = [n.removeprefix("latency_").removesuffix("_ms").replace("first_frame_", "1st ") for n in latency]
    ax.set_xticks(range(len(latency)), ticks, rotation=20)
    ax.set_ylabel("POST → first frame (ms, log)")
    ax.set_title("Latency")
    ax = axes[1]
    for config, values in samples["pacing_error_ms"].items():
        errors = sorted(values)
        s = figures["pacing_error_ms"][config]
        label = f"{config}: median {s['median']}{_interval(s['median_ci'])}, p99 {s['p99']}{_interval(s['p99_ci'])}"
        ax.plot(errors, [(i + 1) / len(errors) for i in range(len(errors))], label=label, color=COLORS[config])
    ax.axvline(5, color="grey", linestyle=":", label="5 ms")
    ax.set_xscale("symlog", linthresh=1)
    ax.set_xlim(left=0)
    ax.set_xlabel("|swap time − intended| (ms)")
    ax.set_ylabel("fraction of frames")
    ax.set_title("Pacing of a 50 fps animation during a backlog")
    ax.legend(fontsize=8)
    ax = axes[2]
    rates = report["throughput_jobs_per_s"]
    workers = list(rates["baseline"])
    for offset, config in ((-0.2, "baseline"), (0.2, "pixie")):
        ax.bar([i + offset for i in range(len(workers))], [rates[config][w] for w in workers], 0.4, label=config,
               color=COLORS[config])  # fmt: skip
    ax.set_xticks(range(len(workers)), [f"{w} worker(s)" for w in workers])
    ax.set_ylabel("jobs / s")
    ax.set_title("Render throughput")
    ax.legend()
    machine = report["machine"]
    figure.suptitle(
        f"Pixie vs the original design and the floor — {machine['cpu']}, {machine['cores']} cores, "
        f"load {machine.get('load_before', ['?'])[0]} → {machine['load_after'][0]} (headless panel)"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)
