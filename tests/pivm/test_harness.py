"""Fast tests of the molecule VM harness's pure logic (no QEMU, no root).

Run: pytest tests/pivm   (needs sfdisk, and mtools + dosfstools for the FAT test)
"""

from __future__ import annotations

import json
import struct
import subprocess
from pathlib import Path

import pytest
import yaml
from ansible_collections.pixie.appliance.plugins.module_utils.partitions import Partition, read

from pivm import PivmError, hostenv
from pivm.disk import boot_partition_offset, fat_read, fat_write
from pivm.firmware import kernel_cmdline, parse_config_txt, read_firmware
from pivm.qemu import qemu_command
from pivm.state import VmState
from pivm.vm import nocloud_seed
from testsupport.tools import require

needs_sfdisk = pytest.mark.usefixtures("sfdisk")


@pytest.fixture
def sfdisk():
    require("sfdisk")


@pytest.fixture
def fat_tools():
    require("mkfs.vfat", "mcopy")


REPO = Path(__file__).resolve().parents[2]
UBUNTU_CMDLINE = (
    "console=serial0,115200 multipath=off dwc_otg.lpm_enable=0 console=tty1 "
    "root=LABEL=writable rootfstype=ext4 rootwait fixrtc\n"
)


def test_cmdline_serial0_becomes_the_vm_uart_last():
    x86 = kernel_cmdline(UBUNTU_CMDLINE, "amd64").split()
    arm = kernel_cmdline(UBUNTU_CMDLINE, "arm64").split()
    assert x86[-1] == "console=ttyS0,115200"
    assert arm[-1] == "console=ttyAMA0,115200"
    for toks in (x86, arm):
        assert not any(t.startswith("console=serial0") for t in toks)
        assert "root=LABEL=writable" in toks
        assert "console=tty1" in toks


def test_cmdline_only_first_line_counts_like_the_pi_firmware():
    text = UBUNTU_CMDLINE.strip() + " isolcpus=domain,managed_irq,3\nisolcpus=1\n"
    toks = kernel_cmdline(text, "amd64").split()
    assert "isolcpus=domain,managed_irq,3" in toks
    assert "isolcpus=1" not in toks


def test_config_txt_pi3_and_all_sections_only():
    cfg = parse_config_txt(
        "[all]\nkernel=vmlinuz\ncmdline=cmdline.txt\ninitramfs initrd.img followkernel\n"
        "[pi4]\nkernel=other\n[pi3]\ncmdline=pi3.txt # comment\n[all]\ndtparam=audio=on\n"
    )
    assert cfg == {"kernel": "vmlinuz", "cmdline": "pi3.txt", "initramfs": "initrd.img", "gpu_mem_mb": 76, "cma_mb": 0}


def test_a_pi4_reads_its_own_section_and_ignores_gpu_mem_1024_with_2_gb():
    text = "[pi3]\ncmdline=pi3.txt\n[pi4]\ncmdline=pi4.txt\n[all]\ngpu_mem=32\ngpu_mem_1024=128\n"
    assert parse_config_txt(text, "pi4", 2048).items() >= {"cmdline": "pi4.txt", "gpu_mem_mb": 32}.items()
    assert parse_config_txt(text, "pi3", 1024).items() >= {"cmdline": "pi3.txt", "gpu_mem_mb": 128}.items()


def test_the_gpu_and_the_kms_overlay_take_ram_as_on_a_pi3():
    ubuntu = (REPO / "molecule" / "shared" / "image" / "boot" / "config.txt").read_text()
    # Ubuntu's [all] dtoverlay=vc4-kms-v3d (256 MB CMA; its cma-128 is under [pi3+], not a Pi 3 B's)
    assert parse_config_txt(ubuntu).items() >= {"gpu_mem_mb": 76, "cma_mb": 256}.items()
    tuned = ubuntu.replace("dtoverlay=vc4-kms-v3d\n", "#dtoverlay=vc4-kms-v3d\n") + "[all]\ngpu_mem=16\n"
    assert parse_config_txt(tuned).items() >= {"gpu_mem_mb": 16, "cma_mb": 0}.items()
    assert parse_config_txt("[all]\ndtoverlay=vc4-kms-v3d,cma-64\n")["cma_mb"] == 64


