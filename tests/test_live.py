"""Live data's placeholders (pixie.live), pure: how `{{topic|filter...}}` parses, what each filter
shows, and what an app refuses (spec.parse_app, the rule HTTP, MQTT, the CLI and the inventory share)."""

import pytest

from pixie import live
from pixie import spec as specs


def placeholder(source: str) -> live.Placeholder:
    (found,) = live.parse(source)
    return found


def test_a_text_parses_into_literal_parts_and_placeholders():
    parts = live.parse("Out {{home/outside/temp}} °C, in {{ home/in|round:1 }}")
    assert parts[0] == "Out " and parts[2] == " °C, in "
    assert (parts[1].topic, parts[1].filters) == ("home/outside/temp", ())
    assert (parts[3].topic, parts[3].filters) == ("home/in", (("round", "1"),))
    assert parts[3].source == "{{ home/in|round:1 }}"
    assert live.parse("no placeholder, a lone }} and { braces }") == ["no placeholder, a lone }} and { braces }"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{{home/temp", "the {{ at character 1 is not closed by }}"),
        ("ok {{a}} then {{b", "the {{ at character 15 is not closed"),
        ("{{a {{b}}", "the {{ at character 1 is not closed"),
        ("{{}}", "no topic"),
        ("{{ |upper}}", "no topic"),
        ("{{home/+/temp}}", "no MQTT wildcards"),
        ("{{home/#}}", "no MQTT wildcards"),
        ("{{a|bold}}", "unknown filter 'bold' (the filters: json, round, upper, lower, default)"),
        ("{{a|upper:1}}", "upper takes no argument"),
        ("{{a|round}}", "round needs an argument"),
        ("{{a|round:x}}", "round takes a number of decimals, 0-6"),
        ("{{a|round:7}}", "round takes a number of decimals, 0-6"),
        ("{{a|default:}}", "default needs an argument"),
        ("{{a|json:watts}}", "a json path starts with $"),
        ("{{a|json:$.a..b}}", "json path '$.a..b': .key or [index] expected at character 4"),
        ("{{a|json:$[x]}}", ".key or [index] expected at character 2"),
    ],
)
def test_a_malformed_placeholder_is_refused_saying_what_and_where(text, reason):
    with pytest.raises(ValueError) as refused:
        live.parse(text)
    assert reason in str(refused.value)


@pytest.mark.parametrize(
    ("source", "value", "shows"),
    [
        ("{{t}}", "21.46", "21.46"),
        ("{{t}}", None, "–"),
        ("{{t}}", "", "–"),
        ("{{t|default:n/a}}", None, "n/a"),
        ("{{t|round:0}}", "21.46", "21"),
        ("{{t|round:1}}", "21.46", "21.5"),
        ("{{t|round:0}}", "-0.4", "0"),
        ("{{t|round:2}}", "7", "7.00"),
        ("{{t|round:1}}", "unavailable", "unavailable"),
        ("{{t|round:1}}", "nan", "nan"),
        ("{{t|upper}}", "on", "ON"),
        ("{{t|lower}}", "OFF", "off"),
        ("{{t|json:$.watts|round:0}}", '{"watts": 1234.56, "volts": 230}', "1235"),
        ("{{t|json:$.a.b[1]}}", '{"a": {"b": ["x", "y"]}}', "y"),
        ("{{t|json:$[0]}}", "[true, 2]", "true"),
        ("{{t|json:$.a}}", '{"a": {"b": 1}}', '{"b":1}'),
        ("{{t|json:$.state}}", '{"state": "Zuhause"}', "Zuhause"),
        ("{{t|json:$.missing|default:?}}", '{"a": 1}', "?"),
        ("{{t|json:$.a|default:?}}", '{"a": null}', "?"),
        ("{{t|json:$[5]}}", "[1]", "–"),
        ("{{t|json:$.a}}", "not json", "–"),
        ("{{t|default:off|upper}}", None, "OFF"),
        ("{{t|upper|default:none}}", None, "none"),
        ("{{t}}", "x" * 100, "x" * live.MAX_SHOWN),
    ],
)
def test_each_filter_shows_the_value_as_documented(source, value, shows):
    assert live.show(placeholder(source), value) == shows


def test_a_text_is_filled_from_the_values_there_are():
    text = "{{home/temp|round:1}} °C, {{home/door|upper|default:?}} {{home/temp}}"
    assert live.fill(text, {"home/temp": "19.04"}) == "19.0 °C, ? 19.04"


def test_capitals_leave_a_placeholders_topic_as_written_and_show_its_value_in_capitals():
    # AWTRIX's UPPERCASE setting on a custom app's text (awtrix.content)
    assert live.upper("out {{home/temp|round:0}} °c") == "OUT {{home/temp|round:0|upper}} °C"
    assert live.fill(live.upper("{{home/door}}"), {"home/door": "open"}) == "OPEN"
    assert live.upper("{{unclosed") == "{{UNCLOSED"  # refused as the app is put, as it would be anyway


def test_an_apps_fields_with_placeholders_are_its_text_its_parts_and_its_top_line():
    content = {
        "kind": "text",
        "text": [{"text": "{{a}} and ", "color": "#ff0000"}, {"text": "{{b|upper}}", "color": "#00ff00"}],
        "top_text": "{{a}}",
    }
    assert live.texts(content) == {"text.0.text": "{{a}} and ", "text.1.text": "{{b|upper}}", "top_text": "{{a}}"}
    assert live.topics(content) == ["a", "b"]
    assert [p.source for p in live.placeholders(content)] == ["{{a}}", "{{b|upper}}"]
    changes = live.filled(content, {"a": "1", "b": "on"})
    assert changes == {
        "text": [{"text": "1 and ", "color": "#ff0000"}, {"text": "ON", "color": "#00ff00"}],
        "top_text": "1",
    }
    assert content["text"][0]["text"] == "{{a}} and "  # the definition itself is left as it is
    assert live.topics({"kind": "fill", "color": "red"}) == []


def app(**content) -> dict:
    return {"content": {"kind": "text", **content}}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (app(text="{{home/temp"), "content.text: the {{ at character 1 is not closed by }}"),
        (app(text="{{home/temp|bold}} °C"), "content.text: {{home/temp|bold}}: unknown filter 'bold'"),
        (app(text="{{home/#}}"), "content.text: {{home/#}}: a topic, not a filter: no MQTT wildcards"),
        (app(text="{{p|json:watts}}"), "content.text: {{p|json:watts}}: a json path starts with $"),
        (app(text="x", top_text="{{a|round:9}}"), "content.top_text: {{a|round:9}}: round takes"),
        (
            app(text=[{"text": "ok", "color": "red"}, {"text": "{{a", "color": "red"}]),
            "content.text.1.text: the {{ at character 1 is not closed",
        ),
        (app(text="".join(f"{{{{t{i}}}}}" for i in range(9))), "content: 9 topics in placeholders; at most 8"),
    ],
)
def test_an_app_with_a_bad_placeholder_is_refused_naming_the_field(body, reason):
    with pytest.raises(specs.SpecError) as refused:
        specs.parse_app(body)
    assert str(refused.value).startswith(reason), str(refused.value)


