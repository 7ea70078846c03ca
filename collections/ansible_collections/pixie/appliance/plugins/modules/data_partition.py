#!/usr/bin/python
"""Append a small ext4 data partition to a Pi disk (image file or block device), without mounting."""

from __future__ import annotations

DOCUMENTATION = r"""
module: data_partition
short_description: Append an ext4 data partition to a Raspberry Pi disk or image file
description:
  - Adds one primary partition (MBR type 83) to the disk's table with C(sfdisk --append) and makes an
    ext4 filesystem with the given label in it with C(mke2fs -E offset=...), with no loop device, no mount,
    no root needed for an image file.
  - For the durable data of a read-only root (pixie_storage_readonly_root), found by its label.
  - Idempotent, by the partition's filesystem label, or a third partition of the size.
  - MBR (dos) tables only, the ones the Raspberry Pi 3 firmware boots from.
options:
  disk:
    description: Image file or whole block device holding an MBR partition table.
    type: path
    required: true
  size_mib:
    description: Size of the partition in MiB (at=end, on a disk that is not a whole number of MiB, up to 1 MiB more).
    type: int
    required: true
  label:
    description: ext4 filesystem label (at most 16 bytes).
    type: str
    default: pixie-data
  at:
    description:
      - C(end) the last I(size_mib) MiB of the disk, so that cloud-init's growpart can still grow the root
        partition up to it on the first boot.
      - C(after_root) right after the last partition (1 MiB aligned).
    type: str
    choices: [end, after_root]
    default: end
  grow_file:
    description:
      - When I(disk) is a regular file without the free space the partition needs, extend it (sparse) first.
        Never applies to block devices.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Add the data partition at the end of the card
  pixie.appliance.data_partition:
    disk: /dev/sdb
    size_mib: 64
"""

RETURN = r"""
partition:
  description: The data partition (number, start and size in bytes, MBR type); in check mode, what it would be.
  returned: success
  type: dict
disk_size:
  description: Size of the disk in bytes (after grow_file).
  returned: success
  type: int
"""

import os  # noqa: E402
import stat  # noqa: E402
from dataclasses import asdict  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.pixie.appliance.plugins.module_utils.partitions import PartitionError, parse  # noqa: E402

MIB = 1 << 20
MAX_LABEL = 16  # bytes of an ext4 volume name


