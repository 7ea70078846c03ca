"""Bad variables fail early, with a message that names the variable.

Each case runs ansible-playbook on localhost with the role's defaults, then
exactly what the role runs first: its argument spec (meta/argument_specs.yml,
through ansible.builtin.validate_argument_spec as Ansible does implicitly) and
its validation task file."""

from __future__ import annotations

import pytest
from roles_support import ROLES, role_defaults, role_tasks

VALIDATION_FILE = {
    "pixie_common": "validate.yml",
    "pixie_boot": "validate.yml",
    "pixie_redis": "validate.yml",
    "pixie_rgbmatrix": "validate.yml",
    "pixie_app": "validate.yml",
    "pixie_workers": "validate.yml",
    "pixie_mqtt": "validate.yml",
    "pixie_tls": "validate.yml",
    # These two validate inside main.yml, before they touch anything.
    "pixie_firewall": "main.yml",
    "pixie_network": "main.yml",
}


def validation_play(role: str) -> list[dict]:
    tasks = [
        {
            "name": f"Validate arguments of {role} (meta/argument_specs.yml)",
            "ansible.builtin.validate_argument_spec": {
                "argument_spec": "{{ (lookup('ansible.builtin.file', '%s') | from_yaml)"
                ".argument_specs.main.options }}" % (ROLES / role / "meta" / "argument_specs.yml"),
            },
        },
        {"name": "Shared validation", "ansible.builtin.import_tasks": role_tasks("pixie_common", "validate.yml")},
    ]
    if role != "pixie_common":
        tasks.append(
            {"name": f"{role} validation", "ansible.builtin.import_tasks": role_tasks(role, VALIDATION_FILE[role])}
        )
    defaults = ["pixie_common"] + ([role] if role != "pixie_common" else [])
    return [
        {
            "name": f"validate {role}",
            "hosts": "localhost",
            "gather_facts": False,
            "vars_files": role_defaults(*defaults),
            "tasks": tasks,
        }
    ]


