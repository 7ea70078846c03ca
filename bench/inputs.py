"""`python -m bench.inputs`: live UDP input (DDP, FlaschenTaschen) against the queued path.

One appliance (web, render workers, the display on the headless STAND-IN panel that records every frame
and its swap time) with both inputs on loopback, fed by the senders written from each protocol's
documentation (testsupport.udp_senders) over real UDP. Every frame is unique: its sequence number is in
its first two pixels, over a fixed random picture, so each swap is matched to its send (time.time_ns()
just before the first sendto of its datagrams; the recording's swap times are the same clock).
Each figure beside its baseline, same run:

- datagram → frame swapped on the panel, ms: DDP (a frame in five datagrams, push on the last) for 60 s
  at 60 fps, FlaschenTaschen (one PPM datagram) for 3,000 frames at 60 fps; baseline: the queued path,
  the same frames as high-priority image jobs (the PNG as data_b64), POST → swap, one at a time;
- frames dropped at 60 fps (the same runs: sent against distinct frames recorded, and the receiver's
  own counts by why), and a ramp of rates (a couple of seconds each, until two in a row drop frames):
  the highest rate with none;
- the same at 60 fps while three render workers chew a backlog of 50 low-priority image jobs (a large
  JPEG each, made unique so none comes from the render cache), from the moment the workers are up until
  the last is rendered; baseline: high-priority image jobs in the same situation;
- the display process's CPU time (utime + stime from /proc) per streamed frame over the 60 fps runs;
  baseline: the same process's CPU per frame while it plays a queued ~60 fps animation job (17 ms a
  frame, an APNG of the same frames), measured from its first frame on the panel to its last; and idle,
  per second. With each: how long the display's threads waited for a CPU (their run-queue time, from
  schedstat), per second: a loaded machine's share of a late or dropped frame.
"""

import base64
import io
import json
import random
import socket
import sys
import time
from pathlib import Path

from PIL import Image

from pixie import config as configuration
from pixie import store
from testsupport.servers import free_port, wait_for
from testsupport.udp_senders import ddp_datagrams, flaschen_taschen_datagram

from .harness import Stack, cli, cpu_seconds, machine, side_by_side, summaries, workdir

SIZES = {
    "full": {
        "ddp_frames": 3600,  # 60 s at 60 fps
        "ft_frames": 3000,
        "http": 100,
        "ramp": [60, 120, 240, 480, 960, 1920],
        "ramp_s": 2.0,
        "backlog": 50,
        "animation_frames": 600,
        "load_rounds": 2,
        "idle_s": 5,
    },
    "smoke": {
        "ddp_frames": 30,
        "ft_frames": 30,
        "http": 4,
        "ramp": [60, 120],
        "ramp_s": 0.3,
        "backlog": 3,
        "animation_frames": 30,
        "load_rounds": 1,
        "idle_s": 0.5,
    },
}
FPS = 60
ANIMATION_MS = 17  # the nearest whole-millisecond hold to 60 fps an animation file can say
SEQ_BYTES = 6  # the sequence number: the first two pixels
PROTOCOLS = {"ddp": "ddp", "flaschen_taschen": "flaschen_taschen"}  # ours → GET /api/v1/inputs's
LOAD_WORKERS = 3
CHECK_EVERY = 15  # frames between looks at the backlog while streaming under load (a quarter second)


