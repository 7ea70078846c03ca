"""Make the filters of pixie_boot and pixie_common available to this role.

This role runs on the controller and cannot depend on those roles (their
dependency chain would install packages and create users on the controller),
so their filter plugins are loaded from their files here: there stays ONE
implementation of the cmdline editing (roles/pixie_boot/filter_plugins/
cmdline.py) and of CPU lists (roles/pixie_common/filter_plugins/cpulist.py).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

_ROLES = Path(__file__).resolve().parents[2]
_SOURCES = {
    "pixie_boot_cmdline": _ROLES / "pixie_boot" / "filter_plugins" / "cmdline.py",
    "pixie_common_cpulist": _ROLES / "pixie_common" / "filter_plugins" / "cpulist.py",
}


def _load(name, path):
    spec = importlib.util.spec_from_file_location(f"_pixie_sdcard_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.FilterModule().filters()


class FilterModule:
    """Ansible filter plugin entry point."""

    def filters(self):
        merged = {}
        for name, path in _SOURCES.items():
            merged.update(_load(name, path))
        return merged
