"""Live data in apps: `{{topic}}` placeholders in an app's text, progress or chart values, each filled
with the last value received on that MQTT topic (AWTRIX's custom-app placeholders, done durably: the app and its
placeholders are stored, the values are volatile). Pure: no Redis, no MQTT.

    {{home/outside/temperature}} °C
    {{sensors/power|json:$.watts|round:0}} W

A placeholder is a topic (no MQTT wildcards `+` or `#`), then filters, each `|name` or
`|name:argument`, applied left to right:

- `json:PATH`: the value as JSON, then PATH: `$` followed by `.key` or `[index]` steps (`$.a.b[0]`);
- `round:N`: a number to N decimals (0-6); a value that is not a number is left as it is;
- `upper`, `lower`;
- `default:TEXT`: shown while there is no value (nothing received yet, an empty one, or the path
  found nothing); without one, `–`.

A number (a progress, a chart's value) may be one placeholder alone: what it shows must read as a
number, or that render fails with the reason (numbers_filled).

A small parser and a fixed set of filters: nothing in a placeholder is evaluated.
"""

import json
import math
import re
from dataclasses import dataclass

OPEN, CLOSE = "{{", "}}"
MISSING = "–"  # a topic with no value yet, and no default
MAX_TOPICS = 8  # per app: each is a subscription of the bridge
MAX_TOPIC_CHARS = 256
MAX_SHOWN = 64  # characters one placeholder shows at most
MAX_DECIMALS = 6
FILTERS = ("json", "round", "upper", "lower", "default")
_STEP = re.compile(r"\.([^.\[\]]+)|\[([0-9]+)\]")


@dataclass(frozen=True)
class Placeholder:
    source: str  # as written, braces and all
    topic: str
    filters: tuple[tuple[str, str | None], ...]


def parse(text: str) -> list[str | Placeholder]:
    """The text as literal parts and placeholders; ValueError says what is wrong and where."""
    parts: list[str | Placeholder] = []
    at = 0
    while (start := text.find(OPEN, at)) != -1:
        end = text.find(CLOSE, start + len(OPEN))
        if end == -1 or OPEN in text[start + len(OPEN) : end]:
            raise ValueError(f"the {OPEN} at character {start + 1} is not closed by {CLOSE}")
        if start > at:
            parts.append(text[at:start])
        parts.append(_placeholder(text[start : end + len(CLOSE)]))
        at = end + len(CLOSE)
    if at < len(text):
        parts.append(text[at:])
    return parts


def _placeholder(source: str) -> Placeholder:
    topic, *filters = source[len(OPEN) : -len(CLOSE)].split("|")
    topic = topic.strip()
    if not topic:
        raise ValueError(f"{source}: no topic")
    if "+" in topic or "#" in topic:
        raise ValueError(f"{source}: a topic, not a filter: no MQTT wildcards (+, #)")
    if len(topic) > MAX_TOPIC_CHARS or "\0" in topic:
        raise ValueError(f"{source}: not an MQTT topic")
    return Placeholder(source, topic, tuple(_filter(source, f) for f in filters))


def _filter(source: str, written: str) -> tuple[str, str | None]:
    name, colon, argument = written.partition(":")
    name, argument = name.strip(), argument.strip()
    if name not in FILTERS:
        raise ValueError(f"{source}: unknown filter {name!r} (the filters: {', '.join(FILTERS)})")
    if name in ("upper", "lower"):
        if colon:
            raise ValueError(f"{source}: {name} takes no argument")
        return name, None
    if not argument:
        raise ValueError(f"{source}: {name} needs an argument ({name}:...)")
    if name == "json":
        _path(source, argument)
    elif name == "round" and not (argument.isdigit() and int(argument) <= MAX_DECIMALS):
        raise ValueError(f"{source}: round takes a number of decimals, 0-{MAX_DECIMALS}")
    return name, argument


def _path(source: str, path: str) -> list[str | int]:
    """A JSON path's steps: `$`, then `.key` or `[index]`."""
    if not path.startswith("$"):
        raise ValueError(f"{source}: a json path starts with $ (e.g. $.temperature or $.values[0])")
    steps, at = [], 1
    while at < len(path):
        step = _STEP.match(path, at)
        if step is None:
            raise ValueError(f"{source}: json path {path!r}: .key or [index] expected at character {at + 1}")
        steps.append(step[1] if step[1] is not None else int(step[2]))
        at = step.end()
    return steps


def show(placeholder: Placeholder, value: str | None) -> str:
    """What the placeholder shows for the topic's value (None: none received; an empty value is none)."""
    value = value or None
    for name, argument in placeholder.filters:
        if name == "default":
            value = value or argument
        elif value is not None:
            value = _apply(placeholder.source, name, argument, value) or None
    return (value or MISSING)[:MAX_SHOWN]


