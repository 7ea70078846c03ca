"""The VM's disk: where its boot partition is, and reading/writing that FAT with mtools (no mounts, no root)."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from ansible_collections.pixie.appliance.plugins.module_utils import partitions

from pivm import PivmError


def boot_partition_offset(disk: Path) -> int:
    """Byte offset of partition 1, which the Pi 3 firmware boots from: FAT, in an MBR (it reads no GPT)."""
    try:
        table = partitions.read(disk)
    except partitions.PartitionError as e:
        raise PivmError(str(e)) from e
    if table.label != "dos":
        raise PivmError(f"{disk}: {table.label} disks are not supported (the Pi images use MBR)")
    first = table.partitions[0] if table.partitions else None
    if first is None or first.number != 1 or not first.fat:
        raise PivmError(f"{disk}: partition 1 is not a FAT partition: {table.partitions}")
    return first.start


def _mtools_env() -> dict:
    return dict(os.environ, MTOOLS_SKIP_CHECK="1")


def fat_read(disk: Path, offset: int, name: str) -> bytes | None:
    r = subprocess.run(["mtype", "-i", f"{disk}@@{offset}", f"::{name}"], capture_output=True, env=_mtools_env())
    return r.stdout if r.returncode == 0 else None


def fat_copy_out(disk: Path, offset: int, name: str, dest: Path) -> bool:
    tmp = dest.with_name(dest.name + ".tmp")
    r = subprocess.run(
        ["mcopy", "-n", "-o", "-i", f"{disk}@@{offset}", f"::{name}", str(tmp)],
        capture_output=True,
        env=_mtools_env(),
    )
    if r.returncode != 0 or not tmp.exists():
        tmp.unlink(missing_ok=True)
        return False
    tmp.replace(dest)
    return True


def fat_write(disk: Path, offset: int, files: dict[str, bytes], directory: str = "") -> None:
    """Write files into the FAT (optionally into a sub-directory), no mounting."""
    img = f"{disk}@@{offset}"
    env = _mtools_env()
    if directory:
        subprocess.run(["mmd", "-D", "s", "-i", img, f"::{directory}"], capture_output=True, env=env)
    with tempfile.TemporaryDirectory(prefix="pivm-") as td:
        for name, data in files.items():
            src = Path(td) / name
            src.write_bytes(data)
            target = f"::{directory}/{name}" if directory else f"::{name}"
            subprocess.run(["mcopy", "-o", "-i", img, str(src), target], check=True, env=env)


def copy_sparse(src: Path, dst: Path) -> None:
    tmp = dst.with_name(dst.name + ".tmp")
    subprocess.run(["cp", "--sparse=always", "--reflink=auto", str(src), str(tmp)], check=True)
    tmp.replace(dst)
