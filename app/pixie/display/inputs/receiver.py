"""The live inputs' sockets, read by one thread of the display process.

Each datagram from an allowed source is parsed by its protocol's module and, once it makes a frame, handed
to the playback loop as a Streamed command (the loop shows it on its next wake-up, nothing is copied
through Redis). What was taken and dropped, and why, is counted here in memory; the watcher publishes the
counts with the heartbeat (GET /api/v1/inputs). A datagram never stops the thread.
"""

import collections
import ipaddress
import logging
import select
import socket
import threading
import time
from collections.abc import Callable

from ... import config as configuration
from ..player import Command, Streamed
from . import ddp, flaschen

log = logging.getLogger("pixie.display")
FLASCHEN_TASCHEN = "flaschen-taschen"
DDP = "ddp"
MAX_DATAGRAM = 65535
RECEIVE_BUFFER = 1 << 20  # ~170 full 64x32 frames: bursts wait in the kernel, not dropped
BACKLOG = 4  # frames waiting for the playback loop beyond which one is dropped (counted): it is behind


class Receiver:
    def __init__(self, config: configuration.Config, put: Callable[[Command], None], backlog: Callable[[], int]):
        """`put` hands a command to the playback loop, `backlog` says how many wait there."""
        inputs, panel = config.inputs, config.panel
        self.put, self.backlog = put, backlog
        self.allowed = configuration.networks(inputs.allow)
        self.layers = flaschen.Layers(panel.width, panel.height, inputs.layer_timeout_s)
        self.canvas = ddp.Canvas(panel.width, panel.height, inputs.ddp_serpentine, inputs.ddp_start)
        ports = {FLASCHEN_TASCHEN: inputs.flaschen_taschen_port, DDP: inputs.ddp_port}
        enabled = [name for name, on in ((FLASCHEN_TASCHEN, inputs.flaschen_taschen), (DDP, inputs.ddp)) if on]
        self.counts = {name: collections.Counter() for name in enabled}
        self.sockets = {_listen(inputs.bind, ports[name]): name for name in enabled}
        for name in enabled:
            log.info("live input %s on %s port %d", name, inputs.bind, ports[name])

    def __bool__(self) -> bool:
        return bool(self.sockets)

    def run(self, stopped: threading.Event) -> None:
        while not stopped.is_set():
            ready, _, _ = select.select(list(self.sockets), [], [], 0.5)
            for sock in ready:
                try:
                    data, source = sock.recvfrom(MAX_DATAGRAM)
                except OSError:
                    continue
                self.take(self.sockets[sock], data, source[0])

    def take(self, protocol: str, data: bytes, host: str) -> None:
        counts = self.counts[protocol]
        counts["received"] += 1
        try:
            if not any(ipaddress.ip_address(host) in network for network in self.allowed):
                counts["dropped: source not allowed"] += 1
                return
            frame = self._frame(protocol, data)
        except (flaschen.Malformed, ddp.Malformed) as e:
            counts[f"dropped: {e}"] += 1
            return
        except Exception:  # a datagram never stops the receiver: counted, logged once in a while
            counts["dropped: error"] += 1
            if counts["dropped: error"] in (1, 100, 10_000):
                log.exception("live input %s: a datagram from %s", protocol, host)
            return
        if frame is None:
            return
        if self.backlog() > BACKLOG:
            counts["dropped: panel behind"] += 1
            return
        counts["frames"] += 1
        self.put(Streamed(frame, protocol))

    def _frame(self, protocol: str, data: bytes) -> bytes | None:
        if protocol == FLASCHEN_TASCHEN:
            now = time.monotonic()
            self.layers.put(flaschen.parse(data), now)
            return self.layers.frame(now)
        return self.canvas.put(ddp.parse(data))

    def state(self) -> dict:
        """Per protocol: what it received and made frames of, and what it dropped, by why."""
        return {
            name: {
                "received": counts["received"],
                "frames": counts["frames"],
                "dropped": {k.removeprefix("dropped: "): v for k, v in counts.items() if k.startswith("dropped: ")},
            }
            for name, counts in self.counts.items()
        }


def _listen(address: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
    sock.bind((address, port))
    return sock
