"""Home Assistant's MQTT discovery: the device and its entities, with no YAML.

One config per entity on `<discovery_prefix>/<component>/<device>/<object>/config`
(retained), each with the same device block and availability, following
Home Assistant's MQTT discovery documentation (light's default schema,
notify, text, select, button, sensor). The entities only send the bridge's
own commands and read its retained `state`: nothing here is a second API.
"""

from importlib.metadata import version

from .. import config as configuration
from ..spec import MAX_TEXT_CHARS

STATE = "{{ value_json.%s }}"
# A notify or text entity's message is a text job (HA's Jinja has `to_json`).
TEXT_JOB = '{"kind": "text", "text": {{ value | to_json }}}'


def configs(mqtt: configuration.Mqtt, panel: configuration.Panel, apps: list[str]) -> dict[str, dict]:
    """topic -> config of every entity; `apps` are the pinnable apps (the select's options)."""
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
            "qos": 1,
        },
        ("select", "pinned"): {
            "name": "Pinned app",
            "command_topic": f"{base}/pin/set",
            "state_topic": f"{base}/state",
            "value_template": "{{ value_json.pinned or 'none' }}",
            "options": ["none", *apps],
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
    }
    software = version("pixie")
    device = {
        "identifiers": [f"pixie_{mqtt.device}"],
        "name": mqtt.device,
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
