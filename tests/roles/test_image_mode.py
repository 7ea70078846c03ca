"""Image mode (pixie_common_image_mode; pixie_boot_image_mode and pixie_ssh_image_mode in
the two roles that do not depend on pixie_common): the site.yml roles inside a chroot.

playbooks/image.yml runs the roles in an arm64 image where no systemd runs:
tests/image/test_image_boot.py proves a full run there and boots the result
(root, opt-in). These are the cheap checks:

- each switch follows pixie_image_mode (what image.yml sets) and is off by default;
- every systemd task of the site roles that asks for a `state:` drops it in
  image mode (enabled/masked stay), and every handler that restarts, reloads,
  applies or reboots is skipped in image mode (a static walk over the YAML);
- pixie_boot's unit lookup reads unit files from disk in image mode (real
  ansible-playbook against a throwaway unit folder).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from roles_support import ROLES, default_values, role_defaults, role_tasks, site_roles, vars_file

SITE_ROLES = site_roles()
SWITCH = "pixie_common_image_mode"


def switch(role: str) -> str:
    """The image-mode switch a role reads: pixie_common's, or its own without that dependency."""
    meta = yaml.safe_load((ROLES / role / "meta" / "main.yml").read_text())
    deps = [d["role"] if isinstance(d, dict) else d for d in meta.get("dependencies") or []]
    return SWITCH if role == "pixie_common" or "pixie_common" in deps else f"{role}_image_mode"


SERVICE_MODULES = {"ansible.builtin.systemd_service", "ansible.builtin.systemd", "ansible.builtin.service"}
# Handler modules that need the running device.
RUNTIME_HANDLERS = SERVICE_MODULES | {"ansible.builtin.reboot", "ansible.builtin.command"}
# Handlers that are fine in a chroot.
CHROOT_SAFE_HANDLERS = {"Rebuild the initramfs"}


def _tasks(items, inherited_when=""):
    """Yield (task, the `when` text of the task and its enclosing blocks)."""
    for task in items or []:
        when = task.get("when", "")
        when = " ".join(when) if isinstance(when, list) else str(when)
        whens = f"{inherited_when} {when}"
        if "block" in task:
            for key in ("block", "rescue", "always"):
                yield from _tasks(task.get(key), whens)
        else:
            yield task, whens


def _files(kind):
    for role in SITE_ROLES:
        for path in sorted((ROLES / role / kind).glob("*.yml")):
            yield path, switch(role), yaml.safe_load(path.read_text())


def _module(task):
    return next((k for k in task if k in SERVICE_MODULES | RUNTIME_HANDLERS), None)


def test_service_states_are_dropped_in_image_mode():
    checked = []
    for path, flag, items in _files("tasks"):
        for task, whens in _tasks(items):
            module = _module(task)
            if module not in SERVICE_MODULES or "state" not in task[module]:
                continue
            state = str(task[module]["state"])
            guarded = flag in whens
            assert guarded or (flag in state and "omit" in state), (
                f"{path.relative_to(ROLES)}: {task['name']!r} asks for state {state!r} also in image mode"
            )
            daemon_reload = str(task[module].get("daemon_reload", ""))
            assert not daemon_reload or guarded or flag in daemon_reload, (
                f"{path.relative_to(ROLES)}: {task['name']!r} reloads systemd in image mode"
            )
            checked.append(task["name"])
    # the ones image.yml used to stop at, among others
    assert {"Keep Redis enabled and running", "Enable and start rqworker@1 .. N"} <= set(checked), checked


def test_runtime_handlers_are_skipped_in_image_mode():
    checked = []
    for path, flag, items in _files("handlers"):
        for task, whens in _tasks(items):
            if _module(task) is None or task["name"] in CHROOT_SAFE_HANDLERS:
                continue
            assert flag in whens, f"{path.relative_to(ROLES)}: handler {task['name']!r} runs in image mode"
            checked.append(task["name"])
    assert {
        "Restart redis",
        "Apply netplan",
        "Reboot to apply the boot configuration",
        "Reload the sshd service",
    } <= set(checked), checked


