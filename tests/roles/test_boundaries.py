"""Roles talk to each other through public names only: no task file, defaults file or
filter reached by a path into another role, no `__pixie_<other role>_` private variable,
and the filters they share live in the pixie.appliance collection."""

from __future__ import annotations

import re

import yaml
from roles_support import COLLECTION, REPO, ROLES, default_values

ROLE_NAMES = sorted(p.name for p in ROLES.iterdir() if (p / "meta" / "main.yml").exists())
PRIVATE = re.compile(r"__(pixie_[a-z]+)_")


def _texts():
    for folder in (ROLES, REPO / "playbooks"):
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix in {".yml", ".yaml", ".j2", ".py"}:
                yield path, path.read_text()


def test_no_path_into_another_role():
    for path, text in _texts():
        assert "../../" not in text, f"{path.relative_to(REPO)} reaches into another role by path"
        assert "role_path }}/../" not in text, f"{path.relative_to(REPO)} reaches into another role by path"


def test_no_private_variable_of_another_role():
    for path, text in _texts():
        rel = path.relative_to(REPO)
        owner = rel.parts[1] if rel.parts[0] == "roles" else None
        for prefix in set(PRIVATE.findall(text)):
            if prefix in ROLE_NAMES:
                assert prefix == owner, f"{rel} uses __{prefix}_* private variables of another role"


def test_shared_filters_are_in_the_collection_only():
    assert sorted(p.name for p in (COLLECTION / "plugins" / "filter").glob("*.py")) == [
        "cmdline.py",
        "cpulist.py",
        "sdcard.py",
    ]
    # pixie_app's wheel digest is that role's own filter; no other role carries one
    assert sorted(p.parent.parent.name for p in ROLES.glob("*/filter_plugins/*.py")) == ["pixie_app"]
    galaxy = yaml.safe_load((COLLECTION / "galaxy.yml").read_text())
    assert (galaxy["namespace"], galaxy["name"]) == ("pixie", "appliance")
    cfg = (REPO / "ansible.cfg").read_text()
    paths = re.search(r"(?m)^collections_path\s*=\s*(.+)$", cfg).group(1).split(":")
    assert {"collections", ".cache/collections"} <= set(paths), paths


def test_argument_spec_descriptions_hold_no_jinja():
    """Ansible templates a role's whole argument spec as it validates it: a `{{topic}}` in a description
    failed molecule's converge ('topic' is undefined). Descriptions name placeholders without braces."""

    def descriptions(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "description":
                    yield from [value] if isinstance(value, str) else value
                else:
                    yield from descriptions(value)
        elif isinstance(node, list):
            for item in node:
                yield from descriptions(item)

    for role in ROLE_NAMES:
        specs = yaml.safe_load((ROLES / role / "meta" / "argument_specs.yml").read_text())
        templated = [text for text in descriptions(specs) if "{{" in text or "{%" in text]
        assert not templated, (role, templated)


def test_argument_specs_declare_every_default():
    """Each role's meta/argument_specs.yml main entry point documents exactly its defaults/main.yml;
    the other entry points (tasks_from) only take options main declares, or their own required inputs."""
    for role in ROLE_NAMES:
        defaults = default_values(role)
        specs = yaml.safe_load((ROLES / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
        main = specs["main"]["options"] or {}
        assert set(defaults) <= set(main), (role, sorted(set(defaults) - set(main)))
        undeclared = {k for k, o in main.items() if k not in defaults and not o.get("required")}
        assert not undeclared, (role, sorted(undeclared))
        for entry, spec in specs.items():
            for name, option in (spec.get("options") or {}).items():
                assert name in main or option.get("required"), (role, entry, name)
                assert (ROLES / role / "tasks" / f"{entry}.yml").exists(), (role, entry)
