"""Settings: file, environment overrides, validation; the worker's command line."""

import pytest

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
