"""playbooks/site.yml parses, targets `displays`, and runs the roles in order; image.yml runs the same.

The list of roles is roles/pixie_site/meta/main.yml (read by site_roles()), nowhere else."""

from __future__ import annotations

import os
import subprocess

import yaml
from roles_support import REPO, site_roles

from testsupport.ansible import ansible_tool


def _run(*args):
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    return subprocess.run(
        [ansible_tool("ansible-playbook"), *args], capture_output=True, text=True, cwd=REPO, env=env, timeout=300
    )


def test_syntax_check():
    proc = _run("playbooks/site.yml", "--syntax-check")
    assert proc.returncode == 0, proc.stderr


def test_roles_run_in_dependency_order_on_displays():
    proc = _run("playbooks/site.yml", "--list-tasks")
    assert proc.returncode == 0, proc.stderr
    assert "hosts (1)" in _run("playbooks/site.yml", "--list-hosts").stdout
    order = []
    for line in proc.stdout.splitlines():
        role = line.strip().split(" : ")[0]
        # pixie_site's one task validates its (empty) argument spec
        if role.startswith("pixie_") and role != "pixie_site" and role not in order:
            order.append(role)
    assert order == site_roles()


def _tasks(items):
    for task in items or []:
        yield task
        for key in ("block", "rescue", "always"):
            yield from _tasks(task.get(key))


def test_site_and_image_apply_the_one_role_list():
    """Both playbooks apply pixie_site (whose dependencies are the list) and name no role of it themselves."""
    site = yaml.safe_load((REPO / "playbooks" / "site.yml").read_text())
    image = yaml.safe_load((REPO / "playbooks" / "image.yml").read_text())
    site_play_roles = [r["role"] if isinstance(r, dict) else r for play in site for r in play.get("roles", [])]
    assert site_play_roles == ["pixie_site"]
    in_image = next(play for play in image if play["hosts"] == "pixie_image")
    included = [
        task["ansible.builtin.include_role"]["name"]
        for task in _tasks(in_image["tasks"])
        if "ansible.builtin.include_role" in task
    ]
    assert included == ["pixie_site"]
    text = (REPO / "playbooks" / "image.yml").read_text() + (REPO / "playbooks" / "site.yml").read_text()
    for role in site_roles():
        assert f"- {role}\n" not in text and f"role: {role}\n" not in text, f"{role} listed outside pixie_site"
