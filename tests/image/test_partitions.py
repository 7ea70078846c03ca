"""module_utils/partitions.py, the one reader of partition tables, on tables sfdisk wrote."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from ansible_collections.pixie.appliance.plugins.module_utils import partitions
from image_support import REPO

from testsupport.tools import require

MODULE = "ansible_collections.pixie.appliance.plugins.module_utils.partitions"
# Ubuntu's raspi layout, small: FAT system-boot, then writable to the end of 16 MiB.
PI_LAYOUT = "label: dos\nunit: sectors\nstart=2048, size=8192, type=c, bootable\nstart=10240, type=83\n"


def sfdisk_image(path, script: str, mib: int = 16):
    require("sfdisk")
    with open(path, "wb") as f:
        f.truncate(mib << 20)
    subprocess.run(["sfdisk", "--quiet", str(path)], input=script, text=True, check=True)
    return path


def test_pi_layout_in_bytes(tmp_path):
    image = sfdisk_image(tmp_path / "pi.img", PI_LAYOUT)
    table = partitions.read(image)
    assert table.label == "dos"
    assert table.partitions == (
        partitions.Partition(number=1, start=2048 * 512, size=8192 * 512, type="c"),
        partitions.Partition(number=2, start=10240 * 512, size=(32768 - 10240) * 512, type="83"),
    )
    assert table.first_fat() == table.partitions[0]


def test_gpt_efi_partition_is_fat(tmp_path):
    image = sfdisk_image(tmp_path / "gpt.img", "label: gpt\nsize=4MiB, type=linux\nsize=4MiB, type=uefi\n")
    table = partitions.read(image)
    assert table.label == "gpt"
    assert [p.fat for p in table.partitions] == [False, True]
    assert table.first_fat().number == 2


def test_sector_size_is_applied():
    table = partitions.parse(
        '{"partitiontable": {"label": "dos", "sectorsize": 4096,'
        ' "partitions": [{"node": "sdb1", "start": 256, "size": 10, "type": "b"}]}}'
    )
    assert table.partitions[0].start == 256 * 4096 and table.partitions[0].size == 10 * 4096


def test_no_table_is_a_clear_error(tmp_path):
    blank = tmp_path / "blank.img"
    blank.write_bytes(bytes(1 << 20))
    with pytest.raises(partitions.PartitionError, match="blank.img: no partition table"):
        partitions.read(blank)
    with pytest.raises(partitions.PartitionError, match="no partition table"):
        partitions.read(tmp_path / "absent.img")
    with pytest.raises(partitions.PartitionError, match="not sfdisk --json output"):
        partitions.parse("{}")
    with pytest.raises(partitions.PartitionError, match="not sfdisk --json output"):
        partitions.parse("sfdisk: failed to dump partition table")


def test_command_line_for_the_shell_scripts(tmp_path):
    image = sfdisk_image(tmp_path / "pi.img", PI_LAYOUT)
    env = dict(os.environ, PYTHONPATH=str(REPO / "collections"))
    run = subprocess.run([sys.executable, "-m", MODULE, str(image)], capture_output=True, text=True, env=env)
    assert (run.returncode, run.stdout) == (0, f"{2048 * 512} {8192 * 512} {10240 * 512} {(32768 - 10240) * 512}\n")
    run = subprocess.run(
        [sys.executable, "-m", MODULE, str(tmp_path / "absent.img")], capture_output=True, text=True, env=env
    )
    assert run.returncode == 1 and "no partition table" in run.stderr