def test_an_app_with_good_placeholders_is_taken_as_written_and_a_jobs_text_is_literal():
    text = "{{sensors/power|json:$.watts|round:0|default:–}} W"
    assert specs.parse_app(app(text=text)).content.text == text
    assert specs.parse({"kind": "text", "text": "{{not a placeholder"}).text == "{{not a placeholder"


def test_a_progress_and_a_charts_values_may_each_be_one_placeholder():
    content = {
        "kind": "text",
        "text": "{{a}}",
        "progress": "{{printer/status|json:$.pct}}",
        "chart": {"values": [1, "{{b|round:0}}", 3]},
    }
    assert live.numbers(content) == {"progress": "{{printer/status|json:$.pct}}", "chart.values.1": "{{b|round:0}}"}
    assert live.topics(content) == ["a", "printer/status", "b"]
    assert live.numbers({"kind": "chart", "values": [1, "{{c}}", 2, "{{c|default:0}}"]}) == {
        "values.1": "{{c}}",
        "values.3": "{{c|default:0}}",
    }
    assert live.numbers({"kind": "progress", "progress": 40}) == {}


def test_a_numbers_placeholder_is_filled_with_the_number_it_shows_a_progress_in_whole_percent():
    content = {"kind": "chart", "values": [5, "{{p|json:$.w}}", "{{q|default:-2.5}}"], "style": "line"}
    changes = live.numbers_filled(content, {"p": '{"w": 1234.5}'})
    assert changes == {"values": [5, 1234.5, -2.5]}
    assert content["values"][1] == "{{p|json:$.w}}"  # the definition itself is left as it is
    progress = {"kind": "progress", "progress": "{{printer/status|json:$.pct}}", "text": "{{printer/file}}"}
    assert live.numbers_filled(progress, {"printer/status": '{"pct": 99.9}'}) == {"progress": 99}
    assert live.filled(progress, {"printer/file": "boat.gcode"}) == {"text": "boat.gcode"}


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ('{"pct": "offline"}', "content.progress: {{s|json:$.pct}} shows 'offline', not a number"),
        ('{"state": "idle"}', "content.progress: {{s|json:$.pct}} shows '–', not a number (no value yet"),
        (None, "content.progress: {{s|json:$.pct}} shows '–', not a number (no value yet"),
        ('{"pct": "nan"}', "content.progress: {{s|json:$.pct}} shows 'nan', not a number"),
    ],
)
def test_a_numbers_placeholder_that_shows_no_number_is_named_with_what_it_shows(value, reason):
    values = {} if value is None else {"s": value}
    with pytest.raises(live.Invalid) as refused:
        live.numbers_filled({"kind": "progress", "progress": "{{s|json:$.pct}}"}, values)
    assert str(refused.value).startswith(reason), str(refused.value)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ({"kind": "progress", "progress": "{{a"}, "content.progress: the {{ at character 1 is not closed"),
        ({"kind": "progress", "progress": "{{a}} %"}, "content.progress: a number's placeholder stands alone"),
        ({"kind": "chart", "values": [1, 2, 3, "x{{a}}"]}, "content.values.3: a number's placeholder stands alone"),
        ({"kind": "chart", "values": [1, "{{a|bold}}"]}, "content.values.1: {{a|bold}}: unknown filter 'bold'"),
        (
            {"kind": "text", "text": "W", "chart": {"values": ["{{a/#}}"]}},
            "content.chart.values.0: {{a/#}}: a topic, not a filter",
        ),
        ({"kind": "text", "text": "x", "progress": "{{a|round:7}}"}, "content.progress: {{a|round:7}}: round takes"),
        ({"kind": "progress", "progress": "40"}, 'content.progress must be 0..100, got "40"'),  # a number's string
        ({"kind": "chart", "values": ["{{a}}"], "min": 5, "max": 1}, "content.max must be more than min (5), got 1"),
    ],
)
def test_an_app_with_a_bad_number_placeholder_is_refused_naming_the_field(content, reason):
    with pytest.raises(specs.SpecError) as refused:
        specs.parse_app({"content": content})
    assert str(refused.value).startswith(reason), str(refused.value)


def test_an_app_keeps_its_number_placeholders_as_written_and_a_job_takes_numbers_only():
    body = {
        "content": {
            "kind": "text",
            "text": "{{a}} W",
            "progress": "{{p}}",
            "chart": {"values": [1, "{{a|round:0}}"], "style": "line"},
        }
    }
    content = specs.parse_app(body).content.model_dump(exclude_none=True)
    assert (content["progress"], content["chart"]["values"]) == ("{{p}}", [1.0, "{{a|round:0}}"])
    chart = specs.parse_app({"content": {"kind": "chart", "values": ["{{b}}", 2]}}).content
    assert chart.model_dump()["values"] == ["{{b}}", 2.0]
    for job in ({"kind": "progress", "progress": "{{p}}"}, {"kind": "chart", "values": ["{{b}}"]}):
        with pytest.raises(specs.SpecError, match=r"^(progress must be 0\.\.100|values\.0: )"):
            specs.parse(job, strict=True)