class Bench:
    def __init__(self, stack: Stack, ports: dict[str, int], seed: int):
        self.stack, self.ports = stack, ports
        panel = configuration.Panel()
        self.size = (panel.width, panel.height)
        self.rng = random.Random(seed)  # noqa: S311 - test inputs, not secrets
        self.background = self.rng.randbytes(panel.width * panel.height * 3)
        self.seq = 1
        self.swaps: dict[int, int] = {}  # seq → its first swap on the panel, ns
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.display = stack.processes.procs["display"].pid

    # -- frames ----------------------------------------------------------------------------------

    def frame(self, seq: int) -> bytes:
        return seq.to_bytes(SEQ_BYTES, "big") + self.background[SEQ_BYTES:]

    def png(self, seq: int) -> str:
        out = io.BytesIO()
        Image.frombytes("RGB", self.size, self.frame(seq)).save(out, "PNG")
        return base64.b64encode(out.getvalue()).decode()

    def next_seqs(self, n: int) -> range:
        seqs = range(self.seq, self.seq + n)
        self.seq += n
        return seqs

    def datagrams(self, protocol: str, seq: int) -> list[bytes]:
        if protocol == "ddp":
            return ddp_datagrams(self.frame(seq))
        return [flaschen_taschen_datagram(Image.frombytes("RGB", self.size, self.frame(seq)))]

    def read(self) -> None:
        """The swaps recorded since the last look, by sequence number (frames not ours are skipped)."""
        tail = self.background[SEQ_BYTES:]
        for ns, frame in self.stack.read():
            if frame[SEQ_BYTES:] == tail:
                self.swaps.setdefault(int.from_bytes(frame[:SEQ_BYTES], "big"), ns)
        self.stack.frames.clear()  # a minute of 60 fps is 22 MB: keep only what matters

    def shown(self, seq: int, timeout: float = 30) -> int:
        def seen():
            self.read()
            return self.swaps.get(seq)

        return wait_for(seen, f"frame {seq} on the panel", timeout=timeout, interval=0.002)

    # -- the live path ---------------------------------------------------------------------------

    def stream(self, protocol: str, rate: float, count: int | None = None, keep_going=None) -> dict:
        """Frames at `rate` a second, paced (a late one goes at once, none skipped): `count` of them, or
        while keep_going(seq) (asked every CHECK_EVERY frames). Their send times, ns, by seq."""
        address = ("127.0.0.1", self.ports[protocol])
        sent: dict[int, int] = {}
        start = time.perf_counter()
        i = 0
        while count is None or i < count:
            if keep_going is not None and i % CHECK_EVERY == 0 and not keep_going(self.seq):
                break
            if (left := start + i / rate - time.perf_counter()) > 0:
                time.sleep(left)
            seq = self.next_seqs(1)[0]
            datagrams = self.datagrams(protocol, seq)
            sent[seq] = time.time_ns()
            for datagram in datagrams:
                self.sock.sendto(datagram, address)
            i += 1
        return sent

    def settle(self, sent: dict[int, int]) -> None:
        """Until the last frame sent is on the panel, or a second without it (it was dropped)."""
        last = max(sent)
        deadline = time.monotonic() + 1.0
        while last not in self.swaps and time.monotonic() < deadline:
            time.sleep(0.01)
            self.read()

    def outcome(self, protocol: str, sent: dict[int, int], before: dict) -> dict:
        """Latencies of the frames shown, the dropped count, and the receiver's counts over the run."""
        self.settle(sent)
        shown = [seq for seq in sent if seq in self.swaps]
        span_s = (max(sent.values()) - min(sent.values())) / 1e9 if len(sent) > 1 else 0.0
        return {
            "latency_ms": [(self.swaps[seq] - sent[seq]) / 1e6 for seq in shown],
            "sent": len(sent),
            "shown": len(shown),
            "dropped": len(sent) - len(shown),
            "rate_fps": round((len(sent) - 1) / span_s, 1) if span_s else None,
            "receiver": difference(self.counts(protocol), before),
        }

    def counts(self, protocol: str) -> dict:
        """GET /api/v1/inputs for `protocol`, from a heartbeat after this moment (they go out with it)."""
        now = time.time()
        wait_for(lambda: (store.get_json(self.stack.v, store.HEARTBEAT) or {}).get("time", 0) > now, "a heartbeat")
        return self.stack.request("GET", "/api/v1/inputs")[1][PROTOCOLS[protocol]]

    def run(self, protocol: str, count: int, rate: float = FPS) -> dict:
        """A paced run of `count` frames: its outcome and what the display process used meanwhile."""
        before, use = self.counts(protocol), usage(self.display)
        sent = self.stream(protocol, rate, count)
        self.settle(sent)
        return {**self.outcome(protocol, sent, before), "display": used(self.display, use)}

    def idle(self, seconds: float) -> dict:
        """What the display process uses with nothing to show (the live input's fallback over)."""
        time.sleep(configuration.Inputs().fallback_s + 0.2)
        use = usage(self.display)
        time.sleep(seconds)
        return {"seconds": seconds, **used(self.display, use)}

    def warm_up(self, protocol: str) -> None:
        """One frame first: DDP shows every datagram until a sender's first push."""
        sent = self.stream(protocol, FPS, 1)
        self.shown(max(sent))

    def ramp(self, protocol: str, rates: list[int], seconds: float) -> dict:
        """Each rate for `seconds`, until two in a row dropped frames (one may be the machine's hiccup)."""
        steps = {}
        for rate in rates:
            result = self.run(protocol, max(2, int(rate * seconds)), rate)
            del result["latency_ms"]
            steps[rate] = result
            if len(steps) > 1 and all(step["dropped"] for step in list(steps.values())[-2:]):
                break
        return steps

    # -- the queued path -------------------------------------------------------------------------

    def http(self, samples: int | None = None, keep_going=None) -> list[float]:
        """POST → swap of the same frames as high-priority image jobs, one at a time: `samples` of them, or
        while keep_going() (at least one)."""
        out = []
        while (samples is None or len(out) < samples) and (not out or keep_going is None or keep_going()):
            seq = self.next_seqs(1)[0]
            job = {"kind": "image", "data_b64": self.png(seq), "priority": "high", "duration_s": 0.05}
            t0, job_id = self.stack.post(job)
            out.append((self.shown(seq) - t0) / 1e6)
            wait_for(lambda j=job_id: self.stack.done(j), "the job done", interval=0.01)
        return out

    def animation(self, frames: int) -> dict:
        """The display's CPU per frame while it plays a queued ~60 fps animation of the same frames."""
        seqs = self.next_seqs(frames)
        images = [Image.frombytes("RGB", self.size, self.frame(seq)) for seq in seqs]
        out = io.BytesIO()
        images[0].save(out, "PNG", save_all=True, append_images=images[1:], duration=ANIMATION_MS, loop=0)
        data = base64.b64encode(out.getvalue()).decode()
        self.stack.post({"kind": "animation", "data_b64": data, "priority": "high", "repeat": 1})
        self.shown(seqs[0], timeout=120)
        use, t0 = usage(self.display), time.time_ns()
        time.sleep(max(0.0, frames * ANIMATION_MS / 1000 - 0.5))  # not reading the recording meanwhile
        self.shown(seqs[-1], timeout=120)
        display, t1 = used(self.display, use), time.time_ns()
        played = sum(t0 <= self.swaps.get(seq, 0) <= t1 for seq in seqs)
        return {"frames": played, "hold_ms": ANIMATION_MS, "display": display}

    # -- under load ------------------------------------------------------------------------------

    def backlog(self, jobs: int, jpeg: bytes) -> list[str]:
        """`jobs` low-priority image jobs queued with the workers stopped; the workers then start (not
        waited for). Each JPEG made unique by a comment, so every one is rendered."""
        self.stack.set_workers(0)
        ids = []
        for _ in range(jobs):
            tag = self.next_seqs(1)[0].to_bytes(6, "big")  # unique across backlogs too
            unique = jpeg[:2] + b"\xff\xfe\x00\x08" + tag + jpeg[2:]  # in a COM segment
            job = {"kind": "image", "data_b64": base64.b64encode(unique).decode(), "fit": "fill"}
            ids.append(self.stack.post({**job, "priority": "low", "duration_s": 0.05})[1])
        self.stack.set_workers(LOAD_WORKERS, wait=False)
        return ids

    def loaded(self, jpeg: bytes, jobs: int) -> tuple[dict, list[float], dict]:
        """DDP at 60 fps, then the HTTP baseline, each while the workers chew a backlog: the stream's
        outcome over [workers up, backlog rendered], the baseline's samples, and how long each chewed."""
        backlog = Backlog(self.stack, self.backlog(jobs, jpeg))
        first = []  # the first frame sent once the workers were up, what the display had used by then

        def streaming(seq: int) -> bool:
            going = backlog.chewing()
            if backlog.up is not None and not first:
                first.extend((seq, usage(self.display)))
            return going

        before = self.counts("ddp")
        sent = self.stream("ddp", FPS, keep_going=streaming)
        stream = self.outcome("ddp", {seq: ns for seq, ns in sent.items() if seq >= first[0]}, before)
        stream["display"] = used(self.display, first[1])
        stream["receiver, whole stream"] = stream.pop("receiver")  # from the workers' start on
        windows = {"ddp": backlog.s}
        self.stack.drain()
        backlog = Backlog(self.stack, self.backlog(jobs, jpeg))
        wait_for(lambda: not backlog.chewing() or backlog.up is not None, "the workers up", interval=0.01)
        http = self.http(keep_going=backlog.chewing)
        windows["http"] = backlog.s
        self.stack.drain()
        return stream, http, windows


