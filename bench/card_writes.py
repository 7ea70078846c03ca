"""`python -m bench.card_writes`: what reaches the SD card, today's layout against the new one.

The layouts run side by side in the same run, each a whole appliance (web,
two `rq worker`s, the display on the headless STAND-IN panel) over a durable
redis-server with the device's settings (append-only file, `appendfsync
always`, no snapshots):

- one AOF: everything in that one Redis, and rq's stock worker (its
  heartbeat and registry maintenance every 30 s): the layout before this
  work, the baseline;
- split, stock rq: heartbeat, preview, display commands and the render
  cache in a second redis-server that keeps nothing on disk;
- as shipped: that split, with pixie's worker (worker.py: it beats in the
  volatile Redis, renews rq's record once a day, runs rq's maintenance only
  when there is work) (the ratio column: one AOF over this one);
- + rq's scheduler: the split with stock rq, a worker running RQ's
  scheduler of timed jobs (it renews its locks every second);
- + pixie's scheduler: as shipped, with pixie's (scheduler.py: its locks in
  the volatile Redis, woken for a new timed job through it).

For the durable Redis, whose files are on the card, it counts the bytes its
append-only file grew and the fsyncs it made (strace), while idle, while a
20 fps animation loops, and for a batch of accepted jobs, and which
commands wrote while idle (rq's own bookkeeping among them).
"""

import json
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import redis

from pixie.local import Processes, headless_env
from testsupport.servers import answers, free_port, redis_server, wait_for

from .harness import _gif, cli, workdir

# rq's own worker (and, with it, rq's own scheduler), its heartbeat and maintenance every 30 s.
STOCK_RQ = {
    "PIXIE_WORKER_WORKER_CLASS": "rq.worker.SimpleWorker",
    "PIXIE_WORKER_TTL_S": "30",
    "PIXIE_WORKER_MAINTENANCE_INTERVAL_S": "30",
}
# name: (a volatile Redis beside the durable one, settings over pixie's defaults, a worker runs the
# scheduler of timed jobs); the baseline first.
LAYOUTS = {
    "one AOF": (False, STOCK_RQ, False),
    "split, stock rq": (True, STOCK_RQ, False),
    "as shipped": (True, {}, False),
    "+ rq's scheduler": (True, STOCK_RQ, True),
    "+ pixie's scheduler": (True, {}, True),
}
SHIPPED = "as shipped"
SIZES = {"full": {"window_s": 120, "jobs": 1000}, "smoke": {"window_s": 4, "jobs": 20}}
DURABLE = ("--appendonly", "yes", "--appendfsync", "always")


