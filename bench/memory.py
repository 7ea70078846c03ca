"""`python -m bench.memory`: is anything growing? The whole stack's memory
after 0, 100 and 1,000 jobs, then over a long rotation of apps.

- jobs: the original design and pixie side by side (both as harness.Stack
  starts them: web, two workers, Redis; pixie's display and volatile Redis),
  the same mix of new texts, images and small animations posted to each;
  each process's PSS after the stack came up and after each count of jobs.
- rotation (pixie; the original design had no apps): a clock, a text and a
  small animation in turn for `minutes`, PSS sampled every `every_min`; the
  baseline is the same stack's first sample. Growth per hour is the slope
  of a least-squares line through the samples.

PSS is each process's share of the pages it maps (shared libraries split
among the processes mapping them), so the stack's total is what it takes of
the machine's memory. The MQTT bridge is off, as shipped.
"""

import json
import random
import time

import numpy as np

from .harness import Stack, _gif, _image_job, cli, machine, workdir

SIZES = {
    "full": {"jobs": [100, 1000], "minutes": 60, "every_min": 5},
    "quick": {"jobs": [100, 1000], "minutes": 5, "every_min": 1},
    "smoke": {"jobs": [3, 6], "minutes": 0.1, "every_min": 0.05},
}
DWELL_S = 5
WAVE = 50  # jobs sent at once


def pss(stack: Stack) -> dict[str, float]:
    """Each process's PSS and the stack's total, MB."""
    per = {name: m["pss_mb"] for name, m in stack.memory().items()}
    return {**per, "total": round(sum(per.values()), 1)}


def job(i: int, rng: random.Random, nonce: str) -> dict:
    """The i-th job of the mix: a new text, a new image, a small new animation in turn."""
    kind = i % 3
    if kind == 0:
        return {"kind": "text", "text": f"{nonce} {i}", "duration_s": 0.02}
    if kind == 1:
        return _image_job(rng, 64, 32, duration_s=0.02)
    colors = [(40 + (i * 7 + f) % 200, f * 20, i % 256) for f in range(8)]
    return {"kind": "animation", "data_b64": _gif(colors, 20), "duration_s": 0.02}


def after_jobs(stacks: list[Stack], counts: list[int], seed: int) -> dict:
    """{stack: {jobs done: PSS}}: 0, then after each count (cumulative), the stacks taking turns per batch
    on the same jobs."""
    rng = random.Random(seed)  # noqa: S311 - test inputs, not secrets
    out = {stack.name: {0: pss(stack)} for stack in stacks}
    done = 0
    for count in counts:
        batch = [job(i, rng, f"{seed:x}") for i in range(done, count)]
        for stack in stacks:
            # In waves of WAVE, each played before the next is sent: the memory after N jobs is measured, not a
            # burst. (A burst of 900 uploads overran pixie's render cache: frames of ready jobs were evicted
            # before they played, and their re-render failed, the upload having been let go after the first.)
            for start in range(0, len(batch), WAVE):
                ids = [stack.post(j)[1] for j in batch[start : start + WAVE]]
                if not supervised(stack, time.monotonic() + 120, lambda s=stack, i=ids: all(s.done(j) for j in i)):
                    raise TimeoutError(f"{stack.name}: jobs {done + start}.. not done")
            supervised(stack, time.monotonic() + 2)  # the last job's frames played and let go
            out[stack.name][count] = pss(stack)
        done = count
    return out


def supervised(stack: Stack, until: float, done=lambda: False) -> bool:
    """Wait until `done()` or the monotonic time `until` (False then), starting again what exits."""
    while not done():
        if time.monotonic() > until:
            return False
        stack.supervise()
        time.sleep(0.2)
    return True


def rotation(stack: Stack, minutes: float, every_min: float) -> dict:
    """{minute: PSS} over a rotation of a clock, a text and a small animation."""
    apps = {
        "clock": {"kind": "clock"},
        "hello": {"kind": "text", "text": "Pixie", "color": "orange"},
        "blink": {"kind": "animation", "data_b64": _gif([(255, 0, 0), (0, 0, 255)], 100)},
    }
    for name, content in apps.items():
        stack.request("PUT", f"/api/v1/apps/{name}", {"content": content, "dwell_s": DWELL_S})
    recorded = stack.record.stat().st_size  # the jobs before it were recorded too
    start = time.monotonic()
    samples = {}
    while (elapsed := (time.monotonic() - start) / 60) <= minutes:
        samples[round(elapsed, 2)] = pss(stack)
        supervised(stack, start + len(samples) * every_min * 60)
    if stack.record.stat().st_size == recorded:
        raise RuntimeError("the rotation showed nothing")
    return samples


def slope_mb_per_hour(samples: dict) -> float:
    """The least-squares slope of the total PSS against time, MB per hour."""
    minutes = np.array(list(samples), dtype=float)
    totals = np.array([s["total"] for s in samples.values()])
    return round(float(np.polyfit(minutes, totals, 1)[0] * 60), 2) if len(samples) > 1 else 0.0


def table(report: dict) -> str:
    rows = [f"{'after':<18}" + "".join(f"{name + ' PSS MB':>18}" for name in report["jobs"])]
    counts = next(iter(report["jobs"].values()))
    for count in counts:
        totals = "".join(f"{per[count]['total']:>18}" for per in report["jobs"].values())
        rows.append(f"{f'{count} jobs':<18}{totals}")
    rows.append("")
    rows.append(f"{'rotation minute':<18}{'pixie PSS MB':>18}   each process")
    for minute, per in report["rotation"].items():
        each = ", ".join(f"{k} {v}" for k, v in per.items() if k != "total")
        rows.append(f"{minute:<18}{per['total']:>18}   {each}")
    rows.append(f"{'growth':<18}{report['rotation_growth_mb_per_hour']:>18} MB/h (least squares)")
    return "\n".join(rows)


def main() -> None:
    args = cli(__doc__, quick=True)
    size = "smoke" if args.smoke else "quick" if args.quick else "full"
    sizes = SIZES[size]
    with workdir("pixie-bench-memory-") as work:
        stacks = [Stack(name, work) for name in ("baseline", "pixie")]
        try:
            for stack in stacks:
                stack.start(workers=2)
            jobs = after_jobs(stacks, sizes["jobs"], args.seed)
            samples = rotation(stacks[1], sizes["minutes"], sizes["every_min"])
        finally:
            for stack in stacks:
                stack.stop()
    report = {
        "machine": machine(),
        "size": size,
        "sizes": sizes,
        "jobs": jobs,
        "rotation": samples,
        "rotation_growth_mb_per_hour": slope_mb_per_hour(samples),
    }
    (args.out / "memory.json").write_text(json.dumps(report, indent=2))
    print(table(report))
    print(f"\nwrote {args.out / 'memory.json'}")


if __name__ == "__main__":
    main()
