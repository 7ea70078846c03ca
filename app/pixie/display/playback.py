"""How long a stream plays, and where a playback is in it: pure logic, shared
by the display process and by the benchmark's baseline."""

from ..vocabulary import RANK, Priority


def play_length(spec, frames: int, default_duration_s: float) -> tuple[float | None, int | None]:
    """Stills stay up for a while; animations and scrolling text play once."""
    if spec.duration_s is not None or spec.repeat is not None:
        return spec.duration_s, spec.repeat
    if frames == 1:
        return default_duration_s, None
    return None, 1


class Playback:
    """One job on its way through the panel; survives being preempted."""

    def __init__(self, job_id: str, record: dict, frames: list[bytes], holds: list[int]):
        self.job_id = job_id
        self.priority = record.get("priority") or Priority.DEFAULT
        self.rank = RANK.get(self.priority, RANK[Priority.DEFAULT])
        self.frames = frames
        self.holds = holds
        self.repeat = int(record["repeat"]) if record.get("repeat") else None
        duration = float(record["duration_s"]) if record.get("duration_s") else None
        self.duration_us = duration * 1e6 if duration else None
        self.index = 0
        self.loops = 0
        self.played_us = 0.0
        self.canvases = []
        self.app: str | None = None  # the rotation's app this plays, if it is not a job
        self.transition: tuple[str | None, int | None] = (None, None)  # an app's own; a job takes the setting's
        self.wakeup = bool(record.get("wakeup"))  # lights a panel switched off while it plays
        self.rest: str | None = None  # its whole stream's key while only its head is loaded (frames.Head)

    def finished(self) -> bool:
        if self.duration_us is not None:
            return self.played_us >= self.duration_us
        return self.loops >= (self.repeat or 1)

    def hold_us(self) -> float:
        hold = self.holds[self.index]
        if self.duration_us is not None:
            hold = min(hold, self.duration_us - self.played_us)
        return hold

    def advance(self) -> None:
        self.played_us += self.hold_us()
        self.index += 1
        if self.index == len(self.frames):
            self.index = 0
            self.loops += 1
