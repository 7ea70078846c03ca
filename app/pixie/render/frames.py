"""What every renderer hands back: frames of RGB24 bytes, each with its hold time."""

from collections.abc import Callable

Frames = list[tuple[bytes, int]]

STILL_HOLD_US = 1_000_000
MIN_FRAME_US = 1_000_000 // 60  # nothing on a HUB75 panel needs more than 60 fps

# A long stream reaches the display in two steps: its head (the frames that play its first HEAD_S) as soon as
# they are drawn, then the whole; the panel starts on the head while the rest renders. A 300-frame GIF
# renders in ~0.02 s on a 2-core x86 machine, ~10 times that on a Pi 3: inside the head's half second.
# Shorter streams are sent whole: their render is quick, and a head costs a second stream and later reads.
HEAD_MIN_FRAMES = 50
HEAD_S = 0.5

OnHead = Callable[[Frames, int], None]  # (the head's frames, how many the whole will have)


class Head:
    """Hands `send` the frames drawn so far once they play HEAD_S, if the whole will have `count` frames,
    HEAD_MIN_FRAMES or more; once. A renderer calls `drawn` after each frame it appends."""

    def __init__(self, send: OnHead | None, count: int):
        self.send = send if count >= HEAD_MIN_FRAMES else None
        self.count = count
        self.played_us = 0

    def drawn(self, frames: Frames) -> None:
        if self.send is None:
            return
        self.played_us += frames[-1][1]
        if self.played_us >= HEAD_S * 1e6:
            self.send(list(frames), self.count)
            self.send = None
