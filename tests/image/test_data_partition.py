"""The pixie.appliance.data_partition module, run by ansible-playbook on sparse Pi disk images.

The disks are written by molecule/shared/pi-disk.sh (MBR, FAT32 system-boot, ext4 writable), then
grown like a card bigger than the image; the results are read back with sfdisk (the partitions reader)
and from the ext4 superblock, not from the module.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml
from image_support import REPO, ext4_label, partitions

from testsupport.ansible import ansible_playbook
from testsupport.tools import require

MIB = 1 << 20
BOOT_MIB, ROOT_MIB = 64, 16
IMAGE_MIB = 1 + BOOT_MIB + ROOT_MIB  # pi_disk's size: the partitions fill it
TASK = "Data partition"
ENV = os.environ | {"PATH": f"{os.environ['PATH']}:/usr/sbin:/sbin"}  # mkfs.vfat, blkid for a user


@pytest.fixture(scope="module")
def pi_image(tmp_path_factory) -> Path:
    """One Pi layout image, exactly as big as its partitions (as a fresh image file)."""
    require("sfdisk", "mkfs.vfat", "mke2fs", "mcopy", "blkid")
    tmp = tmp_path_factory.mktemp("pi-disk")
    (tmp / "rootfs" / "etc").mkdir(parents=True)
    (tmp / "rootfs" / "etc" / "hostname").write_text("ubuntu\n")
    boot = REPO / "molecule" / "shared" / "image" / "boot"
    script = '. "$repo/molecule/shared/pi-disk.sh"; PI_DISK_VFAT_OPTS="-s 1" pi_disk "$@"'
    args = [str(tmp / "pi.img"), str(BOOT_MIB), str(ROOT_MIB), str(tmp / "rootfs"), str(boot / "cmdline.txt")]
    subprocess.run(["bash", "-c", script, "pi_disk", *args], check=True, env=ENV | {"repo": str(REPO)})
    return tmp / "pi.img"


def disk(pi_image: Path, tmp: Path, mib: int = IMAGE_MIB) -> Path:
    """A sparse copy of the image, grown to `mib` (a card bigger than the image)."""
    copy = tmp / "card.img"
    subprocess.run(["cp", "--sparse=always", str(pi_image), str(copy)], check=True)
    with open(copy, "r+b") as f:
        f.truncate(mib * MIB)
    return copy


def run_module(tmp: Path, *args: str, **params) -> dict:
    """The module's result, from one ansible-playbook run on localhost (the repo's ansible.cfg finds it)."""
    playbook = tmp / "data-partition.yml"
    play = {"name": "Data partition", "hosts": "localhost", "gather_facts": False}
    play["tasks"] = [{"name": TASK, "pixie.appliance.data_partition": params}]
    playbook.write_text(yaml.safe_dump([play]))
    run = ansible_playbook(playbook, tmp / "runs", {}, *args, cwd=REPO)
    assert run.data, run
    return run.result(TASK)


def snapshot(image: Path) -> tuple:
    return image.stat().st_size, partitions(image), _sha(image)


def _sha(image: Path) -> str:
    return subprocess.run(["sha256sum", str(image)], capture_output=True, text=True, check=True).stdout.split()[0]


def test_at_end_leaves_room_for_growpart_and_is_idempotent(pi_image, tmp_path):
    card = disk(pi_image, tmp_path, mib=200)
    before = partitions(card)
    result = run_module(tmp_path, disk=str(card), size_mib=32)
    assert result["changed"] is True, result
    parts = partitions(card)
    assert parts[:2] == before  # boot and root untouched
    assert [p["number"] for p in parts] == [1, 2, 3]
    data = parts[2]
    assert data["type"] == "83"
    assert data["size"] == 32 * MIB
    assert data["start"] + data["size"] == card.stat().st_size == 200 * MIB  # the card's last 32 MiB
    assert data["start"] > parts[1]["start"] + parts[1]["size"]  # free space for the root to grow into
    assert ext4_label(card, data["start"]) == "pixie-data"
    assert ext4_label(card, parts[1]["start"]) == "writable"
    assert result["partition"] == data
    # what udev's /dev/disk/by-label/ is made from
    probe = subprocess.run(
        ["blkid", "-p", "-O", str(data["start"]), "-o", "export", str(card)], capture_output=True, text=True, env=ENV
    ).stdout.splitlines()
    assert "LABEL=pixie-data" in probe and "TYPE=ext4" in probe, probe

    state = snapshot(card)
    again = run_module(tmp_path, disk=str(card), size_mib=32)
    assert again["changed"] is False and again["partition"] == data, again
    assert snapshot(card) == state


def test_after_root_with_own_label(pi_image, tmp_path):
    card = disk(pi_image, tmp_path, mib=200)
    result = run_module(tmp_path, disk=str(card), size_mib=24, at="after_root", label="pixie-test")
    assert result["changed"] is True, result
    boot, root, data = partitions(card)
    assert data["start"] == root["start"] + root["size"] == IMAGE_MIB * MIB
    assert data["size"] == 24 * MIB
    assert ext4_label(card, data["start"]) == "pixie-test"
    # found again by its label although the size asked for changed
    again = run_module(tmp_path, disk=str(card), size_mib=48, at="after_root", label="pixie-test")
    assert again["changed"] is False and again["partition"] == data, again
    assert len(partitions(card)) == 3


def test_check_mode_changes_nothing(pi_image, tmp_path):
    card = disk(pi_image, tmp_path)  # a full image: check mode would grow it
    state = snapshot(card)
    result = run_module(tmp_path, "--check", disk=str(card), size_mib=32, grow_file=True)
    assert result["changed"] is True, result
    assert result["partition"]["start"] == IMAGE_MIB * MIB and result["disk_size"] == (IMAGE_MIB + 32) * MIB
    assert snapshot(card) == state


def test_full_disk_fails_unless_a_file_may_grow(pi_image, tmp_path):
    card = disk(pi_image, tmp_path)  # the root partition reaches the end
    state = snapshot(card)
    failed = run_module(tmp_path, disk=str(card), size_mib=32)
    assert failed.get("failed"), failed
    assert "Not enough free space" in failed["msg"] and "32 MiB" in failed["msg"], failed["msg"]
    assert snapshot(card) == state

    grown = run_module(tmp_path, disk=str(card), size_mib=32, grow_file=True)
    assert grown["changed"] is True, grown
    assert card.stat().st_size == (IMAGE_MIB + 32) * MIB
    data = partitions(card)[2]
    assert (data["start"], data["size"]) == (IMAGE_MIB * MIB, 32 * MIB)
    assert ext4_label(card, data["start"]) == "pixie-data"


def test_interrupted_run_formats_the_third_partition(pi_image, tmp_path):
    """sfdisk done, mke2fs not: the partition of that size is formatted, not added again."""
    card = disk(pi_image, tmp_path, mib=200)
    subprocess.run(["sfdisk", "--append", "--quiet", str(card)], input="start=168MiB, type=83\n", text=True, check=True)
    table = partitions(card)
    result = run_module(tmp_path, disk=str(card), size_mib=32)
    assert result["changed"] is True, result
    assert partitions(card) == table
    assert ext4_label(card, table[2]["start"]) == "pixie-data"


def test_gpt_disk_fails(tmp_path):
    card = tmp_path / "gpt.img"
    with open(card, "wb") as f:
        f.truncate(100 * MIB)
    subprocess.run(["sfdisk", "--quiet", str(card)], input="label: gpt\nsize=8MiB\n", text=True, check=True)
    state = snapshot(card)
    failed = run_module(tmp_path, disk=str(card), size_mib=16)
    assert failed.get("failed") and "gpt partition table" in failed["msg"] and "MBR (dos)" in failed["msg"], failed
    assert snapshot(card) == state


def test_four_primaries_fail(tmp_path):
    card = tmp_path / "four.img"
    with open(card, "wb") as f:
        f.truncate(100 * MIB)
    four = "label: dos\n" + "".join(f"start={1 + 4 * i}MiB, size=4MiB, type=83\n" for i in range(4))
    subprocess.run(["sfdisk", "--quiet", str(card)], input=four, text=True, check=True)
    state = snapshot(card)
    failed = run_module(tmp_path, disk=str(card), size_mib=16)
    assert failed.get("failed") and "all 4 primary partitions" in failed["msg"], failed
    assert snapshot(card) == state


@pytest.mark.parametrize(("params", "field"), [({"size_mib": 0}, "size_mib"), ({"label": "x" * 17}, "label")])
def test_bad_input_names_the_field(pi_image, tmp_path, params, field):
    card = disk(pi_image, tmp_path, mib=200)
    failed = run_module(tmp_path, **({"disk": str(card), "size_mib": 32} | params))
    assert failed.get("failed") and failed["msg"].startswith(field), failed
    assert len(partitions(card)) == 2
