"""The rotation: what the panel shows when no job waits. Pure logic, no Redis.

Each enabled app plays for its dwell (a still) or once through (an
animation, scrolling text), then the next one. A job interrupts the app on
screen, which resumes where it was. New versions of the apps wait for the
next dwell boundary, unless they ask to be shown at once, or the app on
screen is gone (deleted or disabled). A pinned app shows turn after turn.
"""

from dataclasses import dataclass

from ..vocabulary import PRIORITIES
from .playback import Playback

RANK = len(PRIORITIES)  # below every job: any job that is ready interrupts the rotation


@dataclass(frozen=True)
class Entry:
    """One app, rendered: its frames and how long it shows (None: its frames once)."""

    name: str
    rev: int
    frames: list[bytes]
    holds: list[int]
    dwell_s: float | None
    live: int = 0  # the live values its frames show (store.LIVE_SEQ): new ones are the same version
    transition: tuple[str | None, int | None] = (None, None)  # its own (name, ms); None: the setting's


class Rotation:
    def __init__(self):
        self.entries: list[Entry] = []
        self.pending: list[Entry] | None = None
        self.index = 0
        self.playing: Playback | None = None  # the app on screen, or interrupted by a job
        self.pinned: str | None = None  # held on screen, turn after turn, until unpinned

    def __bool__(self) -> bool:
        return bool(self.entries)

    def current(self) -> Playback:
        if self.playing is None:
            entry = self.entries[self.index]
            record = {"duration_s": entry.dwell_s or ""}
            self.playing = Playback(None, record, entry.frames, entry.holds)
            self.playing.rank = RANK
            self.playing.app = entry.name
            self.playing.transition = entry.transition
        return self.playing

    def showing(self) -> str | None:
        return self.playing.app if self.playing is not None else None

    def update(self, entries: list[Entry], at_once: bool = False, pinned: str | None = None) -> bool:
        """New versions of the apps (and the pin); True if the app on screen must change now."""
        name = self.showing()
        names = [e.name for e in entries]
        pin = pinned if pinned in names else None
        repin = pin is not None and pin != self.pinned and pin != name
        self.pinned = pin
        if at_once or repin or name is None or name not in names:
            self._apply(entries, restart=True)
            if repin:
                self.index = names.index(pin)
            return name is not None
        self.pending = entries
        return False

    def same_versions(self, entries: list[Entry]) -> bool:
        return _versions(entries) == _versions(self.entries)

    def refresh(self, entries: list[Entry]) -> bool:
        """New faces of the same versions (same_versions: a clock's next minute): taken at once, the
        app on screen keeps its place in its dwell, an update waiting for the boundary takes them too.
        True if the frames on screen changed."""
        self.entries = entries
        if self.pending is not None and _versions(self.pending) == _versions(entries):
            self.pending = entries
        for entry in entries:
            if self.playing is not None and entry.name == self.playing.app and entry.frames != self.playing.frames:
                self.playing.frames, self.playing.holds = entry.frames, entry.holds
                self.playing.index = 0
                return True
        return False

    def advance(self, step: int = 1, to: str | None = None) -> None:
        """At a dwell boundary (or skipped): the apps' new versions, then the next app, or the app `to`
        (the pinned one again, while a pin holds)."""
        if self.pending is not None:
            self._apply(self.pending, restart=False)
        names = [e.name for e in self.entries]
        if self.pinned is not None:
            self.index = names.index(self.pinned)
        elif to in names:
            self.index = names.index(to)
        elif self.entries:
            self.index = (self.index + step) % len(self.entries)
        self.playing = None

    def _apply(self, entries: list[Entry], restart: bool) -> None:
        """Take `entries`, keeping the place of the app on screen (or the place it had)."""
        names = [e.name for e in entries]
        name = self.showing()
        if name in names:
            self.index = names.index(name)
        elif entries:
            # Gone: the app that took its place is next; advance() moves on by one.
            self.index = (min(self.index, len(entries)) - (0 if restart else 1)) % len(entries)
        else:
            self.index = 0
        self.entries, self.pending = entries, None
        if restart:
            self.playing = None


def _versions(entries: list[Entry]) -> list[tuple[str, int]]:
    return [(e.name, e.rev) for e in entries]
