"""Helpers for the role tests: run REAL ansible-playbook against localhost.

Plays are written to a temp folder and run with the repo's ansible.cfg, the
repo's roles, its pixie.appliance collection, a local connection, and the
ansible.posix.json callback so that results can be asserted on. Nothing is
mocked: a test that passes here ran the role's own task files.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

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


def ansible_tool(name: str) -> str:
    """Find an ansible CLI next to this Python first, then on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} not found: install the pinned Ansible tools (requirements-dev.txt)")
    return found


def role_defaults(*roles: str) -> list[str]:
    return [str(ROLES / role / "defaults" / "main.yml") for role in roles]


def vars_file(tmp_path: Path, values: dict, name: str = "overrides.yml") -> str:
    """Write values to a vars file; list it AFTER role_defaults() in vars_files
    (play `vars:` rank below `vars_files:`, so overrides must go here)."""
    path = tmp_path / name
    path.write_text(yaml.safe_dump(values, sort_keys=False))
    return str(path)


def role_tasks(role: str, name: str) -> str:
    return str(ROLES / role / "tasks" / name)


class PlaybookResult:
    def __init__(self, proc: subprocess.CompletedProcess):
        self.proc = proc
        self.rc = proc.returncode
        self.stderr = proc.stderr
        start = proc.stdout.find("{")
        try:
            self.data = json.loads(proc.stdout[start:]) if start >= 0 else {}
        except json.JSONDecodeError:
            self.data = {}
        self.stdout = proc.stdout

    @property
    def stats(self) -> dict:
        return self.data.get("stats", {}).get("localhost", {})

    @property
    def changed(self) -> int:
        return self.stats.get("changed", -1)

    @property
    def failed(self) -> int:
        return self.stats.get("failures", 0)

    def tasks(self) -> list[tuple[str, dict]]:
        out = []
        for play in self.data.get("plays", []):
            for task in play.get("tasks", []):
                result = task.get("hosts", {}).get("localhost")
                if result is not None:
                    out.append((task["task"]["name"], result))
        return out

    def result(self, name: str) -> dict:
        matches = [r for n, r in self.tasks() if n == name]
        assert matches, f"task {name!r} not in run: {[n for n, _ in self.tasks()]}"
        return matches[-1]

    def changed_tasks(self) -> list[str]:
        return [n for n, r in self.tasks() if r.get("changed")]

    def failure_messages(self) -> str:
        return "\n".join(str(r.get("msg", "")) for _, r in self.tasks() if r.get("failed"))

    def __repr__(self) -> str:
        return (
            f"<rc={self.rc} failures={self.failure_messages()!r} changed={self.changed_tasks()}"
            f" stderr={self.stderr[-3000:]}>"
        )


_counter = iter(range(1_000_000))


def run_playbook(workdir: Path, plays, extra_vars=None, check=False, diff=False, env=None) -> PlaybookResult:
    """Write plays to workdir and run them with ansible-playbook on localhost."""
    index = next(_counter)
    playbook = workdir / f"play{index}.yml"
    playbook.write_text(yaml.safe_dump(plays, sort_keys=False))
    extra = workdir / f"extra{index}.json"
    extra.write_text(json.dumps(extra_vars or {}))
    filters = os.pathsep.join(str(p) for p in sorted(ROLES.glob("*/filter_plugins")))
    environ = dict(os.environ)
    environ.update(
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        ANSIBLE_ROLES_PATH=str(ROLES),
        ANSIBLE_FILTER_PLUGINS=filters,
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_RETRY_FILES_ENABLED="false",
    )
    environ.update(env or {})
    cmd = [
        ansible_tool("ansible-playbook"),
        "-i",
        "localhost,",
        "-c",
        "local",
        "-e",
        f"ansible_python_interpreter={sys.executable}",
        "-e",
        f"@{extra}",
        str(playbook),
    ]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=environ, cwd=workdir, timeout=900)
    return PlaybookResult(proc)


@pytest.fixture
def run_play(tmp_path):
    """run_play(plays, extra_vars={}, check=False, diff=False) -> PlaybookResult."""

    def run(plays, extra_vars=None, check=False, diff=False, env=None):
        return run_playbook(tmp_path, plays, extra_vars=extra_vars, check=check, diff=diff, env=env)

    return run