def _apply(source: str, name: str, argument: str | None, value: str) -> str | None:
    if name == "upper":
        return value.upper()
    if name == "lower":
        return value.lower()
    if name == "round":
        try:
            number = float(value)
        except ValueError:
            return value
        return f"{round(number, int(argument)) + 0.0:.{argument}f}" if math.isfinite(number) else value
    try:  # json
        found = json.loads(value)
    except ValueError:
        return None
    for step in _path(source, argument):
        if isinstance(step, int) and isinstance(found, list) and step < len(found):
            found = found[step]
        elif isinstance(step, str) and isinstance(found, dict) and step in found:
            found = found[step]
        else:
            return None
    if found is None or isinstance(found, str):
        return found
    return json.dumps(found, ensure_ascii=False, separators=(",", ":"))


def upper(text: str) -> str:
    """The text in capitals, its placeholders' topics as written (each shows its value in capitals);
    a malformed placeholder is left for the app's validation to name."""
    try:
        parts = parse(text)
    except ValueError:
        return text.upper()
    return "".join(p.upper() if isinstance(p, str) else p.source[: -len(CLOSE)] + "|upper" + CLOSE for p in parts)


def fill(text: str, values: dict[str, str]) -> str:
    """The text with each placeholder showing its topic's value from `values` (topic -> value)."""
    return "".join(p if isinstance(p, str) else show(p, values.get(p.topic)) for p in parse(text))


# -- an app's content ------------------------------------------------------------------------------


def texts(content: dict) -> dict[str, str]:
    """The fields of an app's content that may hold placeholders (a text's, its parts', its top line),
    by their path in the content: text, text.0.text, top_text."""
    found = {}
    text = content.get("text")
    if isinstance(text, str):
        found["text"] = text
    elif isinstance(text, list):
        found.update({f"text.{i}.text": part["text"] for i, part in enumerate(text)})
    if content.get("top_text"):
        found["top_text"] = content["top_text"]
    return found


def numbers(content: dict) -> dict[str, str]:
    """The numbers of an app's content written as a placeholder (a progress, a chart's values, a text's
    chart's), by their path: progress, values.3, chart.values.3. Each is filled with a number to be drawn."""
    found = {"progress": content.get("progress")}
    for at, chart in (("", content), ("chart.", content.get("chart"))):
        if isinstance(chart, dict) and isinstance(chart.get("values"), list):
            found.update({f"{at}values.{i}": value for i, value in enumerate(chart["values"])})
    return {field: value for field, value in found.items() if isinstance(value, str) and OPEN in value}


def fields(content: dict) -> dict[str, str]:
    """Every field of an app's content that holds or may hold placeholders, by its path."""
    return texts(content) | numbers(content)


class Invalid(ValueError):
    """A placeholder that is not well formed, or shows no number where one is drawn, in `field` of an
    app's content (its path: text.0.text, values.3)."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"content.{field}: {reason}" if field else f"content: {reason}")
        self.field, self.reason = field, reason


def check(content: dict) -> None:
    """An app's placeholders are well formed, a number's alone in its field; Invalid names the field."""
    written = numbers(content)
    for field, text in fields(content).items():
        try:
            parts = parse(text)
        except ValueError as e:
            raise Invalid(field, str(e)) from None
        if field in written and not (len(parts) == 1 and isinstance(parts[0], Placeholder)):
            raise Invalid(field, f"a number's placeholder stands alone ({OPEN}topic|...{CLOSE}), got {text!r}")
    if len(found := topics(content)) > MAX_TOPICS:
        raise Invalid("", f"{len(found)} topics in placeholders; at most {MAX_TOPICS} per app")


def placeholders(content: dict) -> list[Placeholder]:
    """The placeholders of an app's content, each once, in the order written."""
    found = [p for text in fields(content).values() for p in parse(text) if isinstance(p, Placeholder)]
    return list(dict.fromkeys(found))


def topics(content: dict) -> list[str]:
    return list(dict.fromkeys(p.topic for p in placeholders(content)))


def filled(content: dict, values: dict[str, str]) -> dict:
    """The content's texts that hold placeholders, filled from `values`: the changes to make to it."""
    return replaced(content, {field: fill(text, values) for field, text in texts(content).items() if OPEN in text})


def numbers_filled(content: dict, values: dict[str, str]) -> dict:
    """The content's numbers written as placeholders, each the number its placeholder shows (a progress in
    whole percent, rounded down): the changes to make to it. Invalid names one that shows no number."""
    found = {}
    for field, text in numbers(content).items():
        (placeholder,) = parse(text)
        shown = show(placeholder, values.get(placeholder.topic))
        try:
            number = float(shown)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            why = " (no value yet, or its json path found none: default:N shows N)" if shown == MISSING else ""
            raise Invalid(field, f"{placeholder.source} shows {shown!r}, not a number{why}")
        found[field] = math.floor(number) if field == "progress" else number
    return replaced(content, found)


def replaced(content: dict, found: dict[str, object]) -> dict:
    """The changes to make to the content to put these values at these paths (text.0.text, chart.values.3):
    its top-level fields on the way, copied; the content itself is left as it is."""
    changes: dict = {}
    for field, value in found.items():
        head, *rest = field.split(".")
        changes[head] = _put(changes.get(head, content.get(head)), rest, value)
    return changes


def _put(node, path: list[str], value):
    if not path:
        return value
    step, *rest = path
    copy = list(node) if isinstance(node, list) else dict(node)
    at = int(step) if isinstance(node, list) else step
    copy[at] = _put(node[at], rest, value)
    return copy
