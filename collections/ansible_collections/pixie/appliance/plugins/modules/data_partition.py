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

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.pixie.appliance.plugins.module_utils.data_partition import (  # noqa: E402
    DataPartitionError,
    ensure,
)


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
    p = module.params
    try:
        changed, partition, size, warnings = ensure(
            p["disk"], p["size_mib"], p["label"], p["at"], p["grow_file"], check=module.check_mode
        )
    except DataPartitionError as e:
        module.fail_json(msg=str(e))
    for warning in warnings:
        module.warn(warning)
    module.exit_json(changed=changed, partition=partition, disk_size=size)


if __name__ == "__main__":
    main()