class Backlog:
    """Jobs being rendered by workers that are starting: chewing() until all are rendered."""

    def __init__(self, stack: Stack, ids: list[str]):
        self.stack, self.ids = stack, ids
        self.up: float | None = None  # when all LOAD_WORKERS were up
        self.s: float | None = None  # how long they took from then

    def chewing(self) -> bool:
        if self.s is not None:
            return False
        if self.up is None:
            if self.stack.r.scard("rq:workers") == LOAD_WORKERS:
                self.up = time.monotonic()
            return True  # at least one more look once they are up
        if all(state not in ("queued", "rendering") for state in store.states(self.stack.r, self.ids)):
            self.s = round(time.monotonic() - self.up, 2)
            return False
        return True


def difference(after: dict, before: dict) -> dict:
    """The receiver's counts over a run: received datagrams, frames made, dropped by why."""
    dropped = {why: n - before["dropped"].get(why, 0) for why, n in after["dropped"].items()}
    return {
        "received": after["received"] - before["received"],
        "frames": after["frames"] - before["frames"],
        "dropped": {why: n for why, n in dropped.items() if n},
    }


def usage(pid: int) -> tuple[float, float, float]:
    """(now, CPU time, time runnable but waiting for a CPU) of a process, all its threads, in seconds:
    utime + stime from /proc/<pid>/stat (10 ms ticks), the run-queue waits from each thread's schedstat."""
    waited = sum(int(Path(task, "schedstat").read_text().split()[1]) for task in Path(f"/proc/{pid}/task").iterdir())
    return time.monotonic(), cpu_seconds(pid, children=False), waited / 1e9


