"""The one reader of disk partition tables: ``sfdisk --json`` output, in bytes.

Its input is always sfdisk's JSON (MBR or GPT): the roles get it from a
``command`` task on whichever host holds the card, the Python callers from
``read(image)``.  Users: the pixie.appliance filters (``fat_offset``,
``partitions``), the molecule VM harness (tools/pivm) and the image build
scripts, which run

    python3 -m ansible_collections.pixie.appliance.plugins.module_utils.partitions IMAGE

(``collections/`` on PYTHONPATH) for ``<start> <size>`` in bytes of each
partition, all on one line.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass

# MBR type bytes and GPT type GUIDs of FAT partitions (FAT12/16/32, LBA, EFI system).
_FAT_MBR_TYPES = {0x01, 0x04, 0x06, 0x0B, 0x0C, 0x0E, 0xEF}
_FAT_GUIDS = {"ebd0a0a2-b9e5-4433-87c0-68b6b72699c7", "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"}


class PartitionError(ValueError):
    """No readable partition table."""


@dataclass(frozen=True)
class Partition:
    number: int  # as in the device node: sda1, mmcblk0p2, disk.img1
    start: int  # bytes
    size: int  # bytes
    type: str  # sfdisk's: MBR type in hex ("c", "83") or a GPT type GUID, lower case

    @property
    def fat(self) -> bool:
        if "-" in self.type:
            return self.type in _FAT_GUIDS
        return int(self.type, 16) in _FAT_MBR_TYPES


@dataclass(frozen=True)
class Table:
    label: str  # "dos" (MBR) or "gpt"
    partitions: tuple[Partition, ...]

    def first_fat(self) -> Partition | None:
        return next((p for p in self.partitions if p.fat), None)


def parse(sfdisk_json) -> Table:
    """``sfdisk --json`` output (text, or already decoded) as a Table."""
    try:
        data = json.loads(sfdisk_json) if isinstance(sfdisk_json, (str, bytes)) else sfdisk_json
        table = data["partitiontable"]
        sector = int(table.get("sectorsize", 512))
        parts = tuple(
            Partition(
                number=int(re.search(r"(\d+)$", p["node"]).group(1)),
                start=int(p["start"]) * sector,
                size=int(p["size"]) * sector,
                type=str(p["type"]).lower(),
            )
            for p in table.get("partitions", [])
        )
    except (KeyError, TypeError, AttributeError, ValueError) as e:
        raise PartitionError(f"not sfdisk --json output: {e!r}") from e
    return Table(label=table.get("label", ""), partitions=parts)


def read(image) -> Table:
    """The partition table of an image file or block device (sfdisk; no root needed for a file)."""
    proc = subprocess.run(["sfdisk", "--json", str(image)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise PartitionError(f"{image}: no partition table ({proc.stderr.strip()})")
    return parse(proc.stdout)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(f"usage: python3 -m {__spec__.name} IMAGE", file=sys.stderr)
        return 2
    try:
        table = read(argv[0])
    except PartitionError as e:
        print(e, file=sys.stderr)
        return 1
    print(" ".join(f"{p.start} {p.size}" for p in table.partitions))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