BAD = [
    # the board: a name outside the table, for pixie_common and a role whose defaults read its row
    ("pixie_common", {"pixie_board": "pi6"}, "pixie_board"),
    ("pixie_common", {"pixie_board": "Pi4"}, "pixie_board"),
    ("pixie_workers", {"pixie_board": "zero"}, "pixie_board"),
    ("pixie_common", {"pixie_common_isolated_cpu": 0}, "pixie_common_isolated_cpu"),
    ("pixie_common", {"pixie_common_housekeeping_cpus": "0-3"}, "pixie_common_housekeeping_cpus"),
    ("pixie_common", {"pixie_common_housekeeping_cpus": "zero"}, "pixie_common_housekeeping_cpus"),
    ("pixie_common", {"pixie_common_user": "root"}, "pixie_common_user"),
    ("pixie_common", {"pixie_common_web_port": 6379}, "pixie_common_web_port"),
    ("pixie_common", {"pixie_common_web_token": "short"}, "pixie_common_web_token"),
    ("pixie_common", {"pixie_common_redis_password": "p@ss/word:with-url-chars"}, "pixie_common_redis_password"),
    ("pixie_boot", {"pixie_boot_irqaffinity": "0-3"}, "pixie_boot_irqaffinity"),
    ("pixie_boot", {"pixie_boot_isolated_cpu": 0}, "pixie_boot_isolated_cpu"),
    ("pixie_boot", {"pixie_boot_cmdline_extra": {"bad key": 1}}, "pixie_boot_cmdline_extra"),
    ("pixie_boot", {"pixie_boot_reboot_timeout": 5}, "pixie_boot_reboot_timeout"),
    ("pixie_boot", {"pixie_boot_panic_reboot_s": -1}, "pixie_boot_panic_reboot_s"),
    ("pixie_boot", {"pixie_boot_ntp_mode": "sometimes"}, "pixie_boot_ntp_mode"),
    ("pixie_boot", {"pixie_boot_isolcpus_flags": ["domain", "bogus"]}, "pixie_boot_isolcpus_flags"),
    ("pixie_boot", {"pixie_boot_cmdline_remove": ["isolcpus"]}, "pixie_boot_cmdline_remove"),
    ("pixie_redis", {"pixie_redis_bind": ["0.0.0.0"]}, "pixie_redis_bind"),
    ("pixie_redis", {"pixie_redis_maxmemory_policy": "allkeys-lru"}, "pixie_redis_maxmemory_policy"),
    ("pixie_redis", {"pixie_redis_maxmemory": "lots"}, "pixie_redis_maxmemory"),
    ("pixie_rgbmatrix", {"pixie_rgbmatrix_version": "master"}, "pixie_rgbmatrix_version"),
    ("pixie_rgbmatrix", {"pixie_rgbmatrix_hardware_desc": "adafruit"}, "pixie_rgbmatrix_hardware_desc"),
    ("pixie_rgbmatrix", {"pixie_rgbmatrix_make_jobs": 0}, "pixie_rgbmatrix_make_jobs"),
    ("pixie_app", {"pixie_app_releases_keep": 0}, "pixie_app_releases_keep"),
    ("pixie_app", {"pixie_app_health_timeout_s": 5}, "pixie_app_health_timeout_s"),
    ("pixie_app", {"pixie_app_panel_rows": 31}, "pixie_app_panel_rows"),
    ("pixie_app", {"pixie_app_panel_cols": 60}, "pixie_app_panel_cols"),
    ("pixie_app", {"pixie_app_panel_brightness": 101}, "pixie_app_panel_brightness"),
    ("pixie_app", {"pixie_app_panel_brightness": -1}, "pixie_app_panel_brightness"),
    ("pixie_app", {"pixie_app_apps_live_min_interval_s": -1}, "pixie_app_apps_live_min_interval_s"),
    ("pixie_app", {"pixie_app_panel_hardware_mapping": "adafruit"}, "pixie_app_panel_hardware_mapping"),
    ("pixie_app", {"pixie_app_display_backend": "lcd"}, "pixie_app_display_backend"),
    ("pixie_app", {"pixie_app_display_cpu_affinity": "0-3"}, "pixie_app_display_cpu_affinity"),
    ("pixie_app", {"pixie_app_web_cpu_affinity": "3"}, "pixie_app_web_cpu_affinity"),
    ("pixie_app", {"pixie_app_panel_pwm_bits": 12}, "pixie_app_panel_pwm_bits"),
    ("pixie_app", {"pixie_app_icons_max_frames": 0}, "pixie_app_icons_max_frames"),
    ("pixie_app", {"pixie_app_fonts_max_bytes": -1}, "pixie_app_fonts_max_bytes"),
    ("pixie_app", {"pixie_app_mqtt_cpu_affinity": "0-3"}, "pixie_app_mqtt_cpu_affinity"),
    ("pixie_app", {"pixie_app_location_latitude": 52.5}, "pixie_app_location_longitude"),
    (
        "pixie_app",
        {"pixie_app_location_latitude": 91, "pixie_app_location_longitude": 0},
        "pixie_app_location_latitude",
    ),
    (
        "pixie_app",
        {"pixie_app_location_latitude": 0, "pixie_app_location_longitude": 181},
        "pixie_app_location_longitude",
    ),
    (
        "pixie_app",
        {"pixie_app_location_latitude": "north", "pixie_app_location_longitude": 0},
        "pixie_app_location_latitude",
    ),
    ("pixie_app", {"pixie_app_inputs_yields_to": "low"}, "pixie_app_inputs_yields_to"),
    ("pixie_app", {"pixie_app_inputs_flaschen_taschen_port": 70000}, "pixie_app_inputs_flaschen_taschen_port"),
    ("pixie_app", {"pixie_app_inputs_fallback_s": 0.01}, "pixie_app_inputs_fallback_s"),
    ("pixie_app", {"pixie_app_inputs_ddp_start": -1}, "pixie_app_inputs_ddp_start"),
    ("pixie_app", {"pixie_app_inputs_allow": ["the LAN"]}, "pixie_app_inputs_allow"),
    ("pixie_app", {"pixie_app_inputs_bind": "pixie.local"}, "pixie_app_inputs_bind"),
    (
        "pixie_app",
        {"pixie_app_inputs_flaschen_taschen": True, "pixie_app_inputs_ddp": True, "pixie_app_inputs_ddp_port": 1337},
        "pixie_app_inputs_ddp_port",
    ),
    ("pixie_common", {"pixie_common_mqtt_broker": "external"}, "pixie_common_mqtt_host"),
    ("pixie_common", {"pixie_common_mqtt_host": "192.168.1.9"}, "pixie_common_mqtt_host"),
    ("pixie_common", {"pixie_common_mqtt_broker": "cloud"}, "pixie_common_mqtt_broker"),
    ("pixie_common", {"pixie_common_mqtt_port": 6379}, "pixie_common_mqtt_port"),
    ("pixie_common", {"pixie_common_mqtt_device": "hall/+"}, "pixie_common_mqtt_device"),
    ("pixie_common", {"pixie_common_mqtt_groups": ["all displays"]}, "pixie_common_mqtt_groups"),
    ("pixie_common", {"pixie_common_mqtt_prefix": "pixie/#"}, "pixie_common_mqtt_prefix"),
    ("pixie_common", {"pixie_common_mqtt_readable_topics": ["home/#/temp"]}, "pixie_common_mqtt_readable_topics"),
    ("pixie_common", {"pixie_common_mqtt_readable_topics": ["home/temp+"]}, "pixie_common_mqtt_readable_topics"),
    ("pixie_common", {"pixie_common_mqtt_readable_topics": [""]}, "pixie_common_mqtt_readable_topics"),
    ("pixie_common", {"pixie_common_mqtt_username": "a:b"}, "pixie_common_mqtt_username"),
    ("pixie_common", {"pixie_common_mqtt_password": "short"}, "pixie_common_mqtt_password"),
    ("pixie_common", {"pixie_common_mqtt_password": 'with "quotes" in it'}, "pixie_common_mqtt_password"),
    ("pixie_common", {"pixie_common_mqtt_tls": True}, "pixie_common_mqtt_tls"),
    (
        "pixie_mqtt",
        {"pixie_mqtt_users": [{"name": "ha", "password": "long-enough-pw", "topics": ["all pixie/#"]}]},
        "pixie_mqtt_users",
    ),
    ("pixie_mqtt", {"pixie_mqtt_users": [{"name": "ha", "password": "short", "topics": []}]}, "pixie_mqtt_users"),
    (
        "pixie_mqtt",
        {"pixie_mqtt_users": [{"name": "localhost", "password": "long-enough-pw", "topics": []}]},
        "pixie_mqtt_users",
    ),
    ("pixie_mqtt", {"pixie_mqtt_lan_listener": True, "pixie_mqtt_tls_cert": "/nonexistent.pem"}, "pixie_mqtt_tls_cert"),
    ("pixie_mqtt", {"pixie_mqtt_lan_listener": True, "pixie_mqtt_lan_port": 5000}, "pixie_mqtt_lan_port"),
    ("pixie_mqtt", {"pixie_mqtt_memory_max": "lots"}, "pixie_mqtt_memory_max"),
    ("pixie_tls", {"pixie_tls_renew_days": 400}, "pixie_tls_renew_days"),
    ("pixie_tls", {"pixie_tls_cert_days": 5000}, "pixie_tls_cert_days"),
    ("pixie_tls", {"pixie_tls_extra_names": ["the hall"]}, "pixie_tls_extra_names"),
    ("pixie_mqtt", {"pixie_mqtt_cpu_affinity": "3"}, "pixie_mqtt_cpu_affinity"),
    ("pixie_workers", {"pixie_workers_count": 0}, "pixie_workers_count"),
    (
        "pixie_workers",
        {"pixie_workers_count": 2, "pixie_workers_scheduler_instance": 3},
        "pixie_workers_scheduler_instance",
    ),
    ("pixie_workers", {"pixie_workers_cpu_affinity": "2-3"}, "pixie_workers_cpu_affinity"),
    ("pixie_workers", {"pixie_workers_cpu_affinity": "0,1,3"}, "pixie_workers_cpu_affinity"),
    ("pixie_workers", {"pixie_workers_count": "two"}, "pixie_workers_count"),
    (
        "pixie_firewall",
        {"pixie_firewall_enabled": True, "pixie_firewall_allowed_tcp_ports": [80]},
        "pixie_firewall_allowed_tcp_ports",
    ),
    (
        "pixie_firewall",
        {"pixie_firewall_enabled": True, "pixie_firewall_udp_ports": [{"port": 70000, "open": True}]},
        "pixie_firewall_udp_ports",
    ),
    (
        "pixie_firewall",
        {"pixie_firewall_enabled": True, "pixie_firewall_udp_sources": ["the LAN"]},
        "pixie_firewall_udp_sources",
    ),
    (
        "pixie_network",
        {"pixie_network_wifi_ssid": "home", "pixie_network_wifi_password": "short"},
        "pixie_network_wifi_password",
    ),
]


