"""The one writer of the read-only root's data partition: an ext4 partition appended to a Pi
disk (image file or block device) with ``sfdisk --append`` and ``mke2fs -E offset=``, no loop
device, no mount. Users: the ``pixie.appliance.data_partition`` module (flash.yml, image.yml)
and the molecule VM harness (tools/pivm ``up --data-mib``), so the VM's partition is the card's."""

from __future__ import annotations

import os
import stat
import subprocess
from dataclasses import asdict

from ansible_collections.pixie.appliance.plugins.module_utils.partitions import PartitionError, Table, read

MIB = 1 << 20
MAX_LABEL = 16  # bytes of an ext4 volume name


class DataPartitionError(ValueError):
    """The partition cannot be added; the message says why and what to do."""


def _run(argv: list[str], data: str | None = None) -> str:
    proc = subprocess.run(argv, input=data, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise DataPartitionError(f"{' '.join(argv)} failed: {proc.stderr.strip()}")
    return proc.stdout


def disk_size(path: str) -> int:
    """Bytes of a file or a block device (seeking to the end works for both)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.lseek(fd, 0, os.SEEK_END)
    finally:
        os.close(fd)


def fs_probe(disk: str, start: int, size: int) -> dict:
    """blkid's view (TYPE, LABEL...) of the filesystem at start, {} when there is none."""
    argv = ["blkid", "--probe", "--offset", str(start), "--size", str(size), "--output", "export", disk]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode == 2:  # nothing found
        return {}
    if proc.returncode != 0:
        raise DataPartitionError(f"blkid could not probe {disk} at byte {start}: {proc.stderr.strip()}")
    return dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)


def place(disk: str, table: Table, size: int, at: str, total: int, grow: bool) -> tuple[int, int]:
    """(start, end) in bytes of the new partition, end exclusive; the end may pass total (grow)."""
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
    if start < first_free or (end > total and not grow):
        raise DataPartitionError(
            f"Not enough free space on {disk} for a {size // MIB} MiB data partition ({at}): its partitions "
            f"end at {last_end / MIB:.1f} MiB of {total / MIB:.1f} MiB. Was the root partition grown over "
            "the whole disk (a card booted once)? Write the image again."
        )
    return start, end


def ensure(
    disk: str, size_mib: int, label: str = "pixie-data", at: str = "end", grow_file: bool = False, check: bool = False
) -> tuple[bool, dict, int, list[str]]:
    """Add the partition unless it is there: (changed, partition, disk size, warnings).

    Already there: a partition whose filesystem has the label, or a 3rd one of the size (formatted
    now if an earlier run stopped between sfdisk and mke2fs). check: say what would be done."""
    size = size_mib * MIB
    if size_mib <= 0:
        raise DataPartitionError(f"size_mib must be a whole number of MiB above 0, got {size_mib}.")
    if not label or len(label.encode()) > MAX_LABEL:
        raise DataPartitionError(f"label must be 1-{MAX_LABEL} bytes (an ext4 volume name), got {label!r}.")
    if not os.path.exists(disk):
        raise DataPartitionError(f"{disk} (disk) does not exist.")
    try:
        table = read(disk)
    except PartitionError as e:
        raise DataPartitionError(str(e)) from e
    if table.label != "dos":
        raise DataPartitionError(
            f"{disk} has a {table.label or 'unknown'} partition table: the data partition is only added to "
            "MBR (dos) tables, the ones the Raspberry Pi 3 firmware boots from."
        )

    format_only = None
    for part in table.partitions:
        found = fs_probe(disk, part.start, part.size)
        if found.get("LABEL") == label:
            return False, asdict(part), disk_size(disk), []
        if part.number == 3 and part.size // MIB == size_mib:
            if found:
                warning = (
                    f"{disk}: partition 3 has the size but holds {found.get('TYPE', 'a filesystem')} "
                    f"labelled {found.get('LABEL', '')!r}, not {label!r}: left as it is."
                )
                return False, asdict(part), disk_size(disk), [warning]
            format_only = part

    total = disk_size(disk)
    if format_only:
        start, end = format_only.start, format_only.start + format_only.size
    else:
        if sum(1 for p in table.partitions if p.number <= 4) >= 4:
            raise DataPartitionError(
                f"No room for a data partition in the partition table of {disk}: all 4 primary "
                "partitions of its MBR are taken."
            )
        grow = grow_file and stat.S_ISREG(os.stat(disk).st_mode)  # never a block device
        start, end = place(disk, table, size, at, total, grow)
    if check:
        number = format_only.number if format_only else max((p.number for p in table.partitions), default=0) + 1
        return True, dict(number=number, start=start, size=end - start, type="83"), max(total, end), []

    if end > total:
        with open(disk, "r+b") as f:
            f.truncate(end)  # sparse
        total = end
    if format_only:
        made = format_only
    else:
        # In bytes (MiB), not sectors: no sector size to assume. No size: to the disk's last sector.
        script = f"start={start // MIB}MiB" + ("" if end == total else f", size={(end - start) // MIB}MiB")
        _run(["sfdisk", "--append", "--no-reread", "--no-tell-kernel", "--quiet", disk], data=script + ", type=83\n")
        made = next((p for p in read(disk).partitions if p.start == start), None)
        if made is None:
            raise DataPartitionError(f"sfdisk did not add the partition at byte {start} of {disk}")
        end = made.start + made.size
    # As molecule/shared/pi-disk.sh: straight into the disk at the offset; inode tables and
    # journal zeroed now, not by ext4lazyinit on the device.
    extended = f"offset={start},lazy_itable_init=0,lazy_journal_init=0"
    _run(["mke2fs", "-q", "-F", "-t", "ext4", "-L", label, "-E", extended, disk, f"{(end - start) // 1024}k"])
    return True, asdict(made), total, []
