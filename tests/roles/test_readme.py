"""The README's table of the variables a user sets agrees with the roles'
meta/argument_specs.yml (and, for the two fleet variables, with
inventory/group_vars/all/fleet.yml): every name exists, every default shown is
the default."""

from __future__ import annotations

import os

import yaml
from roles_support import REPO, ROLES

HEADER = "| variable | default | meaning |"


def table() -> list[tuple[list[str], list[str]]]:
    lines = (REPO / "README.md").read_text().splitlines()
    start = lines.index(HEADER) + 2
    rows = []
    for line in lines[start:]:
        if not line.startswith("| "):
            break
        names, defaults = (cell.strip() for cell in line.strip("|").split("|")[:2])
        rows.append((names.split(" / "), defaults.split(" / ")))
    return rows


def documented_defaults() -> dict:
    known = {}
    for spec in sorted(ROLES.glob("*/meta/argument_specs.yml")):
        options = yaml.safe_load(spec.read_text())["argument_specs"]["main"].get("options", {})
        known.update({name: option.get("default") for name, option in options.items()})
    known.update(yaml.safe_load((REPO / "inventory" / "group_vars" / "all" / "fleet.yml").read_text()))
    return known


def expand(names: list[str], known: dict) -> list[str]:
    """`pixie_app_panel_chain_length / _parallel`: a leading `_` names a sibling of the first variable."""
    first = names[0]
    full = [first]
    for short in names[1:]:
        if not short.startswith("_"):
            full.append(short)
            continue
        siblings = [k for k in known if k.endswith(short)]
        assert siblings, f"{short}: no such variable"
        full.append(max(siblings, key=lambda k: len(os.path.commonprefix([k, first]))))
    return full


def test_the_readme_variable_table_matches_the_argument_specs():
    known = documented_defaults()
    rows = table()
    assert len(rows) > 10
    for names, defaults in rows:
        names = expand(names, known)
        defaults = defaults * len(names) if len(defaults) == 1 else defaults
        assert len(defaults) == len(names), f"{names}: {len(names)} names, {len(defaults)} defaults"
        for name, shown in zip(names, defaults, strict=True):
            assert name in known, f"{name} is in the README but in no role's argument_specs"
            assert yaml.safe_load(shown) == known[name], f"{name}: README says {shown}, argument_specs {known[name]!r}"