def test_the_memory_cgroup_is_off_unless_the_cmdline_enables_it_as_on_a_pi_kernel():
    assert kernel_cmdline(UBUNTU_CMDLINE, "amd64").split()[0] == "cgroup_disable=memory"
    enabled = kernel_cmdline(UBUNTU_CMDLINE.strip() + " cgroup_enable=memory\n", "amd64").split()
    assert "cgroup_disable=memory" not in enabled and "cgroup_enable=memory" in enabled


def _mbr(entries):
    mbr = bytearray(512)
    for i, (ptype, start, sectors) in enumerate(entries):
        off = 446 + 16 * i
        mbr[off + 4] = ptype
        struct.pack_into("<II", mbr, off + 8, start, sectors)
    mbr[510:512] = b"\x55\xaa"
    return bytes(mbr)


@needs_sfdisk
def test_mbr_offsets_are_read_from_the_table(tmp_path):
    disk = tmp_path / "d.img"
    disk.write_bytes(_mbr([(0x0C, 8192, 1000), (0x83, 9192, 5000)]))
    parts = read(disk).partitions
    assert parts[0] == Partition(number=1, start=8192 * 512, size=1000 * 512, type="c")
    assert boot_partition_offset(disk) == 8192 * 512


@needs_sfdisk
def test_mbr_rejects_non_fat_first_partition(tmp_path):
    disk = tmp_path / "d.img"
    disk.write_bytes(_mbr([(0x83, 2048, 1000)]))
    with pytest.raises(PivmError, match="partition 1 is not a FAT partition"):
        boot_partition_offset(disk)


@needs_sfdisk
@pytest.mark.usefixtures("fat_tools")
def test_firmware_read_and_seed_write_through_mtools(tmp_path):
    disk = tmp_path / "disk.img"
    start = 2048
    with open(disk, "wb") as f:
        f.write(_mbr([(0x0C, start, 65536)]))
        f.truncate((start + 65536) * 512)
    subprocess.run(
        ["mkfs.vfat", "-n", "system-boot", f"--offset={start}", str(disk), str(65536 // 2)],
        check=True,
        capture_output=True,
    )
    off = boot_partition_offset(disk)
    fat_write(
        disk,
        off,
        {
            "cmdline.txt": (UBUNTU_CMDLINE.strip() + " isolcpus=3\n").encode(),
            "config.txt": b"[all]\nkernel=vmlinuz\ninitramfs initrd.img followkernel\n",
            "vmlinuz": b"K" * 100,
            "initrd.img": b"I" * 50,
        },
    )
    fat_write(disk, off, nocloud_seed("vm-1", "pixie-x86", "ubuntu", "ssh-ed25519 AAAA test"))
    fw = read_firmware(disk, "amd64", tmp_path / "boot")
    assert "isolcpus=3" in fw["append"].split()
    assert (tmp_path / "boot" / "vmlinuz").read_bytes() == b"K" * 100
    assert fw["initramfs_bytes"] == 50
    # cloud-init's NoCloud seed at the root of the filesystem labelled system-boot
    user_data = fat_read(disk, off, "user-data").decode()
    assert user_data.startswith("#cloud-config\n")
    (account,) = yaml.safe_load(user_data)["users"]
    assert account["name"] == "ubuntu" and account["ssh_authorized_keys"] == ["ssh-ed25519 AAAA test"]
    meta = yaml.safe_load(fat_read(disk, off, "meta-data"))
    assert meta == {"instance-id": "vm-1", "local-hostname": "pixie-x86"}


def test_guest_urls_loopback_to_slirp_host_and_local_indexes_dropped():
    assert hostenv.to_guest_url("http://127.0.0.1:3128") == "http://10.0.2.2:3128"
    assert hostenv.to_guest_url("http://user:pw@localhost:8080/x") == "http://user:pw@10.0.2.2:8080/x"
    assert hostenv.to_guest_url("https://mirror.example/simple") == "https://mirror.example/simple"
    assert hostenv.to_guest_url("file:///opt/pypi/simple") is None
    assert hostenv.to_guest_url("/opt/wheels") is None
    assert hostenv.to_guest_host("127.0.0.1:8080") == "10.0.2.2:8080"


def test_extra_cas_are_the_ones_the_guest_lacks(tmp_path, monkeypatch):
    def pem(body):
        return f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n"

    controller = tmp_path / "controller.pem"
    controller.write_text(pem("AAAA") + pem("BBBB") + pem("CCCC"))
    guest = tmp_path / "guest.pem"
    guest.write_text(pem("AAAA") + pem("CCCC"))
    monkeypatch.setenv("SSL_CERT_FILE", str(controller))
    extra = hostenv.extra_cas(str(guest))
    assert extra == [pem("BBBB")]


def test_apt_mirror_is_read_from_the_controllers_own_sources(tmp_path):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list").write_text(
        "# deb http://commented.invalid/debian bookworm main\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://one-line.invalid/debian/ bookworm main\n"
    )
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://deb822.invalid/debian\nSuites: bookworm\n\n"
        "Types: deb\nURIs: http://deb822.invalid/debian-security\nSuites: bookworm-security\n"
    )
    assert hostenv.apt_mirror("/debian", tmp_path) == "http://deb822.invalid/debian"
    assert hostenv.apt_mirror("/debian-security", tmp_path) == "http://deb822.invalid/debian-security"
    (tmp_path / "sources.list.d" / "debian.sources").unlink()
    assert hostenv.apt_mirror("/debian", tmp_path) == "http://one-line.invalid/debian"
    assert hostenv.apt_mirror("/ubuntu", tmp_path) == ""


