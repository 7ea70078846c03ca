"""The original design, kept only to be measured against: an HTTP endpoint
enqueues a job; a stock forking `rq worker` runs it; the job opens the matrix
itself (here the headless STAND-IN panel), renders and plays inside the
work-horse. Rendering and the frame stream use pixie's own code, so the
figures compare the architecture, not two renderers.

    uvicorn bench.baseline:app          # the endpoint
    rq worker -w rq.worker.Worker --serializer json high default low
"""

import functools
import os
import time

from fastapi import FastAPI, Request
from rq import Queue, get_current_job
from rq.serializers import JSONSerializer

from pixie import config as configuration
from pixie import render, spec, store
from pixie.backends import Headless
from pixie.jobs import media, play_length

app = FastAPI()


@app.post("/jobs", status_code=202)
async def submit(request: Request):
    data = await request.json()
    queue = Queue(data.get("priority", "default"), connection=_redis(), serializer=JSONSerializer)
    return {"id": queue.enqueue("bench.baseline.play", data).id}


@functools.cache
def _redis():
    return store.connect(os.environ["PIXIE_REDIS_URL"])


def play(data: dict) -> dict:
    """Open the panel, render, play: all inside the work-horse, every job."""
    config = configuration.load()
    panel = config.panel
    matrix = Headless(panel, config.display.record_path)
    job = spec.parse(data)
    frames = render.render(job, media(get_current_job().connection, job), panel.width, panel.height, config.render)
    duration_s, repeat = play_length(job, len(frames), config.display.default_duration_s)
    canvas = matrix.canvas()
    played_us, loops, deadline = 0.0, 0, time.monotonic()
    while (played_us < duration_s * 1e6) if duration_s else loops < repeat:
        for rgb, hold_us in frames:
            matrix.fill(canvas, rgb)
            matrix.swap(canvas)
            hold_us = min(hold_us, duration_s * 1e6 - played_us) if duration_s else hold_us
            deadline += hold_us / 1e6
            time.sleep(max(0.0, deadline - time.monotonic()))
            played_us += hold_us
            if duration_s and played_us >= duration_s * 1e6:
                break
        loops += 1
    return {"frames": len(frames)}
