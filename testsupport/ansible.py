"""REAL ansible-playbook runs on this machine, as localhost, for the role and the image tests.

The repo's ansible.cfg and the ansible.posix.json callback, so that a test asserts on each task's result.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

ENV = {
    "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
    "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
    "ANSIBLE_LOCALHOST_WARNING": "false",
    "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
    "ANSIBLE_NOCOLOR": "1",
    "ANSIBLE_RETRY_FILES_ENABLED": "false",
}


def ansible_tool(name: str) -> str:
    """Find an ansible CLI next to this Python first, then on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} not found: install the pinned Ansible tools (requirements-dev.txt)")
    return found


class PlaybookRun:
    """One ansible-playbook run: its exit code, output and JSON result."""

    def __init__(self, proc: subprocess.CompletedProcess):
        self.proc = proc
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        start = proc.stdout.find("{")
        try:
            self.data = json.loads(proc.stdout[start:]) if start >= 0 else {}
        except json.JSONDecodeError:
            self.data = {}

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
        """(task name, localhost's result) of each task run on localhost."""
        return [
            (task["task"]["name"], task["hosts"]["localhost"])
            for play in self.data.get("plays", [])
            for task in play.get("tasks", [])
            if "localhost" in task.get("hosts", {})
        ]

    def result(self, name: str) -> dict:
        matches = [r for n, r in self.tasks() if n == name]
        assert matches, f"task {name!r} not in run: {[n for n, _ in self.tasks()]}"
        return matches[-1]

    def changed_tasks(self) -> list[str]:
        return [n for n, r in self.tasks() if r.get("changed")]

    def failure(self) -> str:
        """The failed results' messages, of any host (image.yml's chroot host too), with stderr's tail."""
        return "\n".join(
            f"{r.get('msg', '')} {r.get('stderr', '')[-1500:]}".strip()
            for play in self.data.get("plays", [])
            for task in play.get("tasks", [])
            for r in task.get("hosts", {}).values()
            if r.get("failed")
        )

    def __repr__(self) -> str:
        return f"<rc={self.rc} failure={self.failure()!r} changed={self.changed_tasks()} stderr={self.stderr[-3000:]}>"


def new_file(folder: Path, name: str, text: str) -> Path:
    """A file of its own in `folder`, named after `name` (runs may share the folder)."""
    stem, suffix = os.path.splitext(name)
    fd, path = tempfile.mkstemp(prefix=f"{stem}-", suffix=suffix, dir=folder)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return Path(path)


def ansible_playbook(
    playbook: Path,
    workdir: Path,
    extra_vars: dict | None = None,
    *args: str,
    env: dict | None = None,
    cwd: Path | None = None,
    timeout: float = 900,
) -> PlaybookRun:
    """`playbook` against localhost with `extra_vars`, which are written to `workdir` (where it runs, unless `cwd`);
    `args` are more of ansible-playbook's options, `env` more of its environment."""
    workdir.mkdir(parents=True, exist_ok=True)
    extra = new_file(workdir, "extra.json", json.dumps(extra_vars or {}))
    # The controller's interpreter for localhost only: image.yml's chroot host brings its own.
    host = f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n"
    inventory = new_file(workdir, "inventory.ini", host)
    cmd = [ansible_tool("ansible-playbook"), "-i", str(inventory), "-e", f"@{extra}", str(playbook), *args]
    environ = {**os.environ, **ENV, **(env or {})}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=environ, cwd=cwd or workdir, timeout=timeout)
    return PlaybookRun(proc)