def test_own_switches_are_declared_and_follow_pixie_image_mode():
    for role in SITE_ROLES:
        flag = switch(role)
        if flag == SWITCH:
            continue
        defaults = default_values(role)
        specs = yaml.safe_load((ROLES / role / "meta" / "argument_specs.yml").read_text())
        assert defaults[flag] == "{{ pixie_image_mode | default(false) }}", role
        assert specs["argument_specs"]["main"]["options"][flag]["type"] == "bool", role
        assert "pixie_common_" not in (ROLES / role / "handlers" / "main.yml").read_text(), role


def _play(tmp_path, overrides, tasks):
    return [
        {
            "name": "image mode",
            "hosts": "localhost",
            "gather_facts": False,
            "vars_files": role_defaults("pixie_common", "pixie_boot", "pixie_ssh") + [vars_file(tmp_path, overrides)],
            "tasks": tasks,
        }
    ]


SWITCHES = [SWITCH, "pixie_boot_image_mode", "pixie_ssh_image_mode"]


@pytest.mark.parametrize("flag", SWITCHES)
@pytest.mark.parametrize(
    "overrides, expected",
    [({}, False), ({"pixie_image_mode": True}, True), ({"pixie_image_mode": True, "FLAG": False}, False)],
    ids=["default-off", "image-yml-sets-pixie_image_mode", "explicit-override"],
)
def test_switch_follows_pixie_image_mode(run_play, tmp_path, flag, overrides, expected):
    overrides = {flag if k == "FLAG" else k: v for k, v in overrides.items()}
    play = _play(
        tmp_path,
        {"pixie_common_credentials_dir": str(tmp_path / "credentials"), **overrides},
        [{"name": "Show the switch", "ansible.builtin.debug": {"msg": "{{ " + flag + " | bool }}"}}],
    )
    result = run_play(play)
    assert result.rc == 0, result
    assert result.result("Show the switch")["msg"] is expected


def test_unit_lookup_reads_unit_files(run_play, tmp_path):
    etc, lib = tmp_path / "etc-systemd", tmp_path / "lib-systemd"
    etc.mkdir()
    lib.mkdir()
    (lib / "bluetooth.service").write_text("[Unit]\nDescription=stand-in\n")
    (etc / "hciuart.service").symlink_to("/dev/null")  # already masked: still "exists"
    play = _play(
        tmp_path,
        {
            "pixie_common_credentials_dir": str(tmp_path / "credentials"),
            "pixie_image_mode": True,
            "__pixie_boot_unit_dirs": [str(etc), str(lib)],
        },
        [
            {
                "name": "Look up the units",
                "ansible.builtin.import_tasks": role_tasks("pixie_boot", "units.yml"),
                "vars": {"__pixie_boot_units_wanted": ["bluetooth.service", "hciuart.service", "nope.service"]},
            },
            {"name": "Show the units", "ansible.builtin.debug": {"var": "__pixie_boot_units"}},
        ],
    )
    result = run_play(play)
    assert result.rc == 0, result
    assert sorted(result.result("Show the units")["__pixie_boot_units"]) == ["bluetooth.service", "hciuart.service"]


def test_sdcard_uses_pixie_boots_files_entry_point():
    tune = (ROLES / "pixie_sdcard" / "tasks" / "tune.yml").read_text()
    tasks = yaml.safe_load(tune)
    included = [t["ansible.builtin.include_role"] for t in tasks if "ansible.builtin.include_role" in t]
    assert included == [{"name": "pixie_boot", "tasks_from": "files"}]
    assert "dtparam=audio" not in tune and "disable-bt" not in tune, "a copy of pixie_boot's edits is back"
    specs = yaml.safe_load((ROLES / "pixie_boot" / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    assert {"main", "files", "validate"} <= set(specs)
    assert specs["files"]["options"]["pixie_boot_files_cmdline_path"]["required"] is True
    assert specs["files"]["options"]["pixie_boot_files_config_path"]["required"] is True
    assert Path(ROLES / "pixie_boot" / "tasks" / "config-txt.yml").exists()
