"""Render the roles' templates with real Ansible (ansible.builtin.template and
the roles' defaults) and check the files they produce: systemd units with
`systemd-analyze verify`, pixie.toml against the contract's keys, Redis's
config by starting a redis-server on it, shell snippets by running them."""

from __future__ import annotations

import configparser
import dataclasses
import os
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml
from roles_support import ROLES, role_defaults, run_playbook, vars_file

from pixie import config as configuration
from testsupport.servers import free_port, redis_server
from testsupport.tools import require

TEMPLATES = {
    "pixie_workers": ["rqworker@.service.j2"],
    "pixie_app": [
        "pixie-web.service.j2",
        "pixie-display.service.j2",
        "pixie-mqtt.service.j2",
        "pixie.toml.j2",
        "pixie.env.j2",
    ],
    "pixie_mqtt": ["dropin.conf.j2"],
    "pixie_redis": ["pixie.conf.j2", "restart.conf.j2", "volatile.conf.j2"],
    "pixie_boot": ["timesyncd-pixie.conf.j2"],
    "pixie_admin": ["profile-pixie.sh.j2", "motd-pixie.sh.j2", "rq.env.j2"],
    "pixie_network": ["netplan-wifi.yaml.j2"],
    "pixie_firewall": ["pixie-firewall-firstboot.service.j2"],
}
ENTRY_POINTS = ["pixie-web", "pixie-display", "pixie-worker", "pixie-mqtt"]


def render_templates(tmp_path: Path, overrides=None, name="out") -> Path:
    """Render every template into tmp_path/name (file names without .j2)."""
    out = tmp_path / name
    out.mkdir()
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True, exist_ok=True)
    for entry in ENTRY_POINTS:  # stand-ins so systemd-analyze finds ExecStart executables
        exe = venv / "bin" / entry
        exe.write_text("#!/bin/sh\nexit 0\n")
        exe.chmod(0o755)
    values = {
        "pixie_common_credentials_dir": str(tmp_path / "credentials"),
        "pixie_common_venv": str(venv),
        "pixie_network_wifi_ssid": "Pixie Net",
        "pixie_network_wifi_password": 'pa"ss word',
        "pixie_common_mqtt_device": "pixie-1",
        "pixie_common_mqtt_groups": ["displays"],
        # rq.env.j2 is rendered per admin user in a loop (item.item = user name).
        "item": {"item": "admin"},
    }
    values.update(overrides or {})
    tasks = [
        {
            "name": f"Render {role}/{template}",
            "ansible.builtin.template": {
                "src": str(ROLES / role / "templates" / template),
                "dest": str(out / template.removesuffix(".j2")),
                "mode": "0644",
            },
        }
        for role, names in TEMPLATES.items()
        for template in names
    ]
    play = [
        {
            "name": "render the role templates",
            "hosts": "localhost",
            "gather_facts": False,
            "vars_files": role_defaults(*TEMPLATES, "pixie_common")
            + [
                str(ROLES / "pixie_redis" / "vars" / "main.yml"),
                str(ROLES / "pixie_mqtt" / "vars" / "main.yml"),
                str(ROLES / "pixie_firewall" / "vars" / "main.yml"),
                vars_file(tmp_path, values, f"{name}.yml"),
            ],
            "tasks": tasks,
        }
    ]
    result = run_playbook(tmp_path, play)
    assert result.rc == 0, result
    return out


@pytest.fixture(scope="module")
def defaults(tmp_path_factory):
    """The templates rendered once with the roles' defaults: (folder, tmp root)."""
    tmp = tmp_path_factory.mktemp("render")
    return render_templates(tmp), tmp


@pytest.fixture
def render(tmp_path):
    def _render(overrides=None):
        return render_templates(tmp_path, overrides)

    return _render


