"""The words every part of Pixie shares: job states, priorities, job kinds.

Defined once here; the store (and its Lua), the playback rules, the job
service, every front door and `GET /api/v1/info` use these. The stdlib CLI
keeps a copy (it runs without the app installed); a test holds it equal.
"""

from enum import StrEnum


class State(StrEnum):
    SCHEDULED = "scheduled"  # a timed job, waiting for its time in RQ's scheduled registry
    QUEUED = "queued"
    RENDERING = "rendering"
    READY = "ready"
    PLAYING = "playing"
    DONE = "done"
    FAILED = "failed"
    CANCELED = "canceled"


STATES = tuple(State)
# A job in one of these has ended for good (only an explicit requeue leaves `failed`).
TERMINAL = (State.DONE, State.FAILED, State.CANCELED)
# The display has the job: rendered, waiting for the panel or on it.
ON_DISPLAY = (State.READY, State.PLAYING)


class Priority(StrEnum):
    HIGH = "high"
    DEFAULT = "default"
    LOW = "low"


# Most urgent first: the RQ queues a worker drains, in this order, and the display's ranks.
PRIORITIES = tuple(Priority)
RANK = {priority: rank for rank, priority in enumerate(PRIORITIES)}


class Kind(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    ANIMATION = "animation"
    FILL = "fill"
    CLEAR = "clear"
    PATTERN = "pattern"
    DEMO = "demo"
    CLOCK = "clock"
    COUNTDOWN = "countdown"
    DRAW = "draw"
    PROGRESS = "progress"
    CHART = "chart"
    LAYOUT = "layout"


KINDS = tuple(Kind)
# Kinds drawn from the time: as apps the display draws their faces again as the time moves (no render job).
FACES = (Kind.CLOCK, Kind.COUNTDOWN)
# Kinds whose content is an uploaded file.
MEDIA_KINDS = (Kind.IMAGE, Kind.ANIMATION)
