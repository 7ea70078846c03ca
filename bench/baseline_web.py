"""The original design's HTTP endpoint: enqueue the job for a forking worker.

uvicorn bench.baseline_web:app
"""

import functools
import os

from fastapi import FastAPI, Request
from rq import Queue
from rq.serializers import JSONSerializer

from pixie import spec, store

app = FastAPI()


@functools.cache
def _redis():
    return store.connect(os.environ["PIXIE_REDIS_URL"])


@app.post("/jobs", status_code=202)
async def submit(request: Request):
    # Every field spelt out, so the work-horse needs no schema library to read it.
    job = spec.parse(await request.json()).model_dump()
    queue = Queue(job["priority"], connection=_redis(), serializer=JSONSerializer)
    return {"id": queue.enqueue("bench.baseline.play", job).id}
