"""`pixie-display`: the display process, the only process that opens the matrix, for its whole life.

Two threads: the playback loop (player.py) in the main thread, the watcher (watcher.py) beside it; a
third reads the live inputs' sockets when one is enabled (inputs/receiver.py).
"""

import logging
import signal
import sys
import threading

from .. import config as configuration
from .. import store
from .backends import open_backend
from .inputs.receiver import Receiver
from .player import Player
from .watcher import Watcher

log = logging.getLogger("pixie.display")
RESTART_EXIT = 75  # EX_TEMPFAIL: asked to restart; systemd's Restart=always and pixie-local start it again


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    config = configuration.load()
    r = store.connect(config.redis.url)
    player = Player(config, r, open_backend(config), v=store.connect_volatile(config.redis))
    inputs = Receiver(config, player.commands.put, player.commands.qsize)
    watcher = Watcher(player, config, inputs)

    def stop(*_):
        watcher.stopped.set()
        player.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("display on %s back-end, %dx%d", config.display.backend, config.panel.width, config.panel.height)
    player.start()
    threading.Thread(target=watcher.run, name="watcher", daemon=True).start()
    if inputs:
        threading.Thread(target=inputs.run, args=(watcher.stopped,), name="inputs", daemon=True).start()
    player.loop()
    if watcher.restarting:
        sys.exit(RESTART_EXIT)
