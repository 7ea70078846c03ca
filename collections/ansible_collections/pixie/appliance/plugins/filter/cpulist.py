"""Filters for Linux/systemd CPU lists ("0-2", "0,1,2", "0 2-3").

``"0-2,5" | cpulist`` returns ``[0, 1, 2, 5]``; an invalid list returns
``[]`` so that an ``ansible.builtin.assert`` can name the bad variable.
``[0, 1, 2] | cpulist_format`` returns ``"0-2"``.
"""

from __future__ import annotations

import re

_RANGE = re.compile(r"^(\d+)(?:-(\d+))?$")


def cpulist(value):
    """Expand a CPU list string (or int, or list of ints) into sorted ints."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [value] if value >= 0 else []
    if isinstance(value, (list, tuple)):
        try:
            cpus = sorted({int(v) for v in value})
        except (TypeError, ValueError):
            return []
        return cpus if cpus and cpus[0] >= 0 else []
    text = str(value).strip()
    if not text:
        return []
    cpus = set()
    for part in re.split(r"[,\s]+", text):
        match = _RANGE.match(part)
        if not match:
            return []
        low = int(match.group(1))
        high = int(match.group(2)) if match.group(2) is not None else low
        if high < low:
            return []
        cpus.update(range(low, high + 1))
    return sorted(cpus)


def cpulist_format(value, sep=","):
    """Compress CPUs into ranges: [0, 1, 2, 5] -> "0-2,5"."""
    cpus = cpulist(value)
    parts = []
    start = prev = None
    for cpu in cpus:
        if start is None:
            start = prev = cpu
        elif cpu == prev + 1:
            prev = cpu
        else:
            parts.append(f"{start}-{prev}" if prev != start else str(start))
            start = prev = cpu
    if start is not None:
        parts.append(f"{start}-{prev}" if prev != start else str(start))
    return sep.join(parts)


class FilterModule:
    """Ansible filter plugin entry point."""

    def filters(self):
        return {
            "cpulist": cpulist,
            "cpulist_format": cpulist_format,
        }
