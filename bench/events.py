"""`python -m bench.events`: a job's state changes pushed over `GET /api/v1/events` against
polling for them, on one appliance.

One appliance (web, two `rq worker`s, the display on the headless STAND-IN
panel), real HTTP and Redis. Jobs are sent one after another; each is
watched both ways at once, in the same run:

- events: a client of the event stream (testsupport/sse.py), connected
  before the first job, notes when each `job` event arrives;
- baseline: `GET /api/v1/jobs/{id}` of every job not yet seen done, every
  1.5 s on a clock of its own (the page's old status poll), notes when an
  answer first shows the job, and first shows it done.

The delays, in ms: the job's record's `created` (the state change that makes it
`queued`) → `queued` seen, and its `finished` (set as it turns `done`) → `done` seen.
"""

import json
import threading
import time

from testsupport.servers import wait_for
from testsupport.sse import Listener

from .harness import Stack, appliance, cli, machine, side_by_side, summaries

SIZES = {"full": {"jobs": 200}, "smoke": {"jobs": 3}}
POLL_S = 1.5  # the page's old STATUS_MS


class Poller:
    """GET /api/v1/jobs/{id} of each job it watches, every POLL_S, until it has seen it done."""

    def __init__(self, stack: Stack):
        self.stack = stack
        self.seen: dict[str, dict[str, float]] = {}  # job -> {"queued": when first listed, "done": when seen done}
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def watch(self, job_id: str) -> None:
        with self.lock:
            self.seen[job_id] = {}

    def _run(self) -> None:
        tick = time.monotonic()
        while not self.stopped.is_set():
            with self.lock:
                watching = [job for job, seen in self.seen.items() if "done" not in seen]
            for job in watching:
                state = self.stack.request("GET", f"/api/v1/jobs/{job}")[1]["state"]
                now = time.time()
                with self.lock:
                    self.seen[job].setdefault("queued", now)
                    if state == "done":
                        self.seen[job]["done"] = now
            tick += POLL_S
            self.stopped.wait(max(0.0, tick - time.monotonic()))

    def all_done(self) -> bool:
        with self.lock:
            return all("done" in seen for seen in self.seen.values())


def run(stack: Stack, n: int) -> dict[str, dict[str, list[float]]]:
    samples = {"queued_ms": {"baseline": [], "pixie": []}, "done_ms": {"baseline": [], "pixie": []}}
    poller = Poller(stack)
    with Listener(stack.url + "/api/v1/events") as events:
        jobs = []
        for i in range(n):
            fill = {"kind": "fill", "color": f"#{i % 256:02x}4080", "duration_s": 0.05}
            mark = len(events.events)
            _, answer = stack.request("POST", "/api/v1/jobs", fill)
            poller.watch(answer["id"])
            jobs.append(answer["id"])
            events.wait(lambda j=answer["id"], m=mark: "done" in events.states(j, since=m), "the job done")
        wait_for(poller.all_done, "the poller seeing every job done", timeout=60)
        arrived = {(e.json()["id"], e.json()["state"]): e.received for e in events.of("job")}
    poller.stopped.set()
    for job in jobs:
        record = stack.request("GET", f"/api/v1/jobs/{job}")[1]
        for state, changed in (("queued", record["created"]), ("done", record["finished"])):
            samples[f"{state}_ms"]["pixie"].append((arrived[job, state] - changed) * 1000)
            samples[f"{state}_ms"]["baseline"].append((poller.seen[job][state] - changed) * 1000)
    return samples


def main() -> None:
    args = cli(__doc__)
    sizes = SIZES["smoke" if args.smoke else "full"]
    with appliance("pixie-bench-events-") as stack:
        samples = run(stack, sizes["jobs"])
    figures = summaries(samples)
    report = {"machine": machine(), "sizes": sizes, "poll_s": POLL_S, "figures": figures, "samples": samples}
    (args.out / "events.json").write_text(json.dumps(report, indent=2))
    side_by_side(figures, label="events")
    print(f"baseline: GET /api/v1/jobs/{{id}} every {POLL_S:g} s; events: GET /api/v1/events")
    print(f"wrote {args.out / 'events.json'}")


if __name__ == "__main__":
    main()