@pytest.mark.parametrize("role, bad, name", BAD, ids=[f"{r}:{n}={list(b.values())[-1]}" for r, b, n in BAD])
def test_bad_variable_fails_naming_it(run_play, tmp_path, role, bad, name):
    extra = {"pixie_common_credentials_dir": str(tmp_path / "credentials"), **bad}
    result = run_play(validation_play(role), extra_vars=extra)
    assert result.rc != 0, f"{bad} was accepted"
    assert result.failed == 1
    assert name in result.failure(), result


def test_redis_on_the_network_only_when_a_fleet_asks_for_it(run_play, tmp_path):
    extra = {"pixie_common_credentials_dir": str(tmp_path / "credentials"), "pixie_redis_bind": ["192.168.1.5"]}
    refused = run_play(validation_play("pixie_redis"), extra_vars=extra)
    assert refused.rc != 0 and "pixie_redis_allow_network" in refused.failure()
    allowed = run_play(validation_play("pixie_redis"), extra_vars=extra | {"pixie_redis_allow_network": True})
    assert allowed.rc == 0, allowed


@pytest.mark.parametrize("role", sorted(VALIDATION_FILE))
def test_defaults_pass_validation(run_play, tmp_path, role):
    result = run_play(validation_play(role), extra_vars={"pixie_common_credentials_dir": str(tmp_path / "credentials")})
    assert result.rc == 0, result
    assert result.failed == 0


