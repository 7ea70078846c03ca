"""`python -m bench`: the original design against pixie, side by side, and
the floor beneath both.

The configurations run in the same run, each on its own redis-server,
alternating sample by sample on the same inputs, with the display on the
headless STAND-IN panel that records every frame and its swap time. Real
HTTP, real Redis, real `rq worker` processes. The floor is the least a
pipeline of this shape costs on this machine: pixie-web's server stack
receives the POST, one Redis round trip hands a frame rendered before timing
to a process that swaps it (bench/floor_web.py, bench/floor_display.py); it
takes part in the latency figures only.

Every median and p99 comes with a bootstrap 95% interval; the JSON records
the machine's load before and after the run. Sizes: the default ("full") is
what the figures are judged on and wants a quiet machine; --quick is a quick
look; --smoke only checks the harness.
"""

import argparse
import base64
import contextlib
import io
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import redis
from PIL import Image
from rq import Queue
from rq.job import Job
from rq.serializers import JSONSerializer

from pixie import config as configuration
from pixie import spec, store
from pixie.local import BIN, Processes, headless_env
from pixie.render import kinds
from pixie.stream import read_recording
from testsupport.servers import answers, free_port, redis_server, wait_for

from . import floor_display

ROOT = Path(__file__).resolve().parent.parent
FRAME_MS = 20  # the 50 fps animation
# A cold job's milestones, each in ms after its POST was sent: the answer's arrival, then rq's
# enqueued_at, started_at (a worker took it) and ended_at (its render stored), then the first frame's swap.
# The display may swap before ended_at: the job is ready before rq's own bookkeeping ends.
STAGES = ("answered", "enqueued", "taken", "finished", "swapped")
LATE_MS = 5
RESAMPLES = 2000  # bootstrap resamples per interval
# How long the harness waits for a process, a job or a frame before calling the run hung. It times
# nothing, so it is generous: under make bench-pi3 the emulated Pi 3 is 15-35x slower than this machine.
PATIENCE_S = 600
SCROLL_TEXT = ("The quick brown fox jumps over the lazy dog. " * 3)[:120]  # about 1,300 frames of scrolling


