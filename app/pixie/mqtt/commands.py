"""MQTT's commands: a topic's command part and its payload, carried out by the job service.

The same service calls as HTTP's routes make, so a rule lives there once: a
refusal is the service's `errors.PixieError` with the reason HTTP would give,
which the bridge publishes on `<prefix>/<device>/error`.
"""

import json

from .. import errors
from .. import spec as specs
from ..service import Service
from .discovery import NO_APP

# The commands a device (and each group) subscribes to, as topic filters under its prefix.
TOPICS = (
    "notify",
    "apps/+",
    "apps/+/progress",
    "brightness/set",
    "power/set",
    "dismiss",
    "rotation/next",
    "rotation/previous",
    "pin/set",
    "night_mode/set",
)
ON, OFF = ("ON", "on", "true", "1"), ("OFF", "off", "false", "0")  # Home Assistant's payload_on/off first


def run(service: Service, command: str, payload: bytes) -> dict:
    """Carry out `command` (a topic without its prefix, e.g. "apps/clock"); what it did, for the log."""
    text = _text(payload)
    match command.split("/"):
        case ["notify"]:
            data = _object(text)
            command_id = data.pop("id", None)
            return service.jobs.submit(data, command_id=command_id).model_dump()
        case ["apps", name]:
            if not text:
                service.apps.delete(name)
                return {"deleted": name}
            return _put(service, name, _object(text))
        case ["apps", name, "progress"]:  # a Home Assistant number's value
            return _set_progress(service, name, _integer(text, "progress"))
        case ["brightness", "set"]:
            return {"brightness": service.panel.set_brightness(_integer(text, "brightness"))}
        case ["power", "set"]:
            return {"power": service.panel.set_power(_switch(text, "power"))}
        case ["dismiss"]:  # empty (a Home Assistant button's press): the job on the panel; else that job
            jobs = service.jobs
            return (jobs.cancel(text) if text else jobs.dismiss_playing()).model_dump(include={"id", "state"})
        case ["rotation", "next" | "previous" as way]:
            service.apps.skip(1 if way == "next" else -1)
            return {"rotation": way}
        case ["pin", "set"]:  # an app's name; empty or NO_APP unpins (a Home Assistant select's options)
            if text and text != NO_APP:
                return {"pinned": service.apps.pin(text).pinned}
            pinned = service.apps.rotation().pinned
            if pinned:
                service.apps.unpin(pinned)
            return {"pinned": None}
        case ["night_mode", "set"]:
            return {"night_mode": service.panel.set_night_mode_on(_switch(text, "night_mode")).enabled}
    raise errors.NotFound(f"no command {command!r}; the commands: {', '.join(TOPICS)}")


def _set_progress(service: Service, name: str, progress: int) -> dict:
    """A progress app with its bar at `progress`, put as any app is (checked there), on screen at once."""
    app = service.apps.get(name)
    if app.content["kind"] != specs.Kind.PROGRESS.value:
        raise errors.Conflict(f"app {name} is not a progress app (it shows {app.content['kind']})")
    body = app.model_dump(mode="json", include=set(specs.App.model_fields))
    body["content"]["progress"] = progress
    return _put(service, name, {**body, "now": True})


def _put(service: Service, name: str, app: dict) -> dict:
    return service.apps.put(name, specs.parse_app(app)).model_dump(include={"name", "rev", "changed"})


def _text(payload: bytes) -> str:
    try:
        return payload.decode().strip()
    except UnicodeDecodeError:
        raise errors.Invalid("payload is not UTF-8 text") from None


def _object(text: str) -> dict:
    try:
        data = json.loads(text)
    except ValueError as e:
        raise errors.Invalid(f"payload is not JSON: {e}") from None
    if not isinstance(data, dict):
        raise errors.Invalid("payload must be a JSON object")
    return data


def _integer(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise errors.Invalid(f"{what}: expected a whole number, got {text[:40]!r}") from None


def _switch(text: str, what: str) -> bool:
    if text in ON or text in OFF:
        return text in ON
    raise errors.Invalid(f"{what}: expected ON or OFF, got {text[:40]!r}")