def test_secrets_are_generated_once_on_the_controller(run_play, tmp_path):
    creds = tmp_path / "credentials"
    play = validation_play("pixie_common")
    assert run_play(play, extra_vars={"pixie_common_credentials_dir": str(creds)}).rc == 0
    password = (creds / "redis_password").read_text().strip()
    token = (creds / "api_token").read_text().strip()
    assert len(password) == 40 and password.isalnum()
    assert len(token) == 43 and token.isalnum()
    assert password != token
    assert run_play(play, extra_vars={"pixie_common_credentials_dir": str(creds)}).rc == 0
    assert (creds / "redis_password").read_text().strip() == password
    assert (creds / "api_token").read_text().strip() == token


def test_external_broker_and_mqtt_off_pass_validation(run_play, tmp_path):
    creds = {"pixie_common_credentials_dir": str(tmp_path / "credentials")}
    external = {
        "pixie_common_mqtt_broker": "external",
        "pixie_common_mqtt_host": "mqtt.example.org",
        "pixie_common_mqtt_tls": True,
        "pixie_common_mqtt_ca_file": "/etc/ssl/certs/ca.pem",
    }
    for extra in (external, {"pixie_common_mqtt_enabled": False, "pixie_common_mqtt_broker": "external"}):
        result = run_play(validation_play("pixie_mqtt"), extra_vars=creds | extra)
        assert result.rc == 0, (extra, result)
