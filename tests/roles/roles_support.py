"""Helpers for the role tests: run REAL ansible-playbook against localhost.

Plays are written to a temp folder and run with testsupport.ansible (the repo's
ansible.cfg, a local connection, the ansible.posix.json callback so that results
can be asserted on), the repo's roles and its pixie.appliance collection. Nothing
is mocked: a test that passes here ran the role's own task files.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest
import yaml

from testsupport.ansible import PlaybookRun, ansible_playbook, new_file

REPO = Path(__file__).resolve().parents[2]
ROLES = REPO / "roles"
# pixie.appliance: the filters the roles share (found through ansible.cfg's collections_path).
COLLECTION = REPO / "collections" / "ansible_collections" / "pixie" / "appliance"


def site_roles() -> list[str]:
    """The appliance's roles in order: THE list, roles/pixie_site/meta/main.yml's dependencies."""
    meta = yaml.safe_load((ROLES / "pixie_site" / "meta" / "main.yml").read_text())
    return [dep["role"] if isinstance(dep, dict) else dep for dep in meta["dependencies"]]


def filter_module(name: str):
    """A filter plugin file of pixie.appliance, imported as a plain module (its functions)."""
    path = COLLECTION / "plugins" / "filter" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"pixie_appliance_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def role_defaults(*roles: str) -> list[str]:
    return [str(ROLES / role / "defaults" / "main.yml") for role in roles]


def default_values(role: str) -> dict:
    """A role's defaults/main.yml as data (empty for a role without one)."""
    path = ROLES / role / "defaults" / "main.yml"
    return (yaml.safe_load(path.read_text()) if path.exists() else None) or {}


def vars_file(tmp_path: Path, values: dict, name: str = "overrides.yml") -> str:
    """Write values to a vars file; list it AFTER role_defaults() in vars_files
    (play `vars:` rank below `vars_files:`, so overrides must go here)."""
    path = tmp_path / name
    path.write_text(yaml.safe_dump(values, sort_keys=False))
    return str(path)


def role_tasks(role: str, name: str) -> str:
    return str(ROLES / role / "tasks" / name)


def app_tasks_play(name: str, tasks: str) -> list[dict]:
    """A play running one of pixie_app's task files on localhost with the role's own defaults and vars
    (nothing else of the role touches this machine); its API calls go to the port the test gives."""
    return [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "vars_files": [*role_defaults("pixie_common", "pixie_app"), str(ROLES / "pixie_app" / "vars" / "main.yml")],
            "tasks": [{"name": name, "ansible.builtin.import_tasks": role_tasks("pixie_app", tasks)}],
        }
    ]


def run_playbook(workdir: Path, plays, extra_vars=None, check=False, diff=False, env=None) -> PlaybookRun:
    """Write plays to workdir and run them with ansible-playbook on localhost."""
    playbook = new_file(workdir, "play.yml", yaml.safe_dump(plays, sort_keys=False))
    # A role's task file included by path (role_tasks()) does not load that role's filters: all of them by path.
    filters = os.pathsep.join(str(p) for p in sorted(ROLES.glob("*/filter_plugins")))
    environ = {"ANSIBLE_ROLES_PATH": str(ROLES), "ANSIBLE_FILTER_PLUGINS": filters, **(env or {})}
    flags = [flag for flag, on in (("--check", check), ("--diff", diff)) if on]
    return ansible_playbook(playbook, workdir, extra_vars, *flags, env=environ)


@pytest.fixture
def run_play(tmp_path):
    """run_play(plays, extra_vars={}, check=False, diff=False) -> PlaybookRun."""

    def run(plays, extra_vars=None, check=False, diff=False, env=None):
        return run_playbook(tmp_path, plays, extra_vars=extra_vars, check=check, diff=diff, env=env)

    return run


def issue_tls(tmp_path: Path, **overrides) -> PlaybookRun:
    """pixie_tls's controller tasks for real: a CA and the device's certificate in tmp_path/credentials."""
    values = {"pixie_common_tls_enabled": True, "pixie_common_credentials_dir": str(tmp_path / "credentials")}
    play = {
        "name": "pixie_tls on the controller",
        "hosts": "localhost",
        "gather_facts": False,
        "vars_files": role_defaults("pixie_common", "pixie_tls")
        + [str(ROLES / "pixie_tls" / "vars" / "main.yml"), vars_file(tmp_path, {**values, **overrides}, "tls.yml")],
        "tasks": [{"name": "Issue", "ansible.builtin.import_tasks": role_tasks("pixie_tls", "controller.yml")}],
    }
    run = run_playbook(tmp_path, [play])
    assert run.rc == 0, run
    return run


def resolved_values(tmp_path: Path, roles: list[str], names: list[str], overrides=None) -> dict:
    """The values of `names` as Ansible resolves them from the roles' defaults (templates and all,
    e.g. a board's row), with overrides above them: what the roles' tasks and templates see."""
    out = tmp_path / "resolved.json"
    play = {
        "name": "resolve the roles' variables",
        "hosts": "localhost",
        "gather_facts": False,
        "vars_files": role_defaults(*roles) + [vars_file(tmp_path, overrides or {}, "resolve.yml")],
        "tasks": [
            {
                "name": "Write the resolved values",
                "ansible.builtin.copy": {
                    "content": "{{ {" + ", ".join(f"'{n}': {n}" for n in names) + "} | to_json }}",
                    "dest": str(out),
                    "mode": "0644",
                },
            }
        ],
    }
    run = run_playbook(tmp_path, [play])
    assert run.rc == 0, run
    return json.loads(out.read_text())
