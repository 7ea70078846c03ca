"""Settings: file, environment overrides, validation; the worker's command line."""

import dataclasses
import re
import socket
from pathlib import Path

import pytest
import yaml

from pixie import config as configuration
from pixie import worker


def test_defaults_fit_a_64x32_panel_on_an_adafruit_hat(tmp_path):
    config = configuration.load(tmp_path / "absent.toml", environ={})
    assert (config.panel.width, config.panel.height) == (64, 32)
    assert config.panel.hardware_mapping == "adafruit-hat"
    assert config.web.port == 5000
    assert config.web.token == ""


def test_file_then_environment(tmp_path):
    path = tmp_path / "pixie.toml"
    path.write_text('[panel]\nrows = 16\nchain_length = 2\n[web]\nhost = "0.0.0.0"\n')
    config = configuration.load(path, environ={"PIXIE_PANEL_ROWS": "64", "PIXIE_WEB_TOKEN": "t"})
    assert (config.panel.rows, config.panel.chain_length, config.panel.width) == (64, 2, 128)
    assert (config.web.host, config.web.token) == ("0.0.0.0", "t")


def test_a_location_is_unset_by_default_and_read_from_the_file_or_the_environment(tmp_path):
    assert configuration.load(tmp_path / "absent.toml", environ={}).location.place is None
    path = tmp_path / "pixie.toml"
    path.write_text("[location]\nlatitude = 69.649\nlongitude = 18\n")
    assert configuration.load(path, environ={}).location.place == (69.649, 18.0)
    sydney = {"PIXIE_LOCATION_LATITUDE": "-33.869", "PIXIE_LOCATION_LONGITUDE": "151.2"}
    moved = configuration.load(path, environ=sydney)
    assert moved.location.place == (-33.869, 151.2)


def test_home_assistant_names_the_device_by_its_host_name_unless_told(tmp_path):
    assert configuration.load(tmp_path / "absent.toml", environ={}).mqtt.name == socket.gethostname()
    assert configuration.load(tmp_path / "absent.toml", environ={"PIXIE_MQTT_NAME": "Hall"}).mqtt.name == "Hall"


def test_config_path_from_environment(tmp_path):
    path = tmp_path / "other.toml"
    path.write_text("[display]\nbackend = 'headless'\n")
    assert configuration.load(environ={"PIXIE_CONFIG": str(path)}).display.backend == "headless"


@pytest.mark.parametrize(
    "text,env,message",
    [
        ("[panel]\nrows = 20\n", {}, "panel.rows must be one of"),
        ("", {"PIXIE_PANEL_BRIGHTNESS": "150"}, "panel.brightness"),
        ("", {"PIXIE_WEB_PORT": "many"}, "PIXIE_WEB_PORT: expected int"),
        ("[display]\nbackend = 'hologram'\n", {}, "display.backend"),
        ("[pannel]\nrows = 32\n", {}, "unknown section"),
        ("[panel]\nrow = 32\n", {}, "unknown key"),
        ("[mqtt]\nname = ' '\n", {}, "mqtt.name must not be empty"),
        ("[location]\nlatitude = 91.0\nlongitude = 0.0\n", {}, r"location.latitude must be -90..90, got 91.0"),
        ("", {"PIXIE_LOCATION_LATITUDE": "52.5"}, "location.latitude and location.longitude: set both or neither"),
        ("", {"PIXIE_LOCATION_LATITUDE": "N", "PIXIE_LOCATION_LONGITUDE": "0"}, "PIXIE_LOCATION_LATITUDE: expected"),
        ("[location]\nlatitude = 0\nlongitude = -180.5\n", {}, "location.longitude must be -180..180"),
    ],
)
def test_bad_settings_name_themselves(tmp_path, text, env, message):
    path = tmp_path / "pixie.toml"
    path.write_text(text)
    with pytest.raises(configuration.ConfigError, match=message):
        configuration.load(path, environ=env)


def test_worker_command_keeps_the_password_out_of_argv(tmp_path):
    config = configuration.load(tmp_path / "absent.toml", environ={"PIXIE_REDIS_URL": "redis://:hunter2@localhost/0"})
    argv = worker.command(config, "3", ["--with-scheduler"])
    assert "hunter2" not in " ".join(argv)
    assert argv[argv.index("--serializer") + 1] == "json"
    assert argv[-3:] == ["high", "default", "low"]
    assert "--with-scheduler" in argv
    name = argv[argv.index("--name") + 1]
    assert ".w3." in name
    assert name != worker.command(config, "3", [])[argv.index("--name") + 1]  # unique per start


# The role writes pixie.toml from pixie_app_<section>_<key>; where the device wants another value
# than a laptop running `make run`, the difference is deliberate and listed here with its reason.
DEVICE_DIFFERS = {
    "web.host": "the device serves the LAN; a laptop only itself",
    "mqtt.name": "the host's name either way: the inventory's on the device, the system's for make run",
}
ROLE = Path(__file__).parents[1] / "roles" / "pixie_app"


def _role_settings() -> dict[str, str]:
    """config setting name -> role variable, for every role variable that is a pixie.toml key."""
    sections = {f.name: {k.name for k in dataclasses.fields(f.type)} for f in dataclasses.fields(configuration.Config)}
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    found = {}
    for variable in defaults:
        section, _, key = variable.removeprefix("pixie_app_").partition("_")
        if key in sections.get(section, ()):
            found[f"{section}.{key}"] = variable
    return found


def _board_resolved(defaults: dict) -> dict:
    """Defaults that read pixie_board's row (`{{ pixie_common_board.X }}`) as the default board's (pi3) value."""
    common = yaml.safe_load((ROLE.parent / "pixie_common" / "defaults" / "main.yml").read_text())
    row = common["pixie_common_boards"][common["pixie_board"]]
    resolved = {}
    for variable, value in defaults.items():
        derived = re.fullmatch(r"\{\{ pixie_common_board\.(\w+) \}\}", str(value))
        resolved[variable] = row[derived.group(1)] if derived else value
    return resolved


def test_the_role_and_the_app_agree_on_every_default():
    defaults = _board_resolved(yaml.safe_load((ROLE / "defaults" / "main.yml").read_text()))
    specs = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    app = configuration.Config()
    settings = _role_settings()
    assert len(settings) >= 15, settings  # the mapping itself works
    for name, variable in settings.items():
        section, key = name.split(".")
        assert defaults[variable] == specs[variable]["default"], variable
        if name not in DEVICE_DIFFERS:
            assert defaults[variable] == getattr(getattr(app, section), key), (name, variable)


def test_the_role_and_the_app_allow_the_same_values():
    specs = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    bounds: dict[str, dict[str, float]] = {}
    for check in yaml.safe_load((ROLE / "tasks" / "validate.yml").read_text()):
        for line in check.get("ansible.builtin.assert", {}).get("that", []):
            for variable, op, number in re.findall(r"(pixie_app_\w+) \| (?:int|float) (>=|<=) (-?\d+(?:\.\d+)?)", line):
                bounds.setdefault(variable, {})[op] = float(number)
    settings = _role_settings()
    for name, allowed in configuration.CHOICES.items():
        assert tuple(specs[settings[name]]["choices"]) == allowed, name
    for name, (low, high) in configuration.RANGES.items():
        if name in settings:
            assert bounds[settings[name]] == {">=": low, "<=": high}, name
