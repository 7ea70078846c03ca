"""playbooks/site.yml parses, targets `displays`, and runs the roles in order; image.yml runs the same."""

from __future__ import annotations

import os
import subprocess

import yaml
from roles_support import REPO, ansible_tool


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
        if role.startswith("pixie_") and role not in order:
            order.append(role)
    assert order == [
        "pixie_common",
        "pixie_network",
        "pixie_boot",
        "pixie_redis",
        "pixie_rgbmatrix",
        "pixie_app",
        "pixie_workers",
        "pixie_admin",
        "pixie_ssh",
        "pixie_firewall",
    ]


def test_image_yml_runs_the_roles_of_site_yml():
    """playbooks/image.yml bakes an image with site.yml's roles, in site.yml's order."""
    site = yaml.safe_load((REPO / "playbooks" / "site.yml").read_text())
    image = yaml.safe_load((REPO / "playbooks" / "image.yml").read_text())
    site_roles = [r["role"] if isinstance(r, dict) else r for play in site for r in play.get("roles", [])]
    in_image = next(play for play in image if play["hosts"] == "pixie_image")
    assert in_image["vars"]["__pixie_image_site_roles"] == site_roles
