"""The floor's display: the least a display process of pixie's shape can do. It blocks on one Redis
list and swaps each frame it is handed, already rendered, on the headless STAND-IN panel (pixie's own
back-end, so its swaps are recorded exactly as pixie-display's are). Its endpoint is bench/floor_web.py.

    python -m bench.floor_display
"""

import hashlib

from pixie import config as configuration
from pixie import store
from pixie.display.backends import Headless

FRAMES = "bench:floor:frames"  # hash: key(request body) → the frame, filled by the harness before timing
SHOW = "bench:floor:show"  # list: frames handed to the display


def key(body: bytes) -> bytes:
    """The pre-rendered frame's field for a request body (a text job's body differs only by its text)."""
    return hashlib.blake2b(body, digest_size=16).digest()


def main() -> None:
    config = configuration.load()
    r = store.connect(config.redis.url)
    panel = Headless(config.panel, config.display.record_path)
    canvas = panel.canvas()
    while True:
        handed = r.blpop([SHOW], timeout=1)  # a slice shorter than redis-py's 5 s read timeout
        if handed:
            panel.fill(canvas, handed[1])
            panel.swap(canvas)


if __name__ == "__main__":
    main()
