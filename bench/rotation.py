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
  takes for each turn of the rotation, against each job of the baseline;
- transitions: the same two apps with a 100 ms fade between them (pixie)
  against a cut (baseline), in alternating blocks: how late each app's
  turn begins (the panel leaves the one before: a transition's first frame,
  or the cut), past the dwell, in ms, signed and as an error either way;
  and the display's CPU time per transition frame (blend, indicators, fill
  of the stand-in's canvas) for each transition, in µs, against what a cut
  costs per frame (the fill of a ready frame), in this process;
- many apps: the display's memory with the rotation's frames at their budget
  (display.apps_max_bytes: 32 animation apps), against no apps; and the
  watcher's reload of the rotation (each minute with a clock app, at each
  window's opening), which takes the frames of unchanged apps from its last
  load, against fetching every app's frames again, in ms.
"""

import functools
import itertools
import json
import random
import time
from types import SimpleNamespace

from pixie import apps
from pixie import config as configuration
from pixie.display.backends import Headless
from pixie.render import indicators, transitions

from .harness import Stack, _gif, appliance, cli, machine, side_by_side, summaries

SIZES = {
    "full": {"boundaries": 200, "blocks": 4, "updates": 50, "apps": 32, "frames": 250, "reloads": 50, "blends": 100},
    "smoke": {"boundaries": 6, "blocks": 2, "updates": 3, "apps": 2, "frames": 5, "reloads": 3, "blends": 3},
}
DWELL_S = 0.25
FADE_MS = 100
W, H = 64, 32


def solid(rgb: tuple[int, int, int]) -> bytes:
    return bytes(rgb) * (W * H)


def hex_of(rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def put_fill(stack: Stack, name: str, rgb, dwell_s: float, now: bool = False) -> int:
    body = {"content": {"kind": "fill", "color": hex_of(rgb)}, "dwell_s": dwell_s, "now": now}
    return stack.request("PUT", f"/api/v1/apps/{name}", body)[0]


def all_rendered(stack: Stack) -> bool:
    listed = stack.request("GET", "/api/v1/apps")[1]["apps"]
    if failed := [a["error"] for a in listed if a["error"]]:
        raise RuntimeError(f"apps not rendered: {failed}")
    return all(app["rendered"] for app in listed)


def delete_apps(stack: Stack) -> None:
    for app in stack.request("GET", "/api/v1/apps")[1]["apps"]:
        stack.request("DELETE", f"/api/v1/apps/{app['name']}")


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
        while not all_rendered(stack):
            time.sleep(0.05)
        stack.read()
        mark, dirty = len(stack.frames), writes(stack)
        while len(lateness_ms(stack.frames[mark:], colours, DWELL_S)) < per_block + 1:
            time.sleep(0.05)
            stack.read()
        late = lateness_ms(stack.frames[mark:], colours, DWELL_S)
        written["pixie"].append((writes(stack) - dirty) / len(late))
        samples["pixie"] += late[1:]  # the first began before the mark
        delete_apps(stack)
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


def leaves(frames: list[tuple[int, bytes]], colours: set[bytes]) -> list[int]:
    """When the panel leaves one of `colours` for anything else (a transition's first frame, or the next
    colour at a cut), in ns: where each turn of the rotation begins."""
    return [ns for (_, before), (ns, frame) in itertools.pairwise(frames) if before in colours and frame != before]


def with_transitions(stack: Stack, sizes: dict) -> dict[str, list[float]]:
    """Two apps in turn with a cut (baseline) and with a fade (pixie): each turn's lateness past the dwell, ms."""
    colours = {solid((255, 0, 0)), solid((0, 0, 255))}
    per_block = sizes["boundaries"] // sizes["blocks"] + 1
    samples = {"baseline": [], "pixie": []}
    put_fill(stack, "bench-red", (255, 0, 0), DWELL_S)
    put_fill(stack, "bench-blue", (0, 0, 255), DWELL_S)
    while not all_rendered(stack):
        time.sleep(0.05)
    for _ in range(sizes["blocks"]):
        for config, name in (("baseline", transitions.CUT), ("pixie", "fade")):
            stack.request("PUT", "/api/v1/transition", {"transition": name, "transition_ms": FADE_MS})
            time.sleep(2 * DWELL_S)  # the display has it: the next boundary uses it
            stack.read()
            mark = len(stack.frames)
            while len(leaves(stack.frames[mark:], colours)) < per_block + 1:
                time.sleep(0.05)
                stack.read()
            starts = leaves(stack.frames[mark:], colours)
            samples[config] += [(b - a) / 1e6 - DWELL_S * 1000 for a, b in itertools.pairwise(starts)]
    stack.request("PUT", "/api/v1/transition", {"transition": transitions.CUT, "transition_ms": FADE_MS})
    delete_apps(stack)
    return samples