def unit(path: Path) -> dict[str, list[tuple[str, str]]]:
    """Parse a unit file into {section: [(key, value), ...]}, keeping repeats."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), [])
            continue
        key, _, value = line.partition("=")
        current.append((key, value))
    return sections


def values(sections, section, key):
    return [v for k, v in sections[section] if k == key]


def systemd_verify(path: Path):
    require("systemd-analyze")
    return subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(path)], capture_output=True, text=True, timeout=60
    )


def assert_verified(path: Path):
    proc = systemd_verify(path)
    assert proc.returncode == 0 and proc.stdout.strip() == "" and proc.stderr.strip() == "", (
        f"systemd-analyze verify {path.name}:\n{proc.stdout}{proc.stderr}"
    )


def test_worker_unit(defaults):
    out, tmp_path = defaults
    s = unit(out / "rqworker@.service")
    assert values(s, "Service", "User") == ["pixie"]
    exec_start = values(s, "Service", "ExecStart")[0]
    assert exec_start == f"{tmp_path}/venv/bin/pixie-worker %i $PIXIE_WORKER_ARGS"
    password = (tmp_path / "credentials" / "redis_password").read_text().strip()
    assert password not in (out / "rqworker@.service").read_text(), "the password must not be in the unit"
    assert values(s, "Service", "EnvironmentFile") == ["/etc/pixie/pixie.env", "-/etc/pixie/rqworker-%i.env"]
    assert values(s, "Service", "CPUAffinity") == ["0-2"]
    assert values(s, "Service", "Restart") == ["always"]
    assert 1 <= int(values(s, "Service", "RestartSec")[0]) <= 10
    assert values(s, "Unit", "StartLimitIntervalSec") == ["0"]
    assert "redis-server.service" in values(s, "Unit", "After")[0].split()
    assert "redis-server.service" in values(s, "Unit", "Wants")[0].split()
    assert "network-online.target" not in values(s, "Unit", "After")[0].split()  # loopback only: no wait at boot
    assert values(s, "Install", "WantedBy") == ["multi-user.target"]
    assert values(s, "Service", "MemoryMax") == ["120M"]
    # systemd verifies instances, not templates: verify rqworker@1 from the template.
    instance = tmp_path / "rqworker@1.service"
    instance.write_text((out / "rqworker@.service").read_text())
    assert_verified(instance)


def test_worker_unit_options(render):
    out = render(
        {"pixie_workers_cpu_affinity": "0,1", "pixie_workers_memory_max": "200M", "pixie_workers_restart_sec": 7}
    )
    s = unit(out / "rqworker@.service")
    assert values(s, "Service", "CPUAffinity") == ["0,1"]
    assert values(s, "Service", "MemoryMax") == ["200M"]
    assert values(s, "Service", "RestartSec") == ["7"]


def test_workers_reach_the_network_only_with_an_icon_fetch_url(defaults, render):
    out, _ = defaults
    assert values(unit(out / "rqworker@.service"), "Service", "IPAddressDeny") == ["any"]
    url = "https://icons.example.org/{id}"
    out = render({"pixie_common_icons_fetch_url": url})
    assert "IPAddressDeny" not in dict(unit(out / "rqworker@.service")["Service"]), "it fetches icons"
    assert tomllib.loads((out / "pixie.toml").read_text())["icons"]["fetch_url"] == url


@pytest.mark.parametrize(
    "name, user", [("pixie-web.service", "pixie"), ("pixie-display.service", "root"), ("pixie-mqtt.service", "pixie")]
)
def test_app_units(defaults, name, user):
    out, tmp_path = defaults
    s = unit(out / name)
    assert values(s, "Service", "User") == [user]
    assert values(s, "Service", "ExecStart") == [f"{tmp_path}/venv/bin/{name.split('.')[0]}"]
    assert values(s, "Service", "EnvironmentFile") == ["/etc/pixie/pixie.env"]
    assert values(s, "Service", "Environment") == ["PIXIE_CONFIG=/etc/pixie/pixie.toml"]
    assert values(s, "Service", "CPUAffinity") == ["0-2"]
    assert "AllowedCPUs" not in dict(s["Service"]), "the library must be able to move its refresh thread to CPU 3"
    assert values(s, "Service", "Restart") == ["always"]
    assert "redis-server.service" in values(s, "Unit", "After")[0].split()
    assert "redis-server.service" in values(s, "Unit", "Wants")[0].split()
    assert "network-online.target" not in values(s, "Unit", "After")[0].split()  # loopback only: no wait at boot
    assert_verified(out / name)


CONTRACT_KEYS = {
    "redis": {"url"},
    "web": {
        "host",
        "port",
        "token",
        "max_body_bytes",
        "tokens",
        "rate_per_min",
        "rate_burst",
        "rate_exempt",
        "max_queued_per_priority",
        "tls_cert",
        "tls_key",
    },
    "awtrix": {"enabled", "user", "mqtt_prefix"},
    "fonts": {"max_bytes", "max_count"},
    "icons": {"max_bytes", "max_count", "max_frames", "fetch_url"},
    "panel": {
        "rows",
        "cols",
        "chain_length",
        "parallel",
        "hardware_mapping",
        "gpio_slowdown",
        "pwm_bits",
        "pwm_lsb_nanoseconds",
        "limit_refresh_rate_hz",
        "brightness",
    },
    "display": {"backend", "idle", "record_path"},
    "worker": {"worker_class", "max_jobs", "job_timeout_s"},
    "render": {"cache_max_bytes", "max_frames", "max_image_pixels"},
    "apps": {"live_min_interval_s"},
    "inputs": {f.name for f in dataclasses.fields(configuration.Inputs)},
    "mqtt": {
        "enabled",
        "host",
        "port",
        "username",
        "device",
        "name",
        "groups",
        "prefix",
        "discovery_prefix",
        "tls",
        "ca_file",
        "readable_topics",
    },
}


def test_pixie_toml_has_the_contract_keys_and_no_secrets(render, tmp_path):
    out = render(
        {
            "pixie_app_panel_rows": 16,
            "pixie_app_display_backend": "headless",
            "pixie_app_display_record_path": "/var/lib/pixie/frames.bin",
            "pixie_app_panel_hardware_mapping": "adafruit-hat-pwm",
        }
    )
    config = tomllib.loads((out / "pixie.toml").read_text())
    assert {k: set(v) for k, v in config.items()} == CONTRACT_KEYS
    assert config["redis"]["url"] == "redis://127.0.0.1:6379/0"
    assert config["web"] == {
        "host": "0.0.0.0",
        "port": 5000,
        "token": "",
        "max_body_bytes": 8388608,
        "tokens": [],  # named tokens: none unless pixie_app_tokens declares them
        "rate_per_min": 120,
        "rate_burst": 60,
        "rate_exempt": ["127.0.0.0/8", "::1/128"],
        "max_queued_per_priority": 1000,
        "tls_cert": "",  # plain HTTP unless pixie_common_tls_enabled
        "tls_key": "",
    }
    assert config["panel"]["rows"] == 16 and config["panel"]["cols"] == 64
    assert config["panel"]["hardware_mapping"] == "adafruit-hat-pwm"
    assert config["display"] == {"backend": "headless", "idle": "clock", "record_path": "/var/lib/pixie/frames.bin"}
    assert config["worker"]["worker_class"] == "pixie.worker.Worker"
    assert config["mqtt"] == {
        "enabled": True,
        "host": "127.0.0.1",
        "port": 1883,
        "username": "pixie-1",
        "device": "pixie-1",
        "name": "localhost",  # the inventory host name, as given
        "groups": ["displays"],
        "prefix": "pixie",
        "discovery_prefix": "homeassistant",
        "tls": False,
        "ca_file": "",
        "readable_topics": [],  # the local broker's ACL: nothing besides its own topics
    }
    assert config["apps"] == {"live_min_interval_s": 1.0}
    assert config["inputs"]["flaschen_taschen"] is False and config["inputs"]["ddp"] is False  # off by default
    assert config["awtrix"] == {"enabled": True, "user": "pixie", "mqtt_prefix": "awtrix_pixie-1"}
    assert config["fonts"] == {"max_bytes": 2 * 1024 * 1024, "max_count": 32}
    assert config["icons"] == {"max_bytes": 256 * 1024, "max_count": 500, "max_frames": 64, "fetch_url": ""}
    text = (out / "pixie.toml").read_text()
    for secret in ("redis_password", "api_token", "mqtt_password"):
        assert (tmp_path / "credentials" / secret).read_text().strip() not in text


def test_with_tls_the_api_serves_pixie_tls_files_and_the_app_reads_them(render):
    out = render({"pixie_common_tls_enabled": True})
    files = ("/etc/pixie/tls/cert.pem", "/etc/pixie/tls/key.pem")
    config = tomllib.loads((out / "pixie.toml").read_text())
    assert (config["web"]["tls_cert"], config["web"]["tls_key"]) == files
    settings = configuration.load(out / "pixie.toml", environ={})
    assert (settings.web.tls_cert, settings.web.tls_key) == files


def _env(path: Path) -> dict[str, str]:
    pairs = [line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#")]
    return dict(pairs)


def test_env_file_carries_the_secrets(defaults):
    out, tmp_path = defaults
    env = _env(out / "pixie.env")
    password = (tmp_path / "credentials" / "redis_password").read_text().strip()
    token = (tmp_path / "credentials" / "api_token").read_text().strip()
    mqtt = (tmp_path / "credentials" / "mqtt_password").read_text().strip()
    url = f"redis://:{password}@127.0.0.1:6379/0"
    volatile = f"redis://:{password}@127.0.0.1:6380/0"
    assert env == {
        "PIXIE_REDIS_URL": url,
        "RQ_REDIS_URL": url,
        "PIXIE_REDIS_VOLATILE_URL": volatile,
        "PIXIE_WEB_TOKEN": token,
        "PIXIE_MQTT_PASSWORD": mqtt,
    }
    assert len(mqtt) == 40 and mqtt.isalnum() and mqtt not in (password, token)


def test_env_file_without_token_when_auth_is_off_and_without_mqtt_when_it_is_off(render):
    out = render({"pixie_common_web_token_enabled": False, "pixie_common_mqtt_enabled": False})
    assert set(_env(out / "pixie.env")) == {"PIXIE_REDIS_URL", "RQ_REDIS_URL", "PIXIE_REDIS_VOLATILE_URL"}


def test_only_the_durable_redis_writes_to_the_card(defaults):
    out, tmp_path = defaults
    password = (tmp_path / "credentials" / "redis_password").read_text().strip()
    durable = (out / "pixie.conf").read_text().splitlines()
    assert {"appendonly yes", "appendfsync always", 'save ""'} <= set(durable)  # jobs in the AOF, no snapshots
    volatile = (out / "volatile.conf").read_text().splitlines()
    assert {'save ""', "appendonly no", "port 6380", f"requirepass {password}", "bind 127.0.0.1 -::1"} <= set(volatile)
    assert "pidfile /run/redis-pixie-volatile/redis-server.pid" in volatile  # where redis-server@.service looks
    unit = (out / "rqworker@.service").read_text()
    assert "After=redis-server.service redis-server@pixie-volatile.service" in unit


def test_without_a_volatile_redis_everything_stays_in_the_one(render):
    out = render({"pixie_common_redis_volatile_port": 0})
    assert "PIXIE_REDIS_VOLATILE_URL" not in _env(out / "pixie.env")


def test_redis_config_runs_a_protected_persistent_server(defaults, tmp_path):
    out, root = defaults
    text = (out / "pixie.conf").read_text()
    password = (root / "credentials" / "redis_password").read_text().strip()
    directives = dict(line.split(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))
    assert directives["bind"] == "127.0.0.1 -::1"
    assert directives["requirepass"] == password
    assert directives["appendonly"] == "yes"
    assert directives["appendfsync"] == "always"
    assert directives["maxmemory-policy"] == "noeviction"
    assert directives["maxmemory"] == "128mb"

    require("redis-server", "redis-cli")
    cli = "redis-cli"
    port = free_port()
    data = tmp_path / "redis-data"
    data.mkdir()
    # The rendered file is what the device includes; here the port and folder differ (bind and save too,
    # to loopback and no snapshots: the file's own save "", its bind less ::1).
    proc, _ = redis_server(data, "--include", str(out / "pixie.conf"), port=port, password=password)
    try:

        def cli_run(*args, auth=True):
            base = [cli, "-p", str(port), "--no-auth-warning"] + (["-a", password] if auth else [])
            return subprocess.run(base + list(args), capture_output=True, text=True, timeout=10).stdout.strip()

        assert "NOAUTH" in cli_run("SET", "k", "v", auth=False)
        assert cli_run("CONFIG", "GET", "appendonly").splitlines() == ["appendonly", "yes"]
        assert cli_run("CONFIG", "GET", "appendfsync").splitlines() == ["appendfsync", "always"]
        assert cli_run("CONFIG", "GET", "maxmemory-policy").splitlines() == ["maxmemory-policy", "noeviction"]
        assert cli_run("CONFIG", "GET", "maxmemory").splitlines() == ["maxmemory", str(128 * 1024 * 1024)]
    finally:
        proc.terminate()
        proc.wait(10)


def test_firewall_firstboot_unit(render):
    """A baked image's rules, run by ufw on its first boot (not verified by systemd-analyze:
    that wants /usr/sbin/ufw on this machine; test_image_boot.py boots it)."""
    ports, sources = [22, 2222], ["192.168.1.0/24", "10.0.0.0/8"]
    out = render({"pixie_firewall_allowed_tcp_ports": ports, "pixie_firewall_api_sources": sources})
    s = unit(out / "pixie-firewall-firstboot.service")
    assert values(s, "Service", "ExecStart") == [
        "/usr/sbin/ufw default deny incoming",
        "/usr/sbin/ufw allow 22/tcp",
        "/usr/sbin/ufw allow 2222/tcp",
        "/usr/sbin/ufw allow proto tcp from 192.168.1.0/24 to any port 5000",
        "/usr/sbin/ufw allow proto tcp from 10.0.0.0/8 to any port 5000",
        "/usr/sbin/ufw --force enable",
        "/usr/bin/touch /var/lib/ufw/pixie-firstboot-applied",
    ]
    assert values(s, "Unit", "ConditionPathExists") == ["!/var/lib/ufw/pixie-firstboot-applied"]  # once
    assert values(s, "Unit", "Before") == ["network-pre.target"]


def test_firewall_firstboot_unit_opens_the_api_to_all_by_default(defaults):
    out, _ = defaults
    commands = values(unit(out / "pixie-firewall-firstboot.service"), "Service", "ExecStart")
    assert "/usr/sbin/ufw allow 5000/tcp" in commands and not [c for c in commands if " from " in c]


# How the inventory hands pixie_app's live inputs to pixie_firewall (the roles share no files).
INVENTORY_WIRING = {
    name: value
    for name, value in yaml.safe_load(
        (ROLES.parent / "inventory" / "group_vars" / "displays" / "main.yml").read_text()
    ).items()
    if name.startswith("pixie_firewall_udp_")
}
LAN = ["192.168.1.0/24", "127.0.0.0/8", "::1/128"]


@pytest.mark.parametrize(
    "inputs, opened",
    [
        ({}, []),  # off by default: nothing opened
        ({"pixie_app_inputs_allow": LAN}, []),  # the allow-list alone opens nothing
        ({"pixie_app_inputs_flaschen_taschen": True}, []),  # on, but for loopback senders only
        ({"pixie_app_inputs_flaschen_taschen": True, "pixie_app_inputs_allow": LAN}, [(1337, "192.168.1.0/24")]),
        (
            {"pixie_app_inputs_ddp": True, "pixie_app_inputs_ddp_port": 4049, "pixie_app_inputs_allow": LAN},
            [(4049, "192.168.1.0/24")],
        ),
        (
            {
                "pixie_app_inputs_flaschen_taschen": True,
                "pixie_app_inputs_ddp": True,
                "pixie_app_inputs_allow": ["10.0.0.0/8", "fd00::/8"],
            },
            [(1337, "10.0.0.0/8"), (1337, "fd00::/8"), (4048, "10.0.0.0/8"), (4048, "fd00::/8")],
        ),
    ],
)
def test_the_firewall_opens_a_live_inputs_udp_port_only_while_the_input_is_on(render, inputs, opened):
    out = render(INVENTORY_WIRING | {"pixie_firewall_enabled": True} | inputs)
    commands = values(unit(out / "pixie-firewall-firstboot.service"), "Service", "ExecStart")
    udp = [c for c in commands if "udp" in c]
    assert udp == [f"/usr/sbin/ufw allow proto udp from {source} to any port {port}" for port, source in opened]
    assert commands[-2:] == ["/usr/sbin/ufw --force enable", "/usr/bin/touch /var/lib/ufw/pixie-firstboot-applied"]
    config = configuration.load(out / "pixie.toml", environ={}).inputs  # the ports the app listens on
    assert {port for port, _ in opened} <= {config.flaschen_taschen_port, config.ddp_port}


@pytest.mark.parametrize(
    "inputs, opened, closed",
    [
        ({}, [], [1337, 4048]),
        ({"pixie_app_inputs_flaschen_taschen": True}, [1337], [4048]),
        ({"pixie_app_inputs_flaschen_taschen": True, "pixie_app_inputs_ddp": True}, [1337, 4048], []),
    ],
)
def test_on_a_live_device_an_input_switched_off_has_its_udp_rules_removed(tmp_path, inputs, opened, closed):
    """The ufw tasks' loops (ufw itself needs netfilter and root): the ports they open, those whose
    rules they delete, and the sources (loopback needs no rule)."""
    names = ["__pixie_firewall_udp_open", "__pixie_firewall_udp_closed", "__pixie_firewall_udp_from"]
    play = [
        {
            "name": "the firewall's UDP rules",
            "hosts": "localhost",
            "gather_facts": False,
            "vars_files": role_defaults("pixie_common", "pixie_app", "pixie_firewall")
            + [
                str(ROLES / "pixie_firewall" / "vars" / "main.yml"),
                vars_file(tmp_path, INVENTORY_WIRING | {"pixie_app_inputs_allow": LAN} | inputs),
            ],
            "tasks": [{"name": name, "ansible.builtin.debug": {"var": name}} for name in names],
        }
    ]
    result = run_playbook(tmp_path, play)
    assert result.rc == 0, result
    assert [result.result(name)[name] for name in names] == [opened, closed, ["192.168.1.0/24"]]


def test_redis_dropin_restarts_it_without_a_limit_and_spares_it_from_the_oom_killer(render):
    """systemd's default start limit (5 in 10 s) would leave Redis dead after a
    full disk made it exit on every write; the OOM killer takes a worker first."""
    unit = configparser.ConfigParser()
    unit.optionxform = str
    unit.read_string((render({"pixie_redis_restart_sec": 5}) / "restart.conf").read_text())
    assert unit["Unit"]["StartLimitIntervalSec"] == "0"
    assert dict(unit["Service"]) == {"Restart": "always", "RestartSec": "5", "OOMScoreAdjust": "-800"}


def test_under_memory_pressure_a_render_worker_goes_before_the_display_and_redis(render):
    out = render({})
    score = {}
    for name in ("rqworker@.service", "pixie-display.service", "restart.conf"):
        unit = configparser.ConfigParser(strict=False)
        unit.optionxform = str
        unit.read_string((out / name).read_text())
        score[name] = int(unit["Service"]["OOMScoreAdjust"])
    assert score["rqworker@.service"] > 0 > score["pixie-display.service"] > score["restart.conf"]


def test_timesyncd_dropin(render):
    out = render({"pixie_boot_ntp_poll_interval_sec": 43200})
    lines = (out / "timesyncd-pixie.conf").read_text().splitlines()
    assert "[Time]" in lines
    assert "PollIntervalMinSec=43200" in lines and "PollIntervalMaxSec=43200" in lines


def test_profile_snippet_loads_only_the_users_own_file(defaults, tmp_path):
    out, _ = defaults
    home = tmp_path / "home"
    (home / ".config" / "pixie").mkdir(parents=True)
    (home / ".config" / "pixie" / "rq.env").write_text("RQ_REDIS_URL=redis://:secret@127.0.0.1:6379/0\n")
    script = f". {out / 'profile-pixie.sh'}; printf '%s' \"$RQ_REDIS_URL\""
    env = {"PATH": os.environ["PATH"], "HOME": str(home)}
    proc = subprocess.run(["sh", "-c", script], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "redis://:secret@127.0.0.1:6379/0"
    # Another user (no such file) gets nothing and no error.
    env["HOME"] = str(tmp_path / "nobody")
    proc = subprocess.run(["sh", "-c", script], capture_output=True, text=True, env=env)
    assert proc.returncode == 0 and proc.stdout == "" and proc.stderr == ""


def test_admin_rq_env_file(defaults):
    out, tmp_path = defaults
    password = (tmp_path / "credentials" / "redis_password").read_text().strip()
    assert _env(out / "rq.env") == {
        "RQ_REDIS_URL": f"redis://:{password}@127.0.0.1:6379/0",
        "PIXIE_HOST": "http://127.0.0.1:5000",  # the `pixie` command's device: this one
    }
    assert "Readable by admin only" in (out / "rq.env").read_text()


def test_with_tls_the_devices_own_clients_use_https_and_trust_the_ca(render):
    require("curl")
    port = free_port()  # nothing listens there
    out = render({"pixie_common_tls_enabled": True, "pixie_common_web_port": port})
    env = _env(out / "rq.env")
    assert (env["PIXIE_HOST"], env["PIXIE_CA"]) == (f"https://127.0.0.1:{port}", "/etc/pixie/tls/ca.pem")
    proc = subprocess.run(["sh", "-x", str(out / "motd-pixie.sh")], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert "API:     https://" in proc.stdout and "Health:  NOT RESPONDING" in proc.stdout
    assert "--cacert /etc/pixie/tls/ca.pem" in proc.stderr and f"https://127.0.0.1:{port}/healthz" in proc.stderr


def test_motd_names_the_api_and_its_health(render):
    require("curl")
    port = free_port()  # nothing listens there
    out = render({"pixie_common_web_port": port})
    proc = subprocess.run(["sh", str(out / "motd-pixie.sh")], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert f":{port}/" in proc.stdout and "/healthz" in proc.stdout
    assert "Health:  NOT RESPONDING" in proc.stdout
    assert "rq info" in proc.stdout and "journalctl -u 'rqworker@*'" in proc.stdout


def test_netplan_wifi_is_valid_yaml_with_quoted_secrets(render):
    out = render({"pixie_network_wifi_country": "DE"})
    doc = yaml.safe_load((out / "netplan-wifi.yaml").read_text())
    wlan = doc["network"]["wifis"]["wlan0"]
    assert wlan["access-points"] == {"Pixie Net": {"password": 'pa"ss word'}}
    assert wlan["regulatory-domain"] == "DE"
    assert doc["network"]["version"] == 2


def test_mqtt_unit_starts_after_redis_and_the_local_broker(defaults):
    out, _ = defaults
    s = unit(out / "pixie-mqtt.service")
    after, wants = values(s, "Unit", "After")[0].split(), values(s, "Unit", "Wants")[0].split()
    assert after == wants == ["redis-server.service", "redis-server@pixie-volatile.service", "mosquitto.service"]
    assert values(s, "Service", "MemoryMax") == ["88M"]
    assert values(s, "Service", "Group") == ["pixie"]
    assert values(s, "Unit", "StartLimitIntervalSec") == ["0"]
    # a local broker: loopback is all the bridge reaches
    assert values(s, "Service", "IPAddressAllow") == ["localhost"]
    assert values(s, "Service", "IPAddressDeny") == ["any"]
    web = unit(out / "pixie-web.service")
    sandbox = {k for k, _ in web["Service"]} - {"ExecStart", "IPAddressAllow", "IPAddressDeny"}
    assert sandbox <= {k for k, _ in s["Service"]}, "the web's sandbox, every setting of it"


def test_mqtt_with_an_external_broker(render):
    out = render(
        {
            "pixie_common_mqtt_broker": "external",
            "pixie_common_mqtt_host": "mqtt.example.org",
            "pixie_common_mqtt_port": 8883,
            "pixie_common_mqtt_tls": True,
            "pixie_common_mqtt_ca_file": "/etc/ssl/certs/home-ca.pem",
            "pixie_common_mqtt_username": "hall-display",
            "pixie_common_mqtt_password": "from-the-vault-1234",
            "pixie_common_mqtt_groups": [],
            "pixie_common_mqtt_discovery_prefix": "",
        }
    )
    s = unit(out / "pixie-mqtt.service")
    assert "mosquitto.service" not in values(s, "Unit", "After")[0].split()
    assert "IPAddressDeny" not in dict(s["Service"]), "an external broker is on the network"
    config = tomllib.loads((out / "pixie.toml").read_text())["mqtt"]
    assert (config["host"], config["port"], config["tls"], config["ca_file"]) == (
        "mqtt.example.org",
        8883,
        True,
        "/etc/ssl/certs/home-ca.pem",
    )
    assert (config["username"], config["groups"], config["discovery_prefix"]) == ("hall-display", [], "")
    assert config["readable_topics"] == ["#"], "an external broker's own ACL decides what the device may read"
    assert _env(out / "pixie.env")["PIXIE_MQTT_PASSWORD"] == "from-the-vault-1234"
    assert_verified(out / "pixie-mqtt.service")


def test_a_location_is_written_only_when_given_and_read_back_by_the_app(defaults, render):
    assert "location" not in tomllib.loads((defaults[0] / "pixie.toml").read_text())
    out = render({"pixie_app_location_latitude": 69.649, "pixie_app_location_longitude": "18.956"})
    assert tomllib.loads((out / "pixie.toml").read_text())["location"] == {"latitude": 69.649, "longitude": 18.956}
    assert configuration.load(out / "pixie.toml", environ={}).location.place == (69.649, 18.956)


def test_live_inputs_from_the_role_are_what_the_app_reads(render):
    out = render(
        {
            "pixie_app_inputs_flaschen_taschen": True,
            "pixie_app_inputs_flaschen_taschen_port": 1338,
            "pixie_app_inputs_ddp": True,
            "pixie_app_inputs_bind": "0.0.0.0",
            "pixie_app_inputs_allow": ["192.168.1.0/24"],
            "pixie_app_inputs_fallback_s": 2.5,
            "pixie_app_inputs_yields_to": "none",
            "pixie_app_inputs_ddp_serpentine": True,
            "pixie_app_inputs_ddp_start": 2048,
        }
    )
    inputs = configuration.load(out / "pixie.toml", environ={}).inputs
    assert (inputs.flaschen_taschen, inputs.flaschen_taschen_port) == (True, 1338)
    assert (inputs.ddp, inputs.ddp_port, inputs.ddp_serpentine, inputs.ddp_start) == (True, 4048, True, 2048)
    assert (inputs.bind, inputs.allow) == ("0.0.0.0", ["192.168.1.0/24"])
    assert (inputs.fallback_s, inputs.layer_timeout_s, inputs.yields_to) == (2.5, 15.0, "none")


def test_mqtt_off(render):
    out = render({"pixie_common_mqtt_enabled": False})
    assert tomllib.loads((out / "pixie.toml").read_text())["mqtt"]["enabled"] is False
    assert "PIXIE_MQTT_PASSWORD" not in _env(out / "pixie.env")


def test_mqtt_device_defaults_to_the_host_name_as_a_topic_level_and_its_name_to_the_host_name(tmp_path):
    values_ = {"pixie_common_credentials_dir": str(tmp_path / "credentials")}
    show = "{{ pixie_common_mqtt_device }} / {{ pixie_app_mqtt_name }}"
    play = [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "vars_files": role_defaults("pixie_common", "pixie_app") + [vars_file(tmp_path, values_)],
            "tasks": [{"name": "Show the device", "ansible.builtin.debug": {"msg": show}}],
        }
    ]
    result = run_playbook(tmp_path, play, extra_vars={"inventory_hostname": "Pixie.hall #2"})
    assert result.rc == 0, result
    assert result.result("Show the device")["msg"] == "Pixie-hall--2 / Pixie.hall #2"


def test_broker_dropin_caps_it_and_keeps_it_off_the_refresh_cpu(defaults):
    out, _ = defaults
    dropin = configparser.ConfigParser()
    dropin.optionxform = str
    dropin.read_string((out / "dropin.conf").read_text())
    assert dict(dropin["Service"]) == {"Restart": "always", "RestartSec": "2", "CPUAffinity": "0-2", "MemoryMax": "16M"}
    assert dropin["Unit"]["StartLimitIntervalSec"] == "0"
