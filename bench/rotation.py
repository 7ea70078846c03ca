"""`python -m bench.rotation`: the rotation against what a client had to do before apps.

One appliance (web, two `rq worker`s, the display on the headless STAND-IN
panel that records every frame and its swap time), real HTTP and Redis.
Each figure puts the rotation beside its baseline in the same run, in
alternating blocks (or sample by sample):

- boundary: how late the next content shows at the end of a dwell, in ms
  (the gap between two turns' first frames, minus the dwell). Rotation: two
  apps in turn. Baseline: the same content as jobs queued back to back with
  that duration (rendered ahead, while a black job plays), the best a
  client could do before apps;
- update: from the request to its new frames on the panel, in ms. Rotation:
  `PUT /api/v1/apps/{name}` with `now` (an in-place update, rendered off the
  display, swapped in at once). Baseline: `POST` of a high-priority job with
  the same content;
- durable writes per turn: what the durable Redis (the card, on the device)
  takes for each turn of the rotation, against each job of the baseline.
"""

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from .harness import ROOT, Stack, machine, summary

SIZES = {"full": {"boundaries": 200, "blocks": 4, "updates": 50}, "smoke": {"boundaries": 6, "blocks": 2, "updates": 3}}
DWELL_S = 0.25
W, H = 64, 32


def solid(rgb: tuple[int, int, int]) -> bytes:
    return bytes(rgb) * (W * H)


def hex_of(rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def call(stack: Stack, method: str, path: str, body: dict | None = None) -> int:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(stack.url + path, data, {"Content-Type": "application/json"}, method=method)
    t0 = time.time_ns()
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
    return t0


def get(stack: Stack, path: str) -> dict:
    with urllib.request.urlopen(stack.url + path, timeout=30) as response:
        return json.loads(response.read())


def put_fill(stack: Stack, name: str, rgb, dwell_s: float, now: bool = False) -> int:
    body = {"content": {"kind": "fill", "color": hex_of(rgb)}, "dwell_s": dwell_s, "now": now}
    return call(stack, "PUT", f"/api/v1/apps/{name}", body)


def lateness_ms(frames: list[tuple[int, bytes]], colours: set[bytes], dwell_s: float) -> list[float]:
    """Each change on the panel from one of `colours` straight to another: how late it came, past the dwell."""
    out, since, last = [], None, None
    for ns, frame in frames:
        if frame == last:
            continue
        if last in colours and frame in colours:
            out.append((ns - since) / 1e6 - dwell_s * 1000)
        since, last = ns, frame
    return out


def boundary(stack: Stack, sizes: dict) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    red, blue = (255, 0, 0), (0, 0, 255)
    colours = {solid(red), solid(blue)}
    per_block = sizes["boundaries"] // sizes["blocks"] + 1
    samples = {"baseline": [], "pixie": []}
    written = {"baseline": [], "pixie": []}  # per turn (a job each, for the baseline), per block
    for _ in range(sizes["blocks"]):
        # Rotation: two apps in turn, each for DWELL_S.
        put_fill(stack, "bench-red", red, DWELL_S)
        put_fill(stack, "bench-blue", blue, DWELL_S)
        while not all(app["rendered"] for app in get(stack, "/api/v1/apps")["apps"]):
            time.sleep(0.05)
        stack.read()
        mark, dirty = len(stack.frames), writes(stack)
        while len(lateness_ms(stack.frames[mark:], colours, DWELL_S)) < per_block + 1:
            time.sleep(0.05)
            stack.read()
        late = lateness_ms(stack.frames[mark:], colours, DWELL_S)
        written["pixie"].append((writes(stack) - dirty) / len(late))
        samples["pixie"] += late[1:]  # the first began before the mark
        for name in ("bench-red", "bench-blue"):
            call(stack, "DELETE", f"/api/v1/apps/{name}")
        # Baseline: the same content as jobs queued back to back, rendered while a black job plays.
        stack.read()
        mark, dirty = len(stack.frames), writes(stack)
        stack.post({"kind": "fill", "color": "#000000", "duration_s": 1.5, "priority": "low"})
        # A colour each: two workers may finish renders out of order, and the display plays them as they are ready.
        shades = [(200, 100, i) for i in range(per_block + 1)]
        ids = [stack.post({"kind": "fill", "color": hex_of(c), "duration_s": DWELL_S, "priority": "low"})[1]
               for c in shades]  # fmt: skip
        while not all(stack.done(job) for job in ids):
            time.sleep(0.05)
        stack.read()
        samples["baseline"] += lateness_ms(stack.frames[mark:], {solid(c) for c in shades}, DWELL_S)
        written["baseline"].append((writes(stack) - dirty) / len(ids))
    return samples, written


def writes(stack: Stack) -> int:
    """Writes the durable Redis has taken (its dirty counter): on the device, what reaches the card."""
    return stack.r.info("persistence")["rdb_changes_since_last_save"]


def update(stack: Stack, sizes: dict, rng: random.Random) -> dict[str, list[float]]:
    samples = {"baseline": [], "pixie": []}
    put_fill(stack, "bench-update", (10, 10, 10), 60)
    stack.first_frame_after(time.time_ns(), solid((10, 10, 10)))
    for _ in range(sizes["updates"]):
        for config in ("pixie", "baseline"):
            rgb = tuple(rng.randrange(20, 256) for _ in range(3))
            if config == "pixie":
                t0 = put_fill(stack, "bench-update", rgb, 60, now=True)
                shown = stack.first_frame_after(t0, solid(rgb))
            else:
                t0, job = stack.post({"kind": "fill", "color": hex_of(rgb), "duration_s": 0.1, "priority": "high"})
                shown = stack.first_frame_after(t0, solid(rgb))
                while not stack.done(job):
                    time.sleep(0.01)
            samples[config].append((shown - t0) / 1e6)
    call(stack, "DELETE", "/api/v1/apps/bench-update")
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks the harness, not the speed")
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts" / "bench")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    sizes = SIZES["smoke" if args.smoke else "full"]
    work = Path(tempfile.mkdtemp(prefix="pixie-bench-rotation-"))
    stack = Stack("pixie", work)
    try:
        stack.start(workers=2)
        rng = random.Random(args.seed)
        late, written = boundary(stack, sizes)
        samples = {"boundary_late_ms": late, "durable_writes_per_turn": written}
        samples["update_to_panel_ms"] = update(stack, sizes, rng)
    except BaseException:
        print(f"logs and recordings kept in {work}", file=sys.stderr)
        raise
    else:
        shutil.rmtree(work, ignore_errors=True)
    finally:
        stack.stop()
    figures = {name: {config: summary(values) for config, values in per.items()} for name, per in samples.items()}
    report = {"machine": machine(), "sizes": sizes, "dwell_s": DWELL_S, "figures": figures, "samples": samples}
    (args.out / "rotation.json").write_text(json.dumps(report, indent=2))
    print(f"{'figure':<22}{'baseline median':>17}{'p99':>9}{'pixie median':>15}{'p99':>9}{'n':>6}")
    for name, per in figures.items():
        b, p = per["baseline"], per["pixie"]
        print(f"{name:<22}{b['median']:>17}{b['p99']:>9}{p['median']:>15}{p['p99']:>9}{p['n']:>6}")
    print("baseline: jobs queued back to back (boundary), a high-priority job (update); pixie: the rotation's apps")
    print(f"\nwrote {args.out / 'rotation.json'}")


if __name__ == "__main__":
    main()
