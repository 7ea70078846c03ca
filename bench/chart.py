"""The benchmark report for people: a table with the baseline/pixie ratio per
figure, and one PNG with the latency distributions and the pacing error."""

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

CONFIGS = ("baseline", "pixie")
COLORS = {"baseline": "#c0504d", "pixie": "#4f81bd"}


def table(report: dict) -> str:
    rows = [f"{'figure':<28} {'stat':<7} {'baseline':>10} {'pixie':>10} {'baseline/pixie':>15}"]

    def row(name, stat, base, new):
        ratio = f"{base / new:.2g}x" if base is not None and new else "-"
        rows.append(f"{name:<28} {stat:<7} {_fmt(base):>10} {_fmt(new):>10} {ratio:>15}")

    for name, per in report["figures"].items():
        for stat in ("median", "p95", "p99"):
            row(name, stat, per["baseline"][stat], per["pixie"][stat])
        rows.append(f"{'':<28} {'n':<7} {per['baseline']['n']:>10} {per['pixie']['n']:>10}")
    late = report["late_frames"]
    row(f"frames late > 5 ms (of {report['sizes']['animation_frames']})", "count", late["baseline"], late["pixie"])
    for workers, base in report["throughput_jobs_per_s"]["baseline"].items():
        new = report["throughput_jobs_per_s"]["pixie"][workers]
        row(f"throughput, {workers} worker(s)", "jobs/s", base, new)
    memory = report["memory_mb"]
    totals = {
        config: {kind: sum(m[kind] for m in memory[config].values()) for kind in ("rss_mb", "pss_mb")}
        for config in CONFIGS
    }
    for kind in ("rss_mb", "pss_mb"):
        row(f"memory {kind[:3].upper()} MB, all processes", "total", totals["baseline"][kind], totals["pixie"][kind])
    for config in CONFIGS:
        parts = ", ".join(f"{name} {m['pss_mb']:.0f}" for name, m in memory[config].items())
        rows.append(f"  {config} PSS MB: {parts}")
    return "\n".join(rows)


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.1f}" if isinstance(value, float) else str(value)


def draw(report: dict, path) -> None:
    samples = report["samples"]
    figure, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    latency = [name for name in samples if name.startswith("latency")]
    ax = axes[0]
    positions = range(len(latency))
    for offset, config in ((-0.2, "baseline"), (0.2, "pixie")):
        data = [samples[name][config] for name in latency]
        parts = ax.boxplot(data, positions=[p + offset for p in positions], widths=0.35, patch_artist=True)
        for box in parts["boxes"]:
            box.set_facecolor(COLORS[config])
    ax.legend(handles=[Patch(color=COLORS[c], label=c) for c in CONFIGS])
    ax.set_yscale("log")
    ax.set_xticks(list(positions), [n.removeprefix("latency_").removesuffix("_ms") for n in latency], rotation=20)
    ax.set_ylabel("POST → first frame (ms, log)")
    ax.set_title("Latency")
    ax = axes[1]
    for config in CONFIGS:
        errors = sorted(samples["pacing_error_ms"][config])
        ax.plot(errors, [(i + 1) / len(errors) for i in range(len(errors))], label=config, color=COLORS[config])
    ax.axvline(5, color="grey", linestyle=":", label="5 ms")
    ax.set_xscale("symlog", linthresh=1)
    ax.set_xlim(left=0)
    ax.set_xlabel("|swap time − intended| (ms)")
    ax.set_ylabel("fraction of frames")
    ax.set_title("Pacing of a 20 fps animation during a backlog")
    ax.legend()
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
    figure.suptitle(f"Pixie vs the original design — {machine['cpu']}, {machine['cores']} cores (headless panel)")
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)