class Stack:
    """One configuration under test: its processes, its own redis-server, its recording."""

    def __init__(self, name: str, work: Path, **settings):
        """`settings`: pixie's, as PIXIE_<SECTION>_<KEY> (worker_max_jobs=...)."""
        self.name = name
        self.url = f"http://127.0.0.1:{free_port()}"
        (work / name).mkdir()
        self.redis, url = redis_server(work / name)
        self.redis_url = f"{url}/0"
        self.r = redis.Redis.from_url(self.redis_url)
        self.servers = {"redis": self.redis}
        volatile = ""
        if name == "pixie":  # as shipped: the volatile state in a second Redis
            self.servers["redis-volatile"], volatile = redis_server(work / name)
        self.v = redis.Redis.from_url(f"{volatile}/0") if volatile else self.r
        self.record = work / f"{name}.frames"
        self.record.touch()
        self.offset = 0
        self.frames: list[tuple[int, bytes]] = []
        port = int(self.url.rsplit(":", 1)[1])
        env = headless_env(self.redis_url, port, self.record, volatile and f"{volatile}/0", **settings)
        env["PYTHONPATH"] = str(ROOT)  # the baseline's job module lives in bench/
        logs = work / f"{name}-logs"
        logs.mkdir()
        self.processes = Processes(env, logs)
        self.workers = 0

    def start(self, workers: int) -> None:
        if self.name == "pixie":
            self.processes.start("web", "pixie-web")
            self.processes.start("display", "pixie-display")
        else:  # the same server stack as pixie-web, without its access log
            port = self.url.rsplit(":", 1)[1]
            uvicorn = ["--port", port, "--log-level", "warning", "--no-access-log"]
            self.processes.start("web", "uvicorn", f"bench.{self.name}_web:app", *uvicorn)
        if self.name == "floor":
            self.processes.start("display", "python", "-m", "bench.floor_display")
        else:
            self.set_workers(workers)
        wait_for(lambda: answers(self.url + "/openapi.json"), f"{self.name} web", timeout=PATIENCE_S)

    def set_workers(self, n: int, wait: bool = True) -> None:
        """N render workers; `wait`: until all are registered (else they come up while the caller goes on)."""
        for i in range(self.workers, n, -1):
            proc = self.processes.procs.pop(f"worker{i}")
            proc.terminate()
            proc.wait(30)
        for i in range(self.workers + 1, n + 1):
            if self.name == "pixie":  # as shipped: workers at Nice=10, below the display; the first schedules
                argv = ["-n", "10", str(BIN / "pixie-worker"), str(i), *(["--with-scheduler"] if i == 1 else [])]
                self.processes.start(f"worker{i}", "/usr/bin/nice", *argv)
            else:  # the original appliance's stock forking worker
                argv = ["worker", "-w", "rq.worker.Worker", "--serializer", "json", "high", "default", "low"]
                self.processes.start(f"worker{i}", "rq", *argv)
        self.workers = n
        if wait:
            wait_for(
                lambda: self.supervise() or self.r.scard("rq:workers") == n,
                f"{self.name}: {n} workers",
                timeout=PATIENCE_S,
            )

    def supervise(self) -> None:
        """Start again what exited, as systemd does on the device: pixie's workers exit after worker.max_jobs
        jobs (500) to give their memory back. Called by every wait (done, read), so a long run goes on."""
        self.processes.restart_exited()

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        """(when it was sent, in time_ns; the JSON answer)."""
        data = _body(body) if body is not None else None
        request = urllib.request.Request(self.url + path, data, {"Content-Type": "application/json"}, method=method)
        t0 = time.time_ns()
        with urllib.request.urlopen(request, timeout=PATIENCE_S) as response:
            answer = response.read()
        return t0, json.loads(answer) if answer else {}

    def post(self, job: dict) -> tuple[int, str]:
        t0, answer = self.request("POST", "/api/v1/jobs" if self.name == "pixie" else "/jobs", job)
        return t0, answer["id"]

    def prepare(self, job: dict, frame: bytes) -> None:
        """The floor renders nothing: its frame for `job` is stored before the job is timed."""
        if self.name == "floor":
            self.r.hset(floor_display.FRAMES, floor_display.key(_body(job)), frame)

    def enqueue_direct(self, jobs: list[dict]) -> None:
        """Seed a deep queue quickly, the way each design's producers enqueue (the floor has no queue: an
        urgent job waits behind nothing, which is the least any design with priorities can do)."""
        if self.name == "floor":
            return
        with self.r.pipeline() as pipe:
            queue = Queue("low", connection=self.r, serializer=JSONSerializer)
            for job in jobs:
                if self.name == "pixie":
                    kwargs = {k: v for k, v in job.items() if k not in ("kind", "priority")}
                    queue.enqueue_call(f"pixie.jobs.show_{job['kind']}", kwargs=kwargs, pipeline=pipe)
                else:  # every field spelt out, as its endpoint does
                    queue.enqueue_call("bench.baseline.play", args=(spec.parse(job).model_dump(),), pipeline=pipe)
            pipe.execute()

    def milestones(self, job_id: str) -> list[int]:
        """When rq says the job was queued, taken by a worker and finished (time_ns; both designs run on rq).
        Pixie's job may be done (shown) before rq has written its ended_at: that is waited for."""
        job = wait_for(
            lambda: (j := Job.fetch(job_id, connection=self.r, serializer=JSONSerializer)).ended_at and j,
            f"{self.name}: rq's end of {job_id}",
            timeout=PATIENCE_S,
        )
        return [int(t.timestamp() * 1e9) for t in (job.enqueued_at, job.started_at, job.ended_at)]

    def done(self, job_id: str) -> bool:
        self.supervise()
        if self.name == "floor":  # done once shown
            return True
        if self.name == "pixie":
            return store.get(self.r, job_id).get("state") in ("done", "failed", "canceled")
        return Job.fetch(job_id, connection=self.r, serializer=JSONSerializer).get_status() in ("finished", "failed")

    def drain(self) -> None:
        """Empty the queues and wait until nothing plays."""
        for name in ("high", "default", "low"):
            Queue(name, connection=self.r, serializer=JSONSerializer).empty()
        self.r.delete(store.READY)
        wait_for(lambda: self._idle(), f"{self.name} idle", timeout=PATIENCE_S)

    def _idle(self) -> bool:
        if self.name == "floor":
            return True
        started = sum(self.r.zcard(f"rq:wip:{q}") for q in ("high", "default", "low"))
        return started == 0 and not self.v.exists(store.NOW_PLAYING)

    def read(self) -> list[tuple[int, bytes]]:
        """Frames recorded since the last call (appended to self.frames)."""
        self.supervise()
        with open(self.record, "rb") as f:
            f.seek(self.offset)
            new = read_recording(f.read())
        if new:
            self.offset += len(new) * (32 + len(new[0][1]))
            self.frames.extend(new)
        return new

    def first_frame_after(self, t0: int, expected: bytes, timeout: float = PATIENCE_S) -> int:
        self.read()
        mark = len(self.frames)
        while mark and self.frames[mark - 1][0] >= t0:
            mark -= 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.read()
            for ns, frame in self.frames[mark:]:
                if ns >= t0 and frame == expected:
                    return ns
            mark = len(self.frames)
            time.sleep(0.002)
        raise TimeoutError(f"{self.name}: the expected frame never showed")

    def pids(self) -> dict[str, int]:
        """The stack's processes (apps and Redis servers) by name."""
        return {name: proc.pid for name, proc in {**self.processes.procs, **self.servers}.items()}

    def memory(self) -> dict:
        return {name: _memory(pid) for name, pid in self.pids().items()}

    def cpu(self) -> dict[str, float]:
        """Each process's CPU seconds so far (the original design's horses counted once reaped)."""
        return {name: cpu_seconds(pid) for name, pid in self.pids().items()}

    def stop(self) -> None:
        self.processes.stop()
        for server in self.servers.values():
            server.terminate()
            server.wait(10)


