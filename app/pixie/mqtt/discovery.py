"""Home Assistant's MQTT discovery: the device and its entities, with no YAML.

One config per entity on `<discovery_prefix>/<component>/<device>/<object>/config`
(retained), each with the same device block and availability, following
Home Assistant's MQTT discovery documentation (light's default schema,
notify, text, select, switch, button, sensor, number). The entities only send the
bridge's own commands and read its retained `state`: nothing here is a
second API. Each progress app has a number entity of its own, emptied (which
removes it) once the app is gone or shows something else.
"""

import re

from .. import config as configuration
from ..service.system import installed_version
from ..spec import MAX_TEXT_CHARS

STATE = "{{ value_json.%s }}"
# "No app" in the pinned app's select and the app sensor. Not `none`: Home Assistant's select reads
# a state of none (any case) as "no current option", and an app may be called none; an app's name
# (spec.NAME_PATTERN) never has parentheses.
NO_APP = "(none)"
APP_STATE = "{{ value_json.%s or '" + NO_APP + "' }}"
# A progress app's number: its progress in the state; None (the app is gone) is Home Assistant's "unknown".
PROGRESS = "{{ value_json.progress.get('%s') }}"
# A notify or text entity's message is a text job (HA's Jinja has `to_json`).
TEXT_JOB = '{"kind": "text", "text": {{ value | to_json }}}'


def object_id(app: str) -> str:
    """An app's name as an object id, which takes only [a-zA-Z0-9_-]: `_`, `.` and `:` as _5f, _2e and _3a
    (two names never meet)."""
    return re.sub(r"[^a-zA-Z0-9-]", lambda m: f"_{ord(m[0]):02x}", app)


def configs(
    mqtt: configuration.Mqtt, panel: configuration.Panel, apps: list[str], progress: list[str]
) -> dict[str, dict]:
    """topic -> config of every entity; `apps` are the pinnable apps (the select's options), `progress` the
    progress apps (a number entity each)."""
    base = f"{mqtt.prefix}/{mqtt.device}"
    entities = {
        ("light", "panel"): {
            "name": "Panel",
            "command_topic": f"{base}/power/set",
            "state_topic": f"{base}/state",
            "state_value_template": "{{ 'ON' if value_json.power else 'OFF' }}",
            "brightness_command_topic": f"{base}/brightness/set",
            "brightness_state_topic": f"{base}/state",
            "brightness_value_template": STATE % "brightness",
            "brightness_scale": 100,
            "payload_on": "ON",
            "payload_off": "OFF",
            "qos": 1,
        },
        ("notify", "message"): {
            "name": "Message",
            "command_topic": f"{base}/notify",
            "command_template": TEXT_JOB,
            "qos": 1,
        },
        ("text", "text"): {
            "name": "Text",
            "command_topic": f"{base}/notify",
            "command_template": TEXT_JOB,
            "max": MAX_TEXT_CHARS,  # what a text job takes: Home Assistant refuses longer before sending
            "mode": "text",
            "state_topic": f"{base}/state",
            "value_template": "{{ value_json.text or '' }}",  # the last text sent; empty before any
            "qos": 1,
        },
        ("select", "pinned"): {
            "name": "Pinned app",
            "command_topic": f"{base}/pin/set",
            "state_topic": f"{base}/state",
            "value_template": APP_STATE % "pinned",
            "options": [NO_APP, *apps],
            "qos": 1,
        },
        ("switch", "night_mode"): {
            "name": "Night mode",
            "command_topic": f"{base}/night_mode/set",
            "state_topic": f"{base}/state",
            "value_template": "{{ 'ON' if value_json.night_mode else 'OFF' }}",
            "payload_on": "ON",
            "payload_off": "OFF",
            "entity_category": "config",
            "qos": 1,
        },
        ("button", "next"): {
            "name": "Next app",
            "command_topic": f"{base}/rotation/next",
            "payload_press": "",
            "qos": 1,
        },
        ("button", "dismiss"): {
            "name": "Dismiss",
            "command_topic": f"{base}/dismiss",
            "payload_press": "",
            "qos": 1,
        },
        ("sensor", "now_playing"): {
            "name": "Now playing",
            "state_topic": f"{base}/state",
            "value_template": STATE % "now_playing",
        },
        ("sensor", "app"): {
            "name": "App on screen",
            "state_topic": f"{base}/state",
            "value_template": APP_STATE % "app",
        },
        ("sensor", "waiting"): {
            "name": "Waiting jobs",
            "state_topic": f"{base}/state",
            "value_template": STATE % "waiting",
            "unit_of_measurement": "jobs",
            "state_class": "measurement",
        },
        ("sensor", "health"): {
            "name": "Health",
            "state_topic": f"{base}/state",
            "value_template": STATE % "health",
            "entity_category": "diagnostic",
        },
        # A sensor, not an `update` entity: Pixie knows the version it runs, not a newer one.
        ("sensor", "version"): {
            "name": "Version",
            "state_topic": f"{base}/state",
            "value_template": STATE % "version",
            "entity_category": "diagnostic",
        },
    }
    for app in progress:  # its name has no quote (spec.NAME_PATTERN): safe in the template's string
        entities[("number", f"progress_{object_id(app)}")] = {
            "name": f"{app} progress",
            "command_topic": f"{base}/apps/{app}/progress",
            "state_topic": f"{base}/state",
            "value_template": PROGRESS % app,
            "min": 0,
            "max": 100,
            "step": 1,
            "unit_of_measurement": "%",
            "qos": 1,
        }
    software = installed_version()
    device = {
        "identifiers": [f"pixie_{mqtt.device}"],
        "name": mqtt.name,
        "manufacturer": "Pixie",
        "model": f"LED matrix {panel.width}x{panel.height}",
        "sw_version": software,
    }
    return {
        f"{mqtt.discovery_prefix}/{component}/{mqtt.device}/{object_id}/config": {
            **fields,
            "unique_id": f"pixie_{mqtt.device}_{object_id}",
            "availability_topic": f"{base}/availability",
            "device": device,
            "origin": {"name": "Pixie", "sw_version": software},
        }
        for (component, object_id), fields in entities.items()
    }