class Appliance:
    def __init__(self, layout: str, work: Path):
        self.layout = layout
        self.dir = work / "".join(c for c in layout if c.isalnum())
        split, settings, scheduler = LAYOUTS[layout]
        self.dir.mkdir()
        self.redis, url = redis_server(self.dir, *DURABLE)
        self.r = redis.Redis.from_url(url)
        self.servers = [self.redis]
        volatile = ""
        if split:
            (self.dir / "volatile").mkdir()
            server, volatile = redis_server(self.dir / "volatile", "--appendonly", "no")
            self.servers.append(server)
        self.port = free_port()
        env = headless_env(f"{url}/0", self.port, self.dir / "frames.bin", f"{volatile}/0" if volatile else "")
        env["PIXIE_DISPLAY_IDLE"] = "clock"  # as on the device
        env["PIXIE_WORKER_MAX_JOBS"] = "1000000"  # no systemd here to restart a worker that retires
        env["PIXIE_DISPLAY_RECORD_PATH"] = ""  # the stand-in panel records nothing: only Redis is measured
        env.update(settings)
        self.processes = Processes(env, self.dir)
        self.processes.start_appliance(workers=2, scheduler=scheduler)
        # Not /healthz: it counts the beats of pixie's workers, which rq's stock ones do not send.
        wait_for(lambda: answers(f"http://127.0.0.1:{self.port}/openapi.json"), f"{layout}: web", timeout=60)
        wait_for(lambda: self.r.scard("rq:workers") == 2, f"{layout}: 2 workers", timeout=60)

    def post(self, job: dict) -> str:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/v1/jobs",
            json.dumps(job).encode(),
            {"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())["id"]

    def state(self, job_id: str) -> str:
        return (self.r.hget(f"pixie:job:{job_id}", "state") or b"").decode()

    def aof_bytes(self) -> int:
        return sum(f.stat().st_size for f in (self.dir / "appendonlydir").glob("*.aof"))

    def writes(self) -> dict[str, int]:
        """Calls so far of each command that can write (Redis's own flags; scripts count as writes)."""
        writers = {name for name, info in self.r.command().items() if "write" in info["flags"]} | {"eval", "evalsha"}
        stats = self.r.info("commandstats")
        return {name: v["calls"] for key, v in stats.items() if (name := key.removeprefix("cmdstat_")) in writers}

    def stop(self) -> None:
        self.processes.stop()
        for server in self.servers:
            server.terminate()
            server.wait(10)


class Measure:
    """Bytes and fsyncs of each durable Redis over one window (strace counts the fsyncs)."""

    def __init__(self, appliances: list[Appliance], out: Path):
        self.appliances = appliances
        self.out = out

    def __enter__(self):
        self.start = time.monotonic()
        self.before = [(a.aof_bytes(), a.writes()) for a in self.appliances]
        self.traces = []
        for i, a in enumerate(self.appliances):
            log = self.out / f"strace-{i}.txt"
            argv = ["strace", "-f", "-c", "-e", "trace=fsync,fdatasync", "-o", str(log), "-p", str(a.redis.pid)]
            self.traces.append((subprocess.Popen(argv, stderr=subprocess.DEVNULL), log))
        time.sleep(0.5)  # attached
        return self

    def __exit__(self, *_):
        self.seconds = time.monotonic() - self.start
        self.results = {}
        for a, (aof, writes), (trace, log) in zip(self.appliances, self.before, self.traces, strict=True):
            trace.send_signal(signal.SIGINT)
            trace.wait(10)
            now = a.writes()
            commands = {k: now[k] - writes.get(k, 0) for k in now if now[k] - writes.get(k, 0) > 0}
            self.results[a.layout] = {
                "aof_bytes": a.aof_bytes() - aof,
                "fsyncs": _fsyncs(log.read_text()),
                "write_commands": dict(sorted(commands.items(), key=lambda kv: -kv[1])[:6]),
            }


def _fsyncs(summary: str) -> int:
    """The calls column of strace -c's fsync and fdatasync rows."""
    calls = 0
    for line in summary.splitlines():
        parts = line.split()
        if parts and parts[-1] in ("fsync", "fdatasync"):  # % time, seconds, usecs/call, calls, [errors,] syscall
            calls += int(parts[3])
    return calls


def run(sizes: dict, work: Path) -> dict:
    appliances = [Appliance(layout, work) for layout in LAYOUTS]
    figures = {}
    try:
        time.sleep(2)  # past start-up
        window = sizes["window_s"]
        with Measure(appliances, work) as idle:
            time.sleep(window)
        figures["idle, per hour"] = _per_hour(idle)
        gif = _gif([(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)], 50)
        loops = [a.post({"kind": "animation", "data_b64": gif, "duration_s": window + 30}) for a in appliances]
        for a, job in zip(appliances, loops, strict=True):
            wait_for(lambda a=a, j=job: a.state(j) == "playing", f"{a.layout}: animation playing")
        with Measure(appliances, work) as animation:
            time.sleep(window)
        figures["20 fps animation, per hour"] = _per_hour(animation)
        for a, job in zip(appliances, loops, strict=True):
            urllib.request.urlopen(
                urllib.request.Request(f"http://127.0.0.1:{a.port}/api/v1/jobs/{job}", method="DELETE"), timeout=30
            ).close()
        with Measure(appliances, work) as batch:
            for a in appliances:
                ids = [a.post({"kind": "fill", "color": f"#{i % 256:02x}0000", "duration_s": 0.01})
                       for i in range(sizes["jobs"])]  # fmt: skip
                wait_for(lambda a=a, i=ids: all(a.state(j) in ("done", "failed") for j in i), "jobs done", timeout=900)
        scale = 1000 / sizes["jobs"]
        figures["per 1000 accepted jobs"] = {
            layout: {**r, "aof_bytes": round(r["aof_bytes"] * scale), "fsyncs": round(r["fsyncs"] * scale)}
            for layout, r in batch.results.items()
        }
    finally:
        for a in appliances:
            a.stop()
    return figures


def _per_hour(measure: Measure) -> dict:
    factor = 3600 / measure.seconds
    return {
        layout: {**r, "aof_bytes": round(r["aof_bytes"] * factor), "fsyncs": round(r["fsyncs"] * factor)}
        for layout, r in measure.results.items()
    }


def table(figures: dict) -> str:
    names = list(LAYOUTS)
    rows = [f"{'durable Redis (on the card)':<30} {'':<7}" + "".join(f"{n:>21}" for n in names) + f"{'ratio':>11}"]
    for name, per in figures.items():
        for stat, unit in (("aof_bytes", "bytes"), ("fsyncs", "fsyncs")):
            values = [per[n][stat] for n in names]
            old, new = values[0], per[SHIPPED][stat]
            ratio = f"{old / new:.3g}x" if new else ("-" if not old else "inf")
            rows.append(f"{name:<30} {unit:<7}" + "".join(f"{v:>21}" for v in values) + f"{ratio:>11}")
    for layout in LAYOUTS:
        rows.append(f"  idle writes, {layout}: {figures['idle, per hour'][layout]['write_commands']}")
    return "\n".join(rows)


def main() -> None:
    args = cli(__doc__)
    if not shutil.which("strace"):
        sys.exit("bench.card_writes: needs strace (apt-get install strace) to count fsyncs")
    sizes = SIZES["smoke" if args.smoke else "full"]
    with workdir("pixie-card-") as work:
        figures = run(sizes, work)
    (args.out / "card_writes.json").write_text(json.dumps({"sizes": sizes, "figures": figures}, indent=2))
    print(table(figures))
    print(f"\nwrote {args.out / 'card_writes.json'}")


if __name__ == "__main__":
    main()