def test_a_guest_udp_port_is_forwarded_from_the_hosts_loopback_and_old_states_still_load(tmp_path):
    """molecule's verify sends a FlaschenTaschen datagram to the VM through such a forward."""
    old = {
        "name": "vm",
        "arch": "amd64",
        "workdir": str(tmp_path),
        "base": "base.img",
        "cpus": 1,
        "memory": 512,
        "accel": "tcg",
        "address": "127.0.0.1",
        "ssh_port": 2222,
        "http_port": 8080,
        "guest_http_port": 5000,
        "user": "ubuntu",
        "identity_file": None,
        "overlay_copy_seconds": 0.0,
        "started": 0.0,
    }
    (tmp_path / "state.json").write_text(json.dumps(old))
    state = VmState.load(tmp_path)
    assert state.udp_forwards == {}  # a state written before UDP forwards
    assert state.board == "pi3"  # and before boards
    state.udp_forwards = {"1337": 40123}
    state.save()
    netdev = next(arg for arg in qemu_command(VmState.load(tmp_path), "tcg", "", 512) if "hostfwd=" in arg)
    forwards = [part for part in netdev.split(",") if part.startswith("hostfwd=")]
    assert forwards == [
        "hostfwd=tcp:127.0.0.1:2222-:22",
        "hostfwd=tcp:127.0.0.1:8080-:5000",
        "hostfwd=udp:127.0.0.1:40123-:1337",
    ]


@pytest.mark.parametrize(
    ("arch_name", "board", "accel", "cpu"),
    [
        ("arm64", "pi3", "tcg", "cortex-a53"),
        ("arm64", "pi4", "tcg", "cortex-a72"),
        ("arm64", "pi4", "kvm", "host"),
        ("amd64", "pi4", "tcg", "max"),
    ],
)
def test_an_arm64_vm_emulates_its_boards_core(tmp_path, arch_name, board, accel, cpu):
    state = VmState(
        name="vm",
        arch=arch_name,
        workdir=str(tmp_path),
        base="base.img",
        cpus=4,
        memory=2048,
        accel=accel,
        address="127.0.0.1",
        ssh_port=2222,
        http_port=8080,
        guest_http_port=5000,
        user="ubuntu",
        identity_file=None,
        overlay_copy_seconds=0.0,
        started=0.0,
        board=board,
    )
    command = qemu_command(state, accel, "", 2048)
    assert command[command.index("-cpu") + 1] == cpu
