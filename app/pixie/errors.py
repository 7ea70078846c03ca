"""What the job service refuses, in domain terms.

Each front door maps these to its own protocol: the HTTP API to a status
code and `{"error": message}`; later MQTT to its error topic. The message is
for a person and names what was wrong.
"""


class PixieError(Exception):
    """A request the appliance refuses; `str(error)` says why."""


class Invalid(PixieError, ValueError):
    """The request names something impossible (a field out of range, a wrong kind)."""


class TooLarge(Invalid):
    """Content over a configured limit (pixels, frames, seconds, bytes)."""


class Unsupported(Invalid):
    """Content in a format the appliance cannot read."""


class NotFound(PixieError):
    """No such job (or it has expired)."""


class Conflict(PixieError):
    """The job exists but is in a state that forbids the request."""


class Unavailable(PixieError):
    """A part of the appliance the request needs is down (Redis)."""


class Busy(PixieError):
    """Too much is waiting already (a priority's queue is full): later, or less."""
