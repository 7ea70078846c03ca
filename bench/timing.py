"""`python -m bench.timing`: the README's timing promises, measured on the panel's own swap times.

One appliance (web, two `rq worker`s, the display on the headless STAND-IN panel that records every
frame and its swap time), real HTTP and Redis. Each figure is how late something showed past the time
it was due, in ms (negative: early, which the README says never happens), beside a baseline in the same
run, in alternating blocks: a client doing the same over HTTP at that time, from its request.

- timed_job_late_ms: a fill job posted ahead with `at`, from that time to its first frame. Baseline: the
  same job posted at that time;
- window_open_late_ms / window_close_late_ms: an app whose schedule is one-second windows a second
  apart, from each opening (closing) to its first frame shown (gone). Baseline: `PUT` of the app with
  `now` at the opening and `DELETE` at the closing;
- countdown_tick_late_ms: a countdown app, from each whole second to its new face. Baseline: a 1 fps
  animation's frame changes, from the times its frames' delays set (the display's own pacing).
"""

import json
import math
import time
from datetime import datetime

from .harness import Stack, _gif, appliance, cli, machine, side_by_side, summaries
from .rotation import delete_apps, hex_of, put_fill, solid

SIZES = {
    "full": {"blocks": 4, "jobs": 25, "windows": 16, "ticks": 30},
    "smoke": {"blocks": 1, "jobs": 2, "windows": 2, "ticks": 3},
}
BLUE = (0, 0, 255)


def sleep_until(t: float) -> None:
    time.sleep(max(0.0, t - time.time()))


def wall(t: float) -> str:
    """The device's local time of day, to the second (the appliance runs in this machine's zone)."""
    return datetime.fromtimestamp(t).astimezone().strftime("%H:%M:%S")


def changes(stack: Stack, since_ns: int) -> list[tuple[int, bytes]]:
    """(time_ns, frame) of each frame unlike the one before it, recorded since `since_ns`."""
    stack.read()
    out, last = [], None
    for ns, frame in stack.frames:
        if frame != last and ns >= since_ns:
            out.append((ns, frame))
        last = frame
    return out


def first(stack: Stack, since_s: float, shown: bool, frame: bytes, timeout_s: float = 10) -> float:
    """When `frame` first showed (or, not `shown`, first gave way to another) at or after `since_s`."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        for ns, f in changes(stack, int(since_s * 1e9)):
            if (f == frame) == shown:
                return ns / 1e9
        time.sleep(0.01)
    raise TimeoutError(f"no frame {'with' if shown else 'without'} the expected content after {since_s}")


def timed_jobs(stack: Stack, n: int) -> dict[str, list[float]]:
    late = {"pixie": [], "baseline": []}
    start = math.ceil(time.time()) + 3
    colours = [(i + 1, 128, 255 - i) for i in range(n)]  # one colour per job: its own frame
    for i, rgb in enumerate(colours):
        at = datetime.fromtimestamp(start + i).astimezone().isoformat()
        stack.request("POST", "/api/v1/jobs", {"kind": "fill", "color": hex_of(rgb), "duration_s": 0.5, "at": at})
    for i, rgb in enumerate(colours):
        late["pixie"].append((first(stack, start + i - 1, True, solid(rgb)) - (start + i)) * 1000)
    start = math.ceil(time.time()) + 1
    for i, rgb in enumerate(colours):
        sleep_until(start + i)
        stack.post({"kind": "fill", "color": hex_of((rgb[2], 64, rgb[0])), "duration_s": 0.5})
        late["baseline"].append((first(stack, start + i, True, solid((rgb[2], 64, rgb[0]))) - (start + i)) * 1000)
    return late


def windows(stack: Stack, n: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    opened, closed = {"pixie": [], "baseline": []}, {"pixie": [], "baseline": []}
    blue = solid(BLUE)
    start = math.ceil(time.time()) + 3
    times = [(start + 2 * i, start + 2 * i + 1) for i in range(n)]
    schedule = [{"start": wall(a), "end": wall(b)} for a, b in times]
    body = {"content": {"kind": "fill", "color": hex_of(BLUE)}, "dwell_s": 60, "schedule": schedule}
    stack.request("PUT", "/api/v1/apps/brief", body)
    for a, b in times:
        opened["pixie"].append((first(stack, a - 1, True, blue) - a) * 1000)
        closed["pixie"].append((first(stack, b - 0.5, False, blue) - b) * 1000)
    delete_apps(stack)
    start = math.ceil(time.time()) + 2
    for i in range(n):
        a, b = start + 2 * i, start + 2 * i + 1
        sleep_until(a)
        put_fill(stack, "brief", BLUE, 60, now=True)
        opened["baseline"].append((first(stack, a, True, blue) - a) * 1000)
        sleep_until(b)
        stack.request("DELETE", "/api/v1/apps/brief")
        closed["baseline"].append((first(stack, b, False, blue) - b) * 1000)
    return opened, closed


def ticks(stack: Stack, n: int) -> dict[str, list[float]]:
    late = {"pixie": [], "baseline": []}
    to = math.ceil(time.time()) + n + 3
    countdown = {"kind": "countdown", "to": datetime.fromtimestamp(to).isoformat()}
    stack.request("PUT", "/api/v1/apps/launch", {"content": countdown, "dwell_s": 600})
    sleep_until(to + 0.5)
    faces = [ns / 1e9 for ns, _ in changes(stack, int((to - n) * 1e9))]
    late["pixie"] = [(t - round(t)) * 1000 for t in faces if t < to + 0.5]
    delete_apps(stack)
    pair = [(255, 0, 0), (0, 255, 0)]
    frames = {solid(c) for c in pair}
    t0 = time.time_ns()
    stack.post({"kind": "animation", "data_b64": _gif((pair * n)[: n + 1], 1000)})
    deadline = time.time() + n + 10
    while len(shown := [ns / 1e9 for ns, f in changes(stack, t0) if f in frames]) < n + 1 and time.time() < deadline:
        time.sleep(0.2)
    late["baseline"] = [(t - shown[0] - k) * 1000 for k, t in enumerate(shown[: n + 1])][1:]
    return late


def main() -> None:
    args = cli(__doc__)
    sizes = SIZES["smoke" if args.smoke else "full"]
    samples = {}
    with appliance("pixie-bench-timing-") as stack:
        for _ in range(sizes["blocks"]):
            block = {"timed_job_late_ms": timed_jobs(stack, sizes["jobs"])}
            block["window_open_late_ms"], block["window_close_late_ms"] = windows(stack, sizes["windows"])
            block["countdown_tick_late_ms"] = ticks(stack, sizes["ticks"])
            for name, per in block.items():
                for config, values in per.items():
                    samples.setdefault(name, {}).setdefault(config, []).extend(values)
    figures = summaries(samples)
    (args.out / "timing.json").write_text(
        json.dumps({"machine": machine(), "sizes": sizes, "figures": figures, "samples": samples}, indent=2)
    )
    side_by_side(figures)
    print("baseline: a client doing the same over HTTP at the time (a job, PUT/DELETE of the app), and for")
    print(f"countdown ticks a 1 fps animation's frame changes\nwrote {args.out / 'timing.json'}")


if __name__ == "__main__":
    main()