def disk_size(path: str) -> int:
    """Bytes of a file or a block device (seeking to the end works for both)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.lseek(fd, 0, os.SEEK_END)
    finally:
        os.close(fd)


def fs_probe(module, disk: str, start: int, size: int) -> dict:
    """blkid's view (TYPE, LABEL...) of the filesystem at start, {} when there is none."""
    rc, out, err = module.run_command(
        ["blkid", "--probe", "--offset", str(start), "--size", str(size), "--output", "export", disk]
    )
    if rc == 2:  # nothing found
        return {}
    if rc != 0:
        module.fail_json(msg=f"blkid could not probe {disk} at byte {start}: {err.strip()}")
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def place(module, table, size: int, at: str, total: int, grow: bool) -> tuple[int, int]:
    """(start, end) in bytes of the new partition, end exclusive; total may grow (grow_file)."""
    disk = module.params["disk"]
    last_end = max((p.start + p.size for p in table.partitions), default=MIB)
    first_free = -(-last_end // MIB) * MIB  # 1 MiB aligned, as sfdisk and the Pi images do
    if at == "after_root":
        start = first_free
        end = start + size
    else:
        end = total
        start = (total - size) // MIB * MIB  # the last size_mib MiB, start aligned down
        if start < first_free and grow:
            start, end = first_free, first_free + size
    if end > total and grow:
        total = end
    if start < first_free or end > total:
        module.fail_json(
            msg=(
                f"Not enough free space on {disk} for a {size // MIB} MiB data partition ({at}): its partitions "
                f"end at {last_end / MIB:.1f} MiB of {total / MIB:.1f} MiB. Was the root partition grown over "
                "the whole disk (a card booted once)? Write the image again."
            ),
            disk_size=total,
        )
    return start, end


def main():
    module = AnsibleModule(
        argument_spec=dict(
            disk=dict(type="path", required=True),
            size_mib=dict(type="int", required=True),
            label=dict(type="str", default="pixie-data"),
            at=dict(type="str", choices=["end", "after_root"], default="end"),
            grow_file=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    disk, label = module.params["disk"], module.params["label"]
    size = module.params["size_mib"] * MIB
    if module.params["size_mib"] <= 0:
        module.fail_json(msg=f"size_mib must be a whole number of MiB above 0, got {module.params['size_mib']}.")
    if not label or len(label.encode()) > MAX_LABEL:
        module.fail_json(msg=f"label must be 1-{MAX_LABEL} bytes (an ext4 volume name), got {label!r}.")
    if not os.path.exists(disk):
        module.fail_json(msg=f"{disk} (disk) does not exist.")
    is_file = stat.S_ISREG(os.stat(disk).st_mode)

    rc, out, err = module.run_command(["sfdisk", "--json", disk])
    if rc != 0:
        module.fail_json(msg=f"{disk} has no partition table: {err.strip()}")
    try:
        table = parse(out)
    except PartitionError as e:
        module.fail_json(msg=f"{disk}: {e}")
    if table.label != "dos":
        module.fail_json(
            msg=(
                f"{disk} has a {table.label or 'unknown'} partition table: the data partition is only added to "
                "MBR (dos) tables, the ones the Raspberry Pi 3 firmware boots from."
            )
        )

    # Already there: a partition whose filesystem has the label, or a 3rd one of the size
    # (formatted now if an earlier run stopped between sfdisk and mke2fs).
    format_only = None
    for part in table.partitions:
        found = fs_probe(module, disk, part.start, part.size)
        if found.get("LABEL") == label:
            module.exit_json(changed=False, partition=asdict(part), disk_size=disk_size(disk))
        if part.number == 3 and part.size // MIB == size // MIB:
            if found:
                module.warn(
                    f"{disk}: partition 3 has the size but holds {found.get('TYPE', 'a filesystem')} "
                    f"labelled {found.get('LABEL', '')!r}, not {label!r}: left as it is."
                )
                module.exit_json(changed=False, partition=asdict(part), disk_size=disk_size(disk))
            format_only = part

    total = disk_size(disk)
    if format_only:
        start, end = format_only.start, format_only.start + format_only.size
    else:
        if sum(1 for p in table.partitions if p.number <= 4) >= 4:
            module.fail_json(
                msg=f"No room for a data partition in the partition table of {disk}: all 4 primary "
                "partitions of its MBR are taken."
            )
        grow = module.params["grow_file"] and is_file
        start, end = place(module, table, size, module.params["at"], total, grow)
    if module.check_mode:
        number = format_only.number if format_only else max((p.number for p in table.partitions), default=0) + 1
        part = dict(number=number, start=start, size=end - start, type="83")
        module.exit_json(changed=True, partition=part, disk_size=max(total, end))

    if end > total:
        with open(disk, "r+b") as f:
            f.truncate(end)  # sparse
        total = end
    if not format_only:
        # In bytes (MiB), not sectors: no sector size to assume. No size: to the disk's last sector.
        script = (
            f"start={start // MIB}MiB" + ("" if end == total else f", size={(end - start) // MIB}MiB") + ", type=83\n"
        )
        module.run_command(
            ["sfdisk", "--append", "--no-reread", "--no-tell-kernel", "--quiet", disk], data=script, check_rc=True
        )
        rc, out, err = module.run_command(["sfdisk", "--json", disk], check_rc=True)
        made = next((p for p in parse(out).partitions if p.start == start), None)
        if made is None:
            module.fail_json(msg=f"sfdisk did not add the partition at byte {start} of {disk}: {out}")
        end = made.start + made.size
    else:
        made = format_only
    # As molecule/shared/pi-disk.sh: straight into the disk at the offset; inode tables and
    # journal zeroed now, not by ext4lazyinit on the device.
    extended = f"offset={start},lazy_itable_init=0,lazy_journal_init=0"
    size_k = f"{(end - start) // 1024}k"
    module.run_command(["mke2fs", "-q", "-F", "-t", "ext4", "-L", label, "-E", extended, disk, size_k], check_rc=True)
    module.exit_json(changed=True, partition=asdict(made), disk_size=total)


if __name__ == "__main__":
    main()
