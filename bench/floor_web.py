"""The floor's HTTP endpoint, on pixie-web's stack (uvicorn + FastAPI): one Redis round trip hands the
display the frame pre-rendered for this request body; no parsing, no validation, no rendering.

    uvicorn bench.floor_web:app
"""

import os

from fastapi import FastAPI, HTTPException, Request

from pixie import store

from .floor_display import FRAMES, SHOW, key

# Server-side, so that looking the frame up and handing it over is one round trip.
HAND_OVER = """
local frame = redis.call('HGET', KEYS[1], ARGV[1])
if not frame then return 0 end
return redis.call('RPUSH', KEYS[2], frame)
"""

app = FastAPI()
_redis = store.connect(os.environ["PIXIE_REDIS_URL"])
_script = _redis.script_load(HAND_OVER)  # loaded (and connected) at start-up, not in the first sample


@app.post("/jobs", status_code=202)
async def submit(request: Request):
    body = await request.body()
    if not _redis.evalsha(_script, 2, FRAMES, SHOW, key(body)):
        raise HTTPException(404, "no frame pre-rendered for this body")
    return {"id": ""}
