"""The original design, kept only to be measured against: a stock forking
`rq worker` runs each job in a fresh work-horse, which opens the matrix
itself (here the headless STAND-IN panel), renders and plays. Rendering, the
panel back-end and the play rules are pixie's own code, so the figures
compare the architecture, not two implementations. Its endpoint is
bench/baseline_web.py.

    rq worker -w rq.worker.Worker --serializer json high default low
"""

import base64
import time
from types import SimpleNamespace

from pixie import config as configuration
from pixie.display.backends import Headless
from pixie.display.playback import Playback, play_length
from pixie.render import kinds


def play(data: dict) -> dict:
    """Open the panel, render, play: all inside the work-horse, every job."""
    config = configuration.load()
    panel = config.panel
    matrix = Headless(panel, config.display.record_path)
    job = SimpleNamespace(**data)
    media = base64.b64decode(job.data_b64) if getattr(job, "data_b64", None) else None
    frames = kinds.render(job, media, panel.width, panel.height, config.render)
    duration_s, repeat = play_length(job, len(frames), config.display.default_duration_s)
    playback = Playback("", {"duration_s": duration_s, "repeat": repeat}, *zip(*frames, strict=True))
    canvas = matrix.canvas()
    deadline = time.monotonic()
    while not playback.finished():
        matrix.fill(canvas, playback.frames[playback.index])
        matrix.swap(canvas)
        deadline += playback.hold_us() / 1e6
        time.sleep(max(0.0, deadline - time.monotonic()))
        playback.advance()
    return {"frames": len(frames)}