def used(pid: int, since: tuple[float, float, float]) -> dict:
    now = usage(pid)
    seconds, cpu, waited = (b - a for a, b in zip(since, now, strict=True))
    return {"cpu_s": round(cpu, 3), "waited_for_cpu_ms_per_s": round(waited * 1000 / seconds, 2)}


def big_jpeg(rng: random.Random, width: int = 2400, height: int = 1600) -> bytes:
    """A photo-like JPEG near render.max_image_pixels: smooth colour with grain."""
    smooth = Image.frombytes("RGB", (width // 10, height // 10), rng.randbytes(width * height * 3 // 100))
    grain = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    out = io.BytesIO()
    Image.blend(smooth.resize((width, height), Image.Resampling.BICUBIC), grain, 0.15).save(out, "JPEG", quality=90)
    return out.getvalue()


def receiver(run: dict) -> dict:
    return next(v for k, v in run.items() if k.startswith("receiver"))


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().strip()


def per_frame_us(run: dict) -> float | None:
    return round(run["display"]["cpu_s"] / run["shown"] * 1e6, 1) if run["shown"] else None


def main() -> None:
    args = cli(__doc__)
    sizes = SIZES["smoke" if args.smoke else "full"]
    load_before = loadavg()
    started = time.monotonic()
    runs: dict = {}
    http_loaded, windows = [], []
    with workdir("pixie-bench-inputs-") as work:
        stack = Stack("pixie", work)
        ports = {"ddp": free_port(socket.SOCK_DGRAM), "flaschen_taschen": free_port(socket.SOCK_DGRAM)}
        stack.processes.env.update(
            {
                "PIXIE_INPUTS_DDP": "1",
                "PIXIE_INPUTS_DDP_PORT": str(ports["ddp"]),
                "PIXIE_INPUTS_FLASCHEN_TASCHEN": "1",
                "PIXIE_INPUTS_FLASCHEN_TASCHEN_PORT": str(ports["flaschen_taschen"]),
            }
        )
        try:
            stack.start(workers=2)
            bench = Bench(stack, ports, args.seed)
            jpeg = big_jpeg(bench.rng)
            for protocol in PROTOCOLS:
                bench.warm_up(protocol)
            idle = bench.idle(sizes["idle_s"])
            print("running ddp at 60 fps …", file=sys.stderr, flush=True)
            runs["ddp"] = bench.run("ddp", sizes["ddp_frames"])
            http = bench.http(sizes["http"] // 2)
            print("running flaschen-taschen at 60 fps …", file=sys.stderr, flush=True)
            runs["flaschen_taschen"] = bench.run("flaschen_taschen", sizes["ft_frames"])
            http += bench.http(sizes["http"] - sizes["http"] // 2)
            print("running the ramps …", file=sys.stderr, flush=True)
            ramps = {protocol: bench.ramp(protocol, sizes["ramp"], sizes["ramp_s"]) for protocol in PROTOCOLS}
            print("running the animation …", file=sys.stderr, flush=True)
            animation = bench.animation(sizes["animation_frames"])
            print("running under load …", file=sys.stderr, flush=True)
            for i in range(1, sizes["load_rounds"] + 1):
                runs[f"ddp_under_load_{i}"], http_round, window = bench.loaded(jpeg, sizes["backlog"])
                http_loaded += http_round
                windows.append(window)
        finally:
            stack.stop()
    latency = {name: run.pop("latency_ms") for name, run in runs.items()}
    loaded = [ms for name, values in latency.items() if name.startswith("ddp_under_load") for ms in values]
    samples = {
        "ddp_to_panel_ms": {"baseline": http, "pixie": latency["ddp"]},
        "flaschen_taschen_to_panel_ms": {"baseline": http, "pixie": latency["flaschen_taschen"]},
        "ddp_to_panel_ms_under_load": {"baseline": http_loaded, "pixie": loaded},
    }
    highest = {
        protocol: max((rate for rate, step in steps.items() if not step["dropped"]), default=None)
        for protocol, steps in ramps.items()
    }
    cpu = {name: per_frame_us(run) for name, run in runs.items()}
    cpu["baseline: queued animation"] = per_frame_us({**animation, "shown": animation["frames"]})
    figures = summaries(samples)
    report = {
        "machine": machine(),
        "loadavg": {"before": load_before, "after": loadavg()},
        "duration_s": round(time.monotonic() - started, 1),
        "sizes": sizes,
        "figures": figures,
        "runs_60fps": runs,
        "ramp": ramps,
        "highest_fps_without_drops": highest,
        "load_windows_s": windows,
        "cpu_us_per_frame": cpu,
        "animation": animation,
        "idle": idle,
        "samples": samples,
    }
    (args.out / "inputs.json").write_text(json.dumps(report, indent=2))
    side_by_side(figures, label="live")
    print("baseline: the same frames as high-priority image jobs, POST → swap (under load: while the backlog renders)")
    head = f"{'sent':>6}{'shown':>7}{'dropped':>8}{'fps':>6}{'CPU µs/frame':>13}{'waited ms/s':>12}"
    print(f"{'60 fps run':<22}{head}  receiver")
    for name, run in runs.items():
        counts = f"{run['sent']:>6}{run['shown']:>7}{run['dropped']:>8}{run['rate_fps']!s:>6}"
        print(f"{name:<22}{counts}{cpu[name]!s:>13}{run['display']['waited_for_cpu_ms_per_s']:>12}  {receiver(run)}")
    for protocol, steps in ramps.items():
        tried = ", ".join(
            f"{rate}: {step['dropped']} dropped ({step['rate_fps']} fps sent)" for rate, step in steps.items()
        )
        print(f"ramp {protocol}: {tried}; highest without drops: {highest[protocol]}")
    for i, window in enumerate(windows, 1):
        chewed = ", ".join(f"{name} {seconds} s" for name, seconds in window.items())
        print(f"under load, round {i}: the backlog of {sizes['backlog']} rendered once 3 workers were up in: {chewed}")
    animated = animation["display"]
    print(
        f"baseline: the display playing a queued {ANIMATION_MS} ms/frame animation: {cpu['baseline: queued animation']}"
        f" µs CPU a frame ({animation['frames']} frames), waited {animated['waited_for_cpu_ms_per_s']} ms/s;"
        f" idle: {idle['cpu_s'] * 1000 / idle['seconds']:.1f} ms CPU a second"
    )
    print(f"loadavg before: {report['loadavg']['before']}; after: {report['loadavg']['after']}")
    print(f"{report['duration_s']} s; wrote {args.out / 'inputs.json'}")


if __name__ == "__main__":
    main()
