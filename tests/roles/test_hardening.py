"""Secure by default, checked on what the roles render with real Ansible:

- the web and worker units' sandboxes rated by `systemd-analyze security --offline=true`
  (exposure at most 4.0, "OK"; the figure is printed), the display's too (printed);
- no secret in the rendered unit files or pixie.toml (the worker's argv: tests/test_config.py);
- the client allow-list from pixie_app_web_allow into pixie.toml (read by the app's own loader)
  and into the web unit's IPAddressAllow=; bad entries refused by the role's validation.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path

import pytest
from roles_support import run_playbook, vars_file
from test_templates import render_templates, unit, values
from test_validation import validation_play

from pixie import config as configuration
from testsupport.tools import require

MAX_EXPOSURE = 4.0


def exposure(path: Path) -> tuple[float, str]:
    require("systemd-analyze")
    proc = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--no-pager", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+) (\w+)", proc.stdout)
    assert found, f"no exposure figure from systemd-analyze security:\n{proc.stdout}{proc.stderr}"
    return float(found.group(1)), found.group(2)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hardening")
    out = render_templates(tmp, {"pixie_app_web_allow": ["192.168.1.0/24", "fd00::/8"]})
    # systemd rates instances, not templates: rqworker@1 from the template.
    (out / "rqworker@1.service").write_text((out / "rqworker@.service").read_text())
    return out, tmp


@pytest.mark.parametrize("name", ["pixie-web.service", "rqworker@1.service", "pixie-mqtt.service"])
def test_web_worker_and_mqtt_sandboxes_are_rated_ok(rendered, name):
    out, _ = rendered
    level, word = exposure(out / name)
    print(f"\nsystemd-analyze security {name}: {level} {word}")
    assert level <= MAX_EXPOSURE, f"{name}: exposure {level} {word}, more than {MAX_EXPOSURE}"
    s = unit(out / name)
    for key, value in [
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("NoNewPrivileges", "yes"),
        ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
        ("ReadWritePaths", "/var/lib/pixie"),
        ("CapabilityBoundingSet", ""),
    ]:
        assert values(s, "Service", key) == [value], key
    assert values(s, "Service", "MemoryMax"), "a memory cap"


def test_mqtt_bridge_is_sandboxed_as_the_web_api(rendered):
    out, _ = rendered
    mqtt, _ = exposure(out / "pixie-mqtt.service")
    web, _ = exposure(out / "pixie-web.service")
    assert mqtt <= web, f"pixie-mqtt {mqtt}, pixie-web {web}"


def test_display_keeps_what_gpio_needs_and_no_more(rendered):
    out, _ = rendered
    level, word = exposure(out / "pixie-display.service")
    print(f"\nsystemd-analyze security pixie-display.service: {level} {word} (root for GPIO)")
    s = unit(out / "pixie-display.service")
    assert values(s, "Service", "User") == ["root"]
    caps = set(values(s, "Service", "CapabilityBoundingSet")[0].split())
    assert {"CAP_SYS_RAWIO", "CAP_SYS_NICE"} <= caps, "raw I/O for /dev/mem, real-time for the refresh thread"
    assert not caps & {"CAP_SYS_ADMIN", "CAP_NET_ADMIN", "CAP_SYS_MODULE", "CAP_SYS_PTRACE", "CAP_BPF"}
    assert "RestrictRealtime" not in dict(s["Service"]) and "PrivateDevices" not in dict(s["Service"])
    assert "AllowedCPUs" not in dict(s["Service"])
    baseline = out.parent / "display-unsandboxed"
    baseline.mkdir()
    plain = render_templates(baseline, {"pixie_app_display_sandbox": False}, name="plain")
    before, _ = exposure(plain / "pixie-display.service")
    print(f"  without the sandbox: {before}")
    assert level < before


def test_sandbox_can_be_switched_off(tmp_path):
    out = render_templates(
        tmp_path, {"pixie_app_web_sandbox": False, "pixie_workers_sandbox": False, "pixie_app_mqtt_sandbox": False}
    )
    for name in ("pixie-web.service", "rqworker@.service", "pixie-mqtt.service"):
        assert "SystemCallFilter" not in dict(unit(out / name)["Service"])


def test_workers_reach_only_the_local_redis(rendered):
    out, _ = rendered
    s = unit(out / "rqworker@1.service")
    assert values(s, "Service", "IPAddressAllow") == ["localhost"]
    assert values(s, "Service", "IPAddressDeny") == ["any"]


def test_allow_list_reaches_the_app_and_the_unit(rendered):
    out, _ = rendered
    config = configuration.load(out / "pixie.toml", environ={})
    assert config.web.allow == ["192.168.1.0/24", "fd00::/8", "127.0.0.0/8", "::1"]
    s = unit(out / "pixie-web.service")
    assert values(s, "Service", "IPAddressAllow") == ["localhost 192.168.1.0/24 fd00::/8"]
    assert values(s, "Service", "IPAddressDeny") == ["any"]


def test_no_allow_list_means_everyone(tmp_path):
    out = render_templates(tmp_path, {"pixie_app_web_allow_loopback": False})
    assert configuration.load(out / "pixie.toml", environ={}).web.allow == []
    assert "IPAddressDeny" not in dict(unit(out / "pixie-web.service")["Service"])


def test_rendered_units_and_config_hold_no_secret(rendered):
    out, tmp = rendered
    names = ("redis_password", "api_token", "mqtt_password")
    secrets = [(tmp / "credentials" / name).read_text().strip() for name in names]
    assert all(len(secret) >= 32 for secret in secrets)
    for name in ("pixie-web.service", "pixie-display.service", "pixie-mqtt.service", "rqworker@.service", "pixie.toml"):
        text = (out / name).read_text()
        for secret in secrets:
            assert secret not in text, f"a secret in {name}"
    env = (out / "pixie.env").read_text()
    assert all(secret in env for secret in secrets), "pixie.env (root:pixie 0640) is where they belong"


@pytest.mark.parametrize("entry", ["192.168.1.0/24; rm -rf /", "everyone", "10.0.0.0/8 11.0.0.0/8"])
def test_bad_allow_entries_are_refused(tmp_path, entry):
    play = validation_play("pixie_app")
    play[0]["vars_files"].append(vars_file(tmp_path, {"pixie_app_web_allow": [entry]}))
    result = run_playbook(tmp_path, play)
    assert result.rc != 0, result
    assert "pixie_app_web_allow" in result.failure(), result


NAMED_TOKENS = [
    {"name": "phone", "scope": "push", "token": "phone-token-0123456789"},
    {"name": "home-assistant", "scope": "read", "token": "ha-token-0123456789abc"},
]


def test_named_tokens_reach_the_app_as_their_hashes_only(tmp_path):
    out = render_templates(tmp_path, {"pixie_app_tokens": NAMED_TOKENS, "pixie_app_web_rate_per_min": 30})
    text = (out / "pixie.toml").read_text()
    assert not [t["name"] for t in NAMED_TOKENS if t["token"] in text], "a token in pixie.toml"
    web = configuration.load(out / "pixie.toml", environ={}).web
    hashed = [f"{t['name']}:{t['scope']}:{hashlib.sha256(t['token'].encode()).hexdigest()}" for t in NAMED_TOKENS]
    assert web.tokens == hashed
    assert (web.rate_per_min, web.rate_burst, web.max_queued_per_priority) == (30, 60, 1000)


@pytest.mark.parametrize(
    "tokens",
    [
        [{"name": "phone", "scope": "owner", "token": "phone-token-0123456789"}],
        [{"name": "a phone", "scope": "push", "token": "phone-token-0123456789"}],
        [{"name": "phone", "scope": "push", "token": "short"}],
        [{"name": "default", "scope": "read", "token": "phone-token-0123456789"}],  # pixie_common_web_token's
        NAMED_TOKENS + NAMED_TOKENS[:1],
    ],
)
def test_bad_named_tokens_are_refused(tmp_path, tokens):
    play = validation_play("pixie_app")
    play[0]["vars_files"].append(vars_file(tmp_path, {"pixie_app_tokens": tokens}))
    result = run_playbook(tmp_path, play)
    assert result.rc != 0, result
    assert "pixie_app_tokens" in result.failure(), result
    assert not any(t["token"] in result.stdout + result.stderr for t in tokens), "a token in ansible's output"
