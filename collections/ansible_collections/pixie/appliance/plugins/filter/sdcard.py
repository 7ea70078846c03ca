"""Filters of the pixie_sdcard role.

``sdcard_pick_image(sums, pattern, release)`` reads a ``SHA256SUMS``
text (``<sha256> *<name>`` or ``<sha256>  <name>`` lines) and returns
``{"name", "sha256", "version"}`` of the newest point release of
``release`` whose file name matches ``pattern`` (``{version}`` stands for
``24.04``, ``24.04.1``, ...), or ``{}`` when none matches.

``sdcard_sum_of(sums, name)`` returns the sha256 listed for ``name``
(``""`` when absent).

``fat_offset(sfdisk_json)`` returns ``{"start", "size",
"number"}`` in bytes for the first FAT partition of ``sfdisk --json``
output, or ``{}``; ``partitions(sfdisk_json)`` all of them, in order, as
``{"number", "start", "size", "type"}``.  Both read the table through
module_utils/partitions.py.
"""

from __future__ import annotations

import re
from dataclasses import asdict

from ansible_collections.pixie.appliance.plugins.module_utils.partitions import parse

_LINE = re.compile(r"^([0-9a-fA-F]{64})\s+\*?(\S+)\s*$")


def _entries(sums):
    for line in str(sums or "").splitlines():
        match = _LINE.match(line.strip())
        if match:
            yield match.group(1).lower(), match.group(2)


def sdcard_pick_image(sums, pattern, release):
    release = str(release)
    head, sep, tail = str(pattern).partition("{version}")
    if not sep:
        regex = re.compile(re.escape(head) + r"$")
    else:
        regex = re.compile(re.escape(head) + "(" + re.escape(release) + r"(?:\.\d+)*)" + re.escape(tail) + "$")
    best = None
    for sha, name in _entries(sums):
        match = regex.match(name)
        if not match:
            continue
        version = match.group(1) if sep else release
        rank = tuple(int(p) for p in version.split("."))
        if best is None or rank > best[0]:
            best = (rank, {"name": name, "sha256": sha, "version": version})
    return best[1] if best else {}


def sdcard_sum_of(sums, name):
    for sha, entry in _entries(sums):
        if entry == name:
            return sha
    return ""


def fat_offset(sfdisk_json):
    fat = parse(sfdisk_json).first_fat()
    return {"start": fat.start, "size": fat.size, "number": fat.number} if fat else {}


def partitions(sfdisk_json):
    return [asdict(p) for p in parse(sfdisk_json).partitions]


class FilterModule:
    """Ansible filter plugin entry point."""

    def filters(self):
        return {
            "sdcard_pick_image": sdcard_pick_image,
            "sdcard_sum_of": sdcard_sum_of,
            "fat_offset": fat_offset,
            "partitions": partitions,
        }