def _memory(pid: int) -> dict:
    """Resident memory of a process and its children (a forking worker's horse, rq's scheduler): RSS, PSS,
    and private (pages no other process maps: what it frees on exit, unmoved by whatever else runs)."""
    pids = [pid, *_children(pid)]
    total = {"rss_mb": 0.0, "pss_mb": 0.0, "private_mb": 0.0}
    names = {"Rss": "rss_mb", "Pss": "pss_mb", "Private_Clean": "private_mb", "Private_Dirty": "private_mb"}
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                key, _, value = line.partition(":")
                if key in names:
                    total[names[key]] += int(value.split()[0]) / 1024
        except FileNotFoundError:
            continue
    return {k: round(v, 1) for k, v in total.items()}


def cpu_seconds(pid: int, children: bool = True) -> float:
    """utime + stime from /proc/<pid>/stat (10 ms ticks); with `children`, also that of the children it
    has waited for."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_ms_per(before: dict[str, float], after: dict[str, float], count: int) -> dict[str, float]:
    """Each process's CPU milliseconds per job (or frame) between two Stack.cpu() readings."""
    return {name: round((after[name] - before[name]) * 1000 / count, 3) for name in before}


def _children(pid: int) -> list[int]:
    try:
        kids = [int(k) for k in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []
    return kids + [grandchild for kid in kids for grandchild in _children(kid)]


def _body(job: dict) -> bytes:
    """A job as it is sent: the floor's frames are keyed by these bytes."""
    return json.dumps(job).encode()


def summary(values: list[float], seed: int = 0) -> dict:
    """Median, p95, p99 and n; beside the median and the p99 a bootstrap 95% interval (percentile method,
    RESAMPLES resamples drawn with `seed`: the same samples give the same interval)."""
    ordered = sorted(values)
    if not ordered:
        return {"median": None, "median_ci": None, "p95": None, "p99": None, "p99_ci": None, "n": 0}
    n = len(ordered)
    resamples = np.sort(np.random.default_rng(seed).choice(ordered, (RESAMPLES, n)), axis=1)

    def interval(statistic) -> list[float]:
        return [round(float(v), 2) for v in np.percentile(statistic, [2.5, 97.5])]

    return {
        "median": round(statistics.median(ordered), 2),
        "median_ci": interval(np.median(resamples, axis=1)),
        "p95": round(ordered[_rank(95, n)], 2),
        "p99": round(ordered[_rank(99, n)], 2),
        "p99_ci": interval(resamples[:, _rank(99, n)]),
        "n": n,
    }


def _rank(percent: float, n: int) -> int:
    """The index of the `percent` percentile in n sorted values (the value below which `percent`% lie)."""
    return min(n - 1, int(percent / 100 * n))


def summaries(samples: dict) -> dict:
    """{figure: {configuration: values}} as {figure: {configuration: summary}}."""
    return {name: {config: summary(values) for config, values in per.items()} for name, per in samples.items()}


def side_by_side(figures: dict, memory: tuple[str, dict] | None = None, label: str = "pixie") -> None:
    """Each figure's baseline and pixie median, p95 and p99 on one line, then a memory line (name, {config: MB})."""
    head = {"median": "baseline median", "p95": "p95", "p99": "p99"}
    print(f"{'figure':<28}{_cells(head, 17)}{_cells({**head, 'median': label + ' median'}, 15)}{'n':>6}")
    for name, per in figures.items():
        print(f"{name:<28}{_cells(per['baseline'], 17)}{_cells(per['pixie'], 15)}{per['pixie']['n']:>6}")
    if memory:
        print(f"{memory[0]:<28}{memory[1]['baseline']:>17}{'':>18}{memory[1]['pixie']:>15}")


def _cells(stats: dict, width: int) -> str:
    return f"{stats['median']:>{width}}{stats['p95']:>9}{stats['p99']:>9}"


class Bench:
    def __init__(self, stacks: list[Stack], sizes: dict, seed: int):
        self.stacks = stacks
        self.designs = [stack for stack in stacks if stack.name != "floor"]  # what queues, renders and plays
        self.sizes = sizes
        self.rng = random.Random(seed)  # noqa: S311 - test inputs, not secrets
        self.nonce = f"{seed:x}"
        self.panel = configuration.Panel()
        self.limits = configuration.Render()
        self.results: dict = {}
        self.samples: dict = {}
        self.stages: dict = {}  # {design: {stage: [ms after the POST was sent]}}: where a cold job's time goes

    def expected(self, job: dict) -> bytes:
        media = base64.b64decode(job["data_b64"]) if "data_b64" in job else None
        return kinds.render(spec.parse(job), media, self.panel.width, self.panel.height, self.limits)[0][0]

    def record(self, figure: str, stack: Stack, values: list[float]) -> None:
        self.samples.setdefault(figure, {}).setdefault(stack.name, []).extend(values)

    def first_frame(self, figure: str, job: dict) -> None:
        """One sample of POST → first frame on each configuration in turn, the same job, until it is done.
        Its first frame is rendered here before any timing (the floor's frame, and what to look for).
        A cold job's milestones are kept too (STAGES)."""
        frame = self.expected(job)
        for stack in self.stacks:
            stack.prepare(job, frame)
            t0, job_id = stack.post(job)
            answered = time.time_ns()
            swapped = stack.first_frame_after(t0, frame)
            self.record(figure, stack, [(swapped - t0) / 1e6])
            wait_for(lambda s=stack, j=job_id: s.done(j), "job done", timeout=PATIENCE_S)
            if figure == "latency_cold_ms" and stack in self.designs:
                times = [answered, *stack.milestones(job_id), swapped]
                per = self.stages.setdefault(stack.name, {})
                for stage, t in zip(STAGES, times, strict=True):
                    per.setdefault(stage, []).append((t - t0) / 1e6)

    def latency(self) -> None:
        """POST → first frame on the panel; cold = content never seen, warm = seen before."""
        texts = [f"{self.nonce}{i}" for i in range(self.sizes["latency"])]
        for phase in ("cold", "warm"):
            before = {stack.name: stack.cpu() for stack in self.stacks}
            for text in texts:
                self.first_frame(f"latency_{phase}_ms", {"kind": "text", "text": text, "duration_s": 0.05})
            self.results.setdefault("cpu_ms_per_job", {})[phase] = {
                stack.name: cpu_ms_per(before[stack.name], stack.cpu(), len(texts)) for stack in self.stacks
            }

    def large(self) -> None:
        """POST → first frame of large content (a 300-frame GIF, a long scrolling text) beside a one-frame
        image; every sample new content, cut short once it shows."""
        for i in range(self.sizes["large"]):
            gif = _gif(self._colors(300), FRAME_MS)
            text = f"{self.nonce}.{i} {SCROLL_TEXT}"[: len(SCROLL_TEXT)]
            jobs = {
                "image": _image_job(self.rng, self.panel.width, self.panel.height),
                "gif300": {"kind": "animation", "data_b64": gif},
                "scroll": {"kind": "text", "text": text},
            }
            for name, job in jobs.items():
                self.first_frame(f"latency_first_frame_{name}_ms", {**job, "duration_s": 0.05})

    def _colors(self, n: int) -> list[tuple[int, int, int]]:
        """n distinct colours, none dark (a frame is told by its colour)."""
        return [(40 + c // 65536, c // 256 % 256, c % 256) for c in self.rng.sample(range(216 * 65536), n)]

    def pacing(self) -> None:
        """A 50 fps animation played while `backlog` image jobs render: posted one by one, evenly over the
        animation's length, so that renders run all through it (posted at once, they were done in its first
        second). One job holds at most render.max_frames frames: the GIF's frames are played `animation_plays`
        times."""
        frames, plays = self.sizes["animation_frames"], self.sizes["animation_plays"]
        colors = self._colors(frames)
        gif = _gif(colors, FRAME_MS)
        wanted = {bytes(c) * (self.panel.width * self.panel.height): i for i, c in enumerate(colors)}
        backlog = [
            _image_job(self.rng, 400, 300, priority="low", duration_s=0.05) for _ in range(self.sizes["backlog"])
        ]
        every_s = frames * plays * FRAME_MS / 1000 / len(backlog)
        for stack in self.designs:
            before = stack.cpu()
            t0, _ = stack.post({"kind": "animation", "data_b64": gif, "priority": "high", "repeat": plays})
            feeder = threading.Thread(target=self._post_spread, args=(stack, backlog, every_s))
            feeder.start()
            timeout = PATIENCE_S + 2 * frames * plays * FRAME_MS / 1000
            swaps = wait_for(lambda s=stack, t=t0: self._played(s, t, wanted, plays), f"{stack.name} animation",
                             timeout=timeout)  # fmt: skip
            feeder.join()
            errors = [(ns - swaps[0][1]) / 1e6 - i * FRAME_MS for i, ns in swaps]
            self.record("pacing_error_ms", stack, [abs(e) for e in errors])
            self.results.setdefault("late_frames", {})[stack.name] = sum(e > LATE_MS for e in errors)
            # pixie's display alone (the workers' renders of the backlog share the window); the original
            # design has no display process: its workers play the frames between renders
            if "display" in before:
                display = cpu_ms_per(before, stack.cpu(), len(swaps))["display"]
                self.results.setdefault("display_cpu_ms_per_frame", {})[stack.name] = display
            stack.drain()

    @staticmethod
    def _post_spread(stack: Stack, jobs: list[dict], every_s: float) -> None:
        for job in jobs:
            stack.post(job)
            time.sleep(every_s)

    @staticmethod
    def _played(stack: Stack, t0: int, wanted: dict, plays: int) -> list[tuple[int, int]] | None:
        """(frame's place in the whole playback, its first swap time) of every frame shown, once the last
        frame of the last play has been: a frame's index going down starts the next play."""
        stack.read()
        swaps, play, last = [], -1, len(wanted)
        for ns, frame in stack.frames:
            index = wanted.get(frame) if ns >= t0 else None
            if index is not None and index != last:
                play += index < last
                swaps.append((play * len(wanted) + index, ns))
                last = index
        return swaps if swaps and swaps[0][0] == 0 and swaps[-1][0] == plays * len(wanted) - 1 else None

    def throughput(self) -> None:
        """Distinct image jobs per second, all submitted at once, with 1, 2, 3 workers."""
        for workers in self.sizes["workers"]:
            jobs = [_image_job(self.rng, 256, 256, duration_s=0.01) for _ in range(self.sizes["throughput_jobs"])]
            for stack in self.designs:
                stack.set_workers(workers)
                start = time.monotonic()
                ids = [stack.post(job)[1] for job in jobs]
                wait_for(lambda s=stack, i=ids: all(s.done(j) for j in i), "throughput jobs", timeout=PATIENCE_S)
                rate = len(jobs) / (time.monotonic() - start)
                self.results.setdefault("throughput_jobs_per_s", {}).setdefault(stack.name, {})[workers] = round(
                    rate, 2
                )
        for stack in self.designs:
            stack.set_workers(2)

    def depth(self) -> None:
        """Latency of an urgent job while N low-priority jobs wait in the queue."""
        for depth in self.sizes["depths"]:
            filler = [{"kind": "fill", "color": "#202020", "duration_s": 0.2, "priority": "low"}] * depth
            for stack in self.stacks:
                stack.enqueue_direct(filler)
                values = []
                for i in range(self.sizes["depth_samples"]):
                    job = {"kind": "text", "text": f"!{self.nonce}{depth}.{i}", "priority": "high", "duration_s": 0.05}
                    frame = self.expected(job)
                    stack.prepare(job, frame)
                    t0, _ = stack.post(job)
                    values.append((stack.first_frame_after(t0, frame) - t0) / 1e6)
                self.record(f"latency_depth_{depth}_ms", stack, values)
                stack.drain()


def _gif(colors, delay_ms: int) -> str:
    frames = [Image.new("RGB", (64, 32), c) for c in colors]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=delay_ms, loop=0)
    return base64.b64encode(out.getvalue()).decode()


def _image_job(rng: random.Random, width: int, height: int, **options) -> dict:
    image = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    out = io.BytesIO()
    image.save(out, "PNG")
    return {"kind": "image", "data_b64": base64.b64encode(out.getvalue()).decode(), "fit": "fill", **options}


def machine(load_before: tuple[float, float, float] | None = None) -> dict:
    """This machine, and its load average (1, 5, 15 min) now and, if given, as the run began."""
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "panel": "64x32 headless stand-in",
        **({"load_before": [round(v, 2) for v in load_before]} if load_before else {}),
        "load_after": [round(v, 2) for v in os.getloadavg()],
    }


def _cpu_model() -> str:
    """x86's /proc/cpuinfo names the model; on ARM (a Pi's Cortex-A53) only lscpu does."""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    names = [line.split(":", 1)[1].strip() for line in lscpu.splitlines() if line.startswith("Model name:")]
    return names[0] if names else platform.machine()


# Full: what the figures are judged on (issue 35: >= 200 samples per latency figure, >= 3,000 frames of
# pacing, >= 50 samples per queue depth). Quick: the first round's sizes, a look in a few minutes.
SIZES = {
    "full": {
        "latency": 200,
        "large": 200,
        "animation_frames": 1500,  # render.max_frames: one job's most
        "animation_plays": 2,
        "backlog": 50,
        "workers": [1, 2, 3],
        "throughput_jobs": 30,
        "depths": [10, 50, 100, 1000],
        "depth_samples": 50,
    },
    "quick": {
        "latency": 50,
        "large": 20,
        "animation_frames": 40,
        "animation_plays": 1,
        "backlog": 50,
        "workers": [1, 2, 3],
        "throughput_jobs": 30,
        "depths": [10, 50, 100, 1000],
        "depth_samples": 5,
    },
    "smoke": {
        "latency": 3,
        "large": 2,
        "animation_frames": 6,
        "animation_plays": 2,
        "backlog": 3,
        "workers": [1, 2],
        "throughput_jobs": 3,
        "depths": [2, 5],
        "depth_samples": 2,
    },
}


def cli(doc: str, quick: bool = False) -> argparse.Namespace:
    """Every benchmark's options: --smoke (tiny sizes), --out (made), --seed; --quick where asked for."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks the harness, not the numbers")
    if quick:
        parser.add_argument("--quick", action="store_true", help="small sizes: a quick look, too few to rank")
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts" / "bench")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    return args


@contextlib.contextmanager
def workdir(prefix: str):
    """A scratch folder for the stacks' logs and recordings: removed after a run, kept after a failure."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield work
    except BaseException:
        print(f"logs and recordings kept in {work}", file=sys.stderr)
        raise
    shutil.rmtree(work, ignore_errors=True)


@contextlib.contextmanager
def appliance(prefix: str):
    """Pixie as shipped, with two render workers, in a workdir of `prefix`; stopped afterwards."""
    with workdir(prefix) as work:
        stack = Stack("pixie", work)
        try:
            stack.start(workers=2)
            yield stack
        finally:
            stack.stop()


def main() -> None:
    args = cli(__doc__, quick=True)
    size = "smoke" if args.smoke else "quick" if args.quick else "full"
    load_before = os.getloadavg()
    with workdir("pixie-bench-") as work:
        # Per-job figures: pixie's workers do not exit after worker.max_jobs (500) here, as a process's CPU
        # cannot be read once it has gone; bench.memory runs them as shipped, restarts and all.
        steady = {"pixie": {"worker_max_jobs": 1_000_000}}
        stacks = [Stack(name, work, **steady.get(name, {})) for name in ("baseline", "pixie", "floor")]
        try:
            for stack in stacks:
                stack.start(workers=2)
            bench = Bench(stacks, SIZES[size], args.seed)
            for figure in (bench.latency, bench.large, bench.pacing, bench.throughput, bench.depth):
                start = time.monotonic()
                print(f"running {figure.__name__} …", end=" ", file=sys.stderr, flush=True)
                figure()
                print(f"{time.monotonic() - start:.0f} s", file=sys.stderr, flush=True)
            memory = {stack.name: stack.memory() for stack in stacks}
        finally:
            for stack in stacks:
                stack.stop()
    from .chart import draw, ratios, table

    figures = summaries(bench.samples)
    report = {
        "machine": machine(load_before),
        "size": size,
        "sizes": SIZES[size],
        "figures": figures,
        "ratios": ratios(figures),
        "late_frames": bench.results["late_frames"],
        "throughput_jobs_per_s": bench.results["throughput_jobs_per_s"],
        "cpu_ms_per_job": bench.results["cpu_ms_per_job"],
        "display_cpu_ms_per_frame": bench.results["display_cpu_ms_per_frame"],
        "stages_cold_ms": {
            design: {stage: round(statistics.median(values), 2) for stage, values in per.items()}
            for design, per in bench.stages.items()
        },
        "memory_mb": memory,
        "samples": bench.samples,
    }
    (args.out / "bench.json").write_text(json.dumps(report, indent=2))
    print(table(report))
    draw(report, args.out / "bench.png")
    print(f"\nwrote {args.out / 'bench.json'} and {args.out / 'bench.png'}")
