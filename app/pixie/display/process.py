"""`pixie-display`: the display process, the only process that opens the matrix, for its whole life.

Two threads: the playback loop (player.py) in the main thread, the watcher (watcher.py) beside it.
"""

import logging
import signal
import sys
import threading

from .. import config as configuration
from .. import store
from .backends import open_backend
from .player import Player
from .watcher import Watcher

log = logging.getLogger("pixie.display")
RESTART_EXIT = 75  # EX_TEMPFAIL: asked to restart; systemd's Restart=always and pixie-local start it again


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    config = configuration.load()
    r = store.connect(config.redis.url)
    player = Player(config, r, open_backend(config), v=store.connect_volatile(config.redis))
    watcher = Watcher(player, config)

    def stop(*_):
        watcher.stopped.set()
        player.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("display on %s back-end, %dx%d", config.display.backend, config.panel.width, config.panel.height)
    player.start()
    threading.Thread(target=watcher.run, name="watcher", daemon=True).start()
    player.loop()
    if watcher.restarting:
        sys.exit(RESTART_EXIT)
