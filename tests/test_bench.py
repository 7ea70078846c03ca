"""The benchmark harness keeps working: a tiny run must produce all its outputs.
(It asserts that the figures exist, not how fast anything is.)"""

import json
import statistics
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from bench.harness import STAGES, summary
from pixie.render import transitions
from pixie.spec import EFFECTS, OVERLAYS
from pixie.vocabulary import Kind

ROOT = Path(__file__).resolve().parent.parent


def smoke(module: str, out: Path) -> subprocess.CompletedProcess:
    """`python -m <module> --smoke`, which must succeed."""
    result = subprocess.run(
        [sys.executable, "-m", module, "--smoke", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_smoke_run_writes_json_table_and_chart(tmp_path):
    result = smoke("bench", tmp_path)
    report = json.loads((tmp_path / "bench.json").read_text())
    latency = {"latency_cold_ms", "latency_warm_ms", "latency_depth_2_ms", "latency_depth_5_ms"}
    latency |= {f"latency_first_frame_{name}_ms" for name in ("image", "gif300", "scroll")}
    assert set(report["figures"]) == latency | {"pacing_error_ms"}
    for name, per in report["figures"].items():
        assert set(per) == ({"baseline", "pixie", "floor"} if name in latency else {"baseline", "pixie"}), name
        for config, stats in per.items():
            samples = report["samples"][name][config]
            assert stats["n"] == len(samples) > 0
            assert stats["median"] == round(statistics.median(samples), 2)
            assert stats["median_ci"][0] <= stats["median"] <= stats["median_ci"][1]
            assert stats["p99_ci"][0] <= stats["p99"] <= stats["p99_ci"][1]
    for name in latency:  # each ratio of the two sides' own samples
        medians = {config: statistics.median(values) for config, values in report["samples"][name].items()}
        ratios = report["ratios"][name]
        assert ratios["pixie/floor"]["median"] == pytest.approx(medians["pixie"] / medians["floor"], rel=0.02)
        assert ratios["baseline/pixie"]["median"] == pytest.approx(medians["baseline"] / medians["pixie"], rel=0.02)
    assert report["figures"]["pacing_error_ms"]["pixie"]["n"] == 6 * 2  # every frame of both plays of the GIF
    machine = report["machine"]
    assert machine["cpu"] and len(machine["load_before"]) == len(machine["load_after"]) == 3
    assert set(report["throughput_jobs_per_s"]["pixie"]) == {"1", "2"}
    assert {"web", "display", "worker1", "worker2"} <= set(report["memory_mb"]["pixie"])
    assert set(report["memory_mb"]["floor"]) == {"web", "display", "redis"}
    for phase in ("cold", "warm"):  # every process's CPU per job; the jobs took some
        per = report["cpu_ms_per_job"][phase]
        assert set(per) == {"baseline", "pixie", "floor"}
        assert set(per["pixie"]) == set(report["memory_mb"]["pixie"])
        assert sum(per["pixie"].values()) > 0
    assert set(report["display_cpu_ms_per_frame"]) == {"pixie"}
    for design, stages in report["stages_cold_ms"].items():  # rq's milestones fall between the POST and its frame
        assert design in ("baseline", "pixie") and list(stages) == list(STAGES)
        assert 0 < stages["enqueued"] <= stages["taken"] <= stages["finished"], stages
        assert 0 < stages["answered"] and stages["taken"] < stages["swapped"], stages
    # counted in 10 ms ticks: the smoke run's 12 frames may see none (0.0), the full run's 3,000 do
    cpu = report["display_cpu_ms_per_frame"]["pixie"]
    assert isinstance(cpu, float) and cpu >= 0
    assert "baseline/pixie" in result.stdout and "pixie/floor" in result.stdout
    assert Image.open(tmp_path / "bench.png").format == "PNG"
    readme_gets_the_runs_table_and_chart(tmp_path, report)


def readme_gets_the_runs_table_and_chart(run: Path, report: dict):
    """`python -m bench.readme` writes that run's figures between its section's markers in the README, the
    text around them and the other section's table kept, and copies its chart to docs/ under its name."""
    from bench.readme import markers

    (begin, end), (other_begin, other_end) = markers("bench-pi3"), markers("bench")
    readme, docs = run / "README.md", run / "docs"
    docs.mkdir()
    other = f"{other_begin}\n| make bench's table |\n{other_end}"
    readme.write_text(f"# Pixie\n{other}\nbefore\n{begin}\n| an old table |\n{end}\nafter\n")
    command = [sys.executable, "-m", "bench.readme", "--section", "bench-pi3", "--run", str(run),
               "--readme", str(readme), "--docs", str(docs)]  # fmt: skip
    for _ in range(2):  # a second run writes the same
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True, timeout=60)
        text = readme.read_text()
        assert text.startswith(f"# Pixie\n{other}\nbefore\n{begin}\n") and text.endswith(f"\n{end}\nafter\n")
        assert "an old table" not in text and text.count("| latency cold (n=") == 1
    cold = report["figures"]["latency_cold_ms"]["pixie"]
    median, p99 = cold["median_ci"], cold["p99_ci"]
    assert f"{cold['median']} [{median[0]}–{median[1]}] / {cold['p99']} [{p99[0]}–{p99[1]}]" in text
    assert f"| {report['ratios']['latency_cold_ms']['pixie/floor']['median']}× / " in text
    assert (docs / "bench-pi3.png").read_bytes() == (run / "bench.png").read_bytes()
    assert not (docs / "bench.png").exists()


def test_summary_puts_a_reproducible_bootstrap_interval_beside_the_median_and_p99():
    values = [float(v) for v in range(1, 101)]
    stats = summary(values, seed=1)
    assert (stats["median"], stats["p95"], stats["p99"], stats["n"]) == (50.5, 96.0, 100.0, 100)
    low, high = stats["median_ci"]
    assert 40 < low < 50.5 < high < 61
    assert 95 <= stats["p99_ci"][0] < stats["p99_ci"][1] == 100  # a resample's p99 is at most the largest value
    assert summary(values, seed=1) == stats  # the seed fixes the resamples
    assert summary(values, seed=2)["median_ci"] != stats["median_ci"]
    more = summary(values * 10, seed=1)  # the same spread, ten times the samples: about a third as wide
    assert more["median"] == 50.5 and more["median_ci"][1] - more["median_ci"][0] < (high - low) / 2
    assert summary([7.0] * 20)["median_ci"] == summary([7.0] * 20)["p99_ci"] == [7.0, 7.0]
    assert summary([]) == {"median": None, "median_ci": None, "p95": None, "p99": None, "p99_ci": None, "n": 0}


def test_card_writes_smoke_run_measures_every_layout(tmp_path):
    result = smoke("bench.card_writes", tmp_path)
    figures = json.loads((tmp_path / "card_writes.json").read_text())["figures"]
    assert set(figures) == {"idle, per hour", "20 fps animation, per hour", "per 1000 accepted jobs"}
    for per in figures.values():
        assert set(per) == {"one AOF", "split, stock rq", "as shipped", "+ rq's scheduler", "+ pixie's scheduler"}
    jobs = figures["per 1000 accepted jobs"]
    assert jobs["one AOF"]["aof_bytes"] > 0 and jobs["one AOF"]["fsyncs"] > 0  # the counters count
    assert "durable Redis (on the card)" in result.stdout


def test_rotation_smoke_run_measures_both_figures_beside_their_baselines(tmp_path):
    result = smoke("bench.rotation", tmp_path)
    figures = json.loads((tmp_path / "rotation.json").read_text())["figures"]
    turns = {"boundary_late_ms", "durable_writes_per_turn", "update_to_panel_ms", "reload_ms"}
    turns |= {"turn_late_ms_fade_vs_cut", "turn_error_ms_fade_vs_cut"}
    drawn = [n for n in transitions.NAMES if n not in ("cut", "random")]
    assert set(figures) == turns | {f"cpu_us_per_frame_{name}" for name in drawn}
    assert figures["turn_error_ms_fade_vs_cut"]["pixie"]["median"] >= 0
    for per in figures.values():
        assert per["baseline"]["n"] > 0 and per["pixie"]["n"] > 0
        assert per["pixie"]["median"] is not None
    memory = json.loads((tmp_path / "rotation.json").read_text())["display_pss_mb"]
    assert memory["baseline"] > 0 and memory["pixie"] > 0
    assert "baseline median" in result.stdout


def test_mqtt_smoke_run_measures_each_figure_beside_http(tmp_path):
    result = smoke("bench.mqtt", tmp_path)
    report = json.loads((tmp_path / "mqtt.json").read_text())
    assert set(report["figures"]) == {"publish_to_panel_ms", "broker_restart_to_panel_ms"}
    for per in report["figures"].values():
        assert per["baseline"]["n"] > 0 and per["pixie"]["n"] > 0
    assert report["pss_mb"]["baseline"] > 0 and report["pss_mb"]["pixie"] > 0
    assert "pixie-mqtt + mosquitto" in result.stdout


def test_events_smoke_run_measures_both_figures_beside_polling(tmp_path):
    result = smoke("bench.events", tmp_path)
    figures = json.loads((tmp_path / "events.json").read_text())["figures"]
    assert set(figures) == {"queued_ms", "done_ms"}
    for per in figures.values():
        assert per["baseline"]["n"] > 0 and per["pixie"]["n"] == per["baseline"]["n"]
    assert "events median" in result.stdout


def test_render_smoke_run_puts_each_text_case_beside_its_baseline(tmp_path):
    result = smoke("bench.render", tmp_path)
    report = json.loads((tmp_path / "render.json").read_text())
    assert len(report["figures"]) == 4
    for per in report["figures"].values():
        assert per["baseline"]["n"] == per["pixie"]["n"] > 0
    assert set(report["pss_mb"]) == {"worker", "display"}
    assert all(mb["after"] > 0 for mb in report["pss_mb"].values())
    assert "bitmap median" in result.stdout
    lines = {line[:28].strip(): line[28:].split() for line in result.stdout.splitlines()}
    for name, per in report["figures"].items():  # median, p95 and p99 of each side, then n
        stats = [per[side][stat] for side in ("baseline", "pixie") for stat in ("median", "p95", "p99")]
        assert [float(cell) for cell in lines[name]] == [*stats, per["pixie"]["n"]], lines[name]


def test_timing_smoke_run_measures_each_promise_beside_a_client_on_time(tmp_path):
    result = smoke("bench.timing", tmp_path)
    figures = json.loads((tmp_path / "timing.json").read_text())["figures"]
    promises = ("timed_job", "window_open", "window_close", "countdown_tick")
    assert set(figures) == {f"{promise}_late_ms" for promise in promises}
    for per in figures.values():
        assert per["baseline"]["n"] > 0 and per["pixie"]["n"] > 0
    assert "a client doing the same" in result.stdout


def test_live_smoke_run_measures_a_value_to_the_panel_beside_a_text_job_and_coalescing(tmp_path):
    result = smoke("bench.live", tmp_path)
    report = json.loads((tmp_path / "live.json").read_text())
    per = report["figures"]["value_to_panel_ms"]
    assert per["baseline"]["n"] > 0 and per["pixie"]["n"] == per["baseline"]["n"]
    coalesced, each = report["coalescing"]["interval 1 s"], report["coalescing"]["interval 0 s"]
    assert coalesced["values"] == each["values"] > 0
    assert 1 <= coalesced["renders"] < each["renders"] <= each["values"]  # the interval saves renders
    assert "renders" in result.stdout


def test_kinds_smoke_run_times_every_kind_effect_and_overlay_beside_a_plain_text(tmp_path):
    result = smoke("bench.kinds", tmp_path)
    report = json.loads((tmp_path / "kinds.json").read_text())
    figures = report["figures"]
    assert {kind.value for kind in Kind} <= {name.split()[0] for name in figures}
    assert {f"effect {name}" for name in EFFECTS} | {f"overlay {name}" for name in OVERLAYS} <= set(figures)
    assert {"text blink", "text fade", "text rainbow", "text gradient"} <= set(figures)
    for name, per in figures.items():
        assert per["job"]["n"] == per["baseline"]["n"] == 3
        assert all(0 < ms < 10_000 for ms in report["samples"][name]["job"] + report["samples"][name]["baseline"])
    for name in (*(f"effect {e}" for e in EFFECTS), *(f"overlay {o}" for o in OVERLAYS)):
        assert report["frames"][name] > 1 and figures[name]["ratio"] > 1  # a loop of pictures costs more than a still
    assert report["frames"]["fill"] == 1
    assert "baseline median" in result.stdout and "effect Plasma" in result.stdout


def test_inputs_smoke_run_puts_each_live_input_beside_the_queued_path(tmp_path):
    result = smoke("bench.inputs", tmp_path)
    report = json.loads((tmp_path / "inputs.json").read_text())
    figures = report["figures"]
    assert set(figures) == {"ddp_to_panel_ms", "flaschen_taschen_to_panel_ms", "ddp_to_panel_ms_under_load"}
    for per in figures.values():
        assert per["baseline"]["n"] > 0 and per["pixie"]["n"] > 0
    for name, run in report["runs_60fps"].items():
        assert 0 < run["shown"] <= run["sent"] and run["rate_fps"] > 0, name  # each shown frame matched to its send
    ddp = report["runs_60fps"]["ddp"]
    assert ddp["receiver"]["received"] == 5 * ddp["sent"]  # the display's own counts, a frame in five datagrams
    assert set(report["ramp"]) == {"ddp", "flaschen_taschen"}
    assert all(list(steps)[0] == "60" for steps in report["ramp"].values())
    assert report["animation"]["frames"] > 1  # the baseline's frames were seen on the panel
    cpu = {"ddp", "flaschen_taschen", "ddp_under_load_1", "baseline: queued animation"}
    assert set(report["cpu_us_per_frame"]) == cpu and report["idle"]["seconds"] > 0
    assert "live median" in result.stdout and "highest without drops" in result.stdout


def test_tls_smoke_run_puts_https_beside_http(tmp_path):
    result = smoke("bench.tls", tmp_path)
    report = json.loads((tmp_path / "tls.json").read_text())
    assert set(report["figures"]) == {"push_kept_alive_ms", "push_new_connection_ms"}
    for per in report["figures"].values():
        assert set(per) == {"http", "https_ec", "https_rsa", "proxy"} and all(s["n"] > 0 for s in per.values())
    memory = report["memory_mb"]
    assert set(memory) == {"http", "https_ec", "https_rsa", "proxy"} and all(m["pss_mb"] > 0 for m in memory.values())
    assert "tls-ec median" in result.stdout and "nginx median" in result.stdout


def test_memory_smoke_run_samples_both_stacks_after_jobs_and_pixie_over_a_rotation(tmp_path):
    result = smoke("bench.memory", tmp_path)
    report = json.loads((tmp_path / "memory.json").read_text())
    for name in ("baseline", "pixie"):
        after = report["jobs"][name]
        assert list(after) == ["0", "3", "6"]
        for per in after.values():  # the stack's total is its processes' sum
            assert per["total"] == pytest.approx(sum(v for k, v in per.items() if k != "total"), abs=0.2)
    assert {"web", "display", "worker1", "worker2", "redis", "redis-volatile"} <= set(report["jobs"]["pixie"]["6"])
    assert len(report["rotation"]) >= 2
    assert isinstance(report["rotation_growth_mb_per_hour"], float)
    assert "rotation minute" in result.stdout and "baseline PSS MB" in result.stdout