def blend_cpu(sizes: dict) -> dict[str, dict[str, list[float]]]:
    """The display's CPU time per frame, µs: a transition's (blend, indicators over it, fill) against a cut's
    (the fill of a ready frame), each transition's measured between cuts so both see the same machine."""
    panel = configuration.Panel()
    backend, canvas = Headless(panel), Headless(panel).canvas()
    old, new = solid((200, 30, 0)), bytes(range(256)) * (W * H * 3 // 256)
    lit = {1: (255, 255, 255)}  # an indicator on, as the display draws it over every frame

    def shown(frame_of) -> float:
        """CPU µs to put a frame on the canvas as the display does, `frame_of()` making it."""
        t0 = time.thread_time_ns()
        backend.fill(canvas, indicators.draw(frame_of(), lit, W, H))
        return (time.thread_time_ns() - t0) / 1000

    out = {}
    for name in (n for n in transitions.NAMES if n not in (transitions.CUT, transitions.RANDOM)):
        per = out[f"cpu_us_per_frame_{name}"] = {"baseline": [], "pixie": []}
        for i in range(sizes["blends"]):
            t = (i + 0.5) / sizes["blends"]
            per["baseline"].append(shown(lambda: new))
            per["pixie"].append(shown(functools.partial(transitions.frame, name, old, new, t, W, H)))
    return out


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
    delete_apps(stack)
    return samples


def many_apps(stack: Stack, sizes: dict) -> tuple[dict, dict[str, list[float]]]:
    """The display's memory (PSS, MB) without apps and with `apps` animations of `frames` frames each;
    then the watcher's reload timed both ways, in this process against the same Redis."""
    memory = {"baseline": stack.memory()["display"]["pss_mb"]}
    for i in range(sizes["apps"]):
        colours = [(i * 7 % 256, f % 256, 255 - f % 256) for f in range(sizes["frames"])]  # no two frames alike
        body = {"content": {"kind": "animation", "data_b64": _gif(colours, 50)}}
        stack.request("PUT", f"/api/v1/apps/bench-many-{i}", body)
    while not all_rendered(stack):
        time.sleep(0.2)
    time.sleep(2)  # the display's watcher loads them
    memory["pixie"] = stack.memory()["display"]["pss_mb"]
    panel = SimpleNamespace(width=W, height=H)
    known = {e.name: e for e in apps.rotation(stack.r, stack.v, panel, 5.0, time.time(), place=None).entries}
    samples = {"baseline": [], "pixie": []}
    for _ in range(sizes["reloads"]):
        for config, last in (("baseline", None), ("pixie", known)):
            t0 = time.perf_counter()
            loaded = apps.rotation(stack.r, stack.v, panel, 5.0, time.time(), last, place=None)
            samples[config].append((time.perf_counter() - t0) * 1000)
            assert len(loaded.entries) == sizes["apps"]
    delete_apps(stack)
    return memory, samples


def main() -> None:
    args = cli(__doc__)
    sizes = SIZES["smoke" if args.smoke else "full"]
    with appliance("pixie-bench-rotation-") as stack:
        rng = random.Random(args.seed)
        late, written = boundary(stack, sizes)
        samples = {"boundary_late_ms": late, "durable_writes_per_turn": written}
        samples["update_to_panel_ms"] = update(stack, sizes, rng)
        late = with_transitions(stack, sizes)
        samples["turn_late_ms_fade_vs_cut"] = late
        samples["turn_error_ms_fade_vs_cut"] = {config: [abs(v) for v in values] for config, values in late.items()}
        memory, samples["reload_ms"] = many_apps(stack, sizes)
    samples |= blend_cpu(sizes)
    figures = summaries(samples)
    report = {
        "machine": machine(),
        "sizes": sizes,
        "dwell_s": DWELL_S,
        "figures": figures,
        "display_pss_mb": memory,
        "samples": samples,
    }
    (args.out / "rotation.json").write_text(json.dumps(report, indent=2))
    side_by_side(figures, ("display PSS, MB", memory))
    print("baseline: jobs queued back to back (boundary), a high-priority job (update), a cut between the apps")
    print(f"(turn: pixie a {FADE_MS} ms fade; cpu: pixie a transition's frame, baseline a cut's), every app's frames")
    print(f"fetched again (reload), no apps (PSS); pixie: the rotation's apps, {sizes['apps']} x {sizes['frames']}")
    print(f"frames for the reload and PSS\nwrote {args.out / 'rotation.json'}")


if __name__ == "__main__":
    main()
