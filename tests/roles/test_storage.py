"""pixie_storage run for real (ansible-playbook, the whole role) against scratch files: the
journald drop-in, the fstab edits (noatime on /, /tmp on tmpfs, swap file lines), the swap file
itself and apt's periodic file; idempotent, --check writes nothing, bad input names the variable.

pixie_storage_apply_now=false throughout: nothing is applied to this machine (no journald
restart, no remount, no swapoff), and the unit folders point at an empty scratch folder."""

from __future__ import annotations

import configparser
import subprocess
from pathlib import Path

import pytest
from roles_support import role_defaults, run_playbook, vars_file

from testsupport.tools import require

# Ubuntu 24.04's raspi image, plus a swap partition and a swap file.
UBUNTU_FSTAB = (
    "LABEL=writable\t/\text4\tdiscard,relatime,errors=remount-ro\t0\t1\n"
    "LABEL=system-boot       /boot/firmware  vfat    defaults        0       1\n"
    "# /home on a stick\n"
    "UUID=1234-abcd /home ext4 defaults 0 2\n"
    "/dev/mmcblk0p3 none swap sw 0 0\n"
    "{swapfile} none swap sw 0 0\n"
)


def scratch(tmp_path: Path, fstab: str | None = UBUNTU_FSTAB, swapfile: bool = True) -> dict:
    swap = tmp_path / "swapfile"
    if swapfile:
        swap.write_bytes(b"\0" * 4096)
    if fstab is not None:
        (tmp_path / "fstab").write_text(fstab.format(swapfile=swap))
    (tmp_path / "apt.conf.d").mkdir()
    (tmp_path / "units").mkdir()
    return {
        "pixie_storage_fstab": str(tmp_path / "fstab"),
        "pixie_storage_journald_dropin": str(tmp_path / "journald.conf.d" / "pixie.conf"),
        "pixie_storage_apt_periodic_file": str(tmp_path / "apt.conf.d" / "90pixie-periodic"),
        "pixie_storage_swapfiles": [str(swap)],
        "pixie_storage_overlayroot_conf": str(tmp_path / "overlayroot.local.conf"),
        "pixie_storage_apply_now": False,
    }


def play(tmp_path: Path, values: dict) -> list[dict]:
    return [
        {
            "name": "pixie_storage into scratch files",
            "hosts": "localhost",
            "gather_facts": False,
            "vars_files": role_defaults("pixie_storage") + [vars_file(tmp_path, values)],
            "roles": [{"role": "pixie_storage"}],
        }
    ]


def run(tmp_path: Path, values: dict, check: bool = False):
    # role vars (vars/main.yml) rank above vars files: the unit folders go in as extra vars
    units = {"__pixie_storage_unit_dirs": [str(tmp_path / "units")]}
    return run_playbook(tmp_path, play(tmp_path, values), check=check, extra_vars=units)


def task(name: str) -> str:
    """A task's name in the run's results (a role's tasks are reported with its name first)."""
    return f"pixie_storage : {name}"


def fstab_lines(values: dict) -> list[list[str]]:
    text = Path(values["pixie_storage_fstab"]).read_text()
    return [line.split() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_fstab_noatime_once_tmpfs_and_no_swap_file(tmp_path):
    values = {**scratch(tmp_path), "pixie_storage_tmp_tmpfs": True}
    before = Path(values["pixie_storage_fstab"]).read_text()
    checked = run(tmp_path, values, check=True)
    assert checked.rc == 0, checked
    assert Path(values["pixie_storage_fstab"]).read_text() == before, "--check wrote the fstab"
    assert (tmp_path / "swapfile").exists(), "--check deleted the swap file"
    assert not Path(values["pixie_storage_journald_dropin"]).exists()

    first = run(tmp_path, values)
    assert first.rc == 0, first
    lines = fstab_lines(values)
    root = next(f for f in lines if f[1] == "/")
    assert root == ["LABEL=writable", "/", "ext4", "discard,errors=remount-ro,noatime", "0", "1"]
    text = Path(values["pixie_storage_fstab"]).read_text()
    assert "LABEL=writable\t/\text4\tdiscard,errors=remount-ro,noatime\t0\t1\n" in text, "spacing kept"
    assert "LABEL=system-boot       /boot/firmware  vfat    defaults        0       1\n" in text
    assert "# /home on a stick\nUUID=1234-abcd /home ext4 defaults 0 2\n" in text
    assert ["/dev/mmcblk0p3", "none", "swap", "sw", "0", "0"] in lines, "a swap partition is never touched"
    assert not [f for f in lines if f[0] == str(tmp_path / "swapfile")], "the swap file's line is gone"
    assert not (tmp_path / "swapfile").exists(), "the swap file is deleted"
    assert [f for f in lines if f[1] == "/tmp"] == [
        ["tmpfs", "/tmp", "tmpfs", "mode=1777,strictatime,nosuid,nodev,size=128M", "0", "0"]
    ]
    assert text.endswith("\n")

    again = run(tmp_path, values)
    assert again.rc == 0 and again.changed == 0, again
    assert Path(values["pixie_storage_fstab"]).read_text() == text, "noatime added once"
    assert run(tmp_path, values, check=True).changed == 0


def readonly(tmp_path: Path, device: bool = True) -> dict:
    """The read-only root on, its data partition a scratch file (a stand-in for the card's partition)."""
    data = tmp_path / "pixie-data"
    if device:
        data.write_bytes(b"")
    return {
        **scratch(tmp_path),
        "pixie_storage_readonly_root": True,
        "pixie_storage_data_device": str(data),
        "pixie_storage_readonly_packages": [],  # nothing installed on this machine
    }


def test_read_only_root_writes_overlayroot_and_the_data_mount_once(tmp_path):
    values = readonly(tmp_path)
    conf = Path(values["pixie_storage_overlayroot_conf"])
    checked = run(tmp_path, values, check=True)
    assert checked.rc == 0, checked
    assert not conf.exists(), "--check wrote overlayroot's configuration"

    first = run(tmp_path, values)
    assert first.rc == 0, first
    setting = [line for line in conf.read_text().splitlines() if not line.startswith("#")]
    assert setting == ['overlayroot="tmpfs:recurse=0"']
    assert [values["pixie_storage_data_device"], "/var/lib/redis", "ext4", "noatime,nodev,nosuid", "0", "0"] in (
        fstab_lines(values)
    )
    root = next(f for f in fstab_lines(values) if f[1] == "/")
    assert "noatime" in root[3].split(","), "the root partition's own line is noatime before it is sealed"

    again = run(tmp_path, values)
    assert again.rc == 0 and again.changed == 0, again


def test_switching_the_read_only_root_off_removes_overlayroots_configuration(tmp_path):
    values = readonly(tmp_path)
    assert run(tmp_path, values).rc == 0
    off = run(tmp_path, {**values, "pixie_storage_readonly_root": False})
    assert off.rc == 0, off
    assert not Path(values["pixie_storage_overlayroot_conf"]).exists()


def test_read_only_root_without_its_data_partition_fails_naming_it(tmp_path):
    values = readonly(tmp_path, device=False)
    result = run(tmp_path, values)
    assert result.rc != 0 and result.failed == 1, result
    assert "pixie_storage_data_device" in result.failure(), result
    assert not Path(values["pixie_storage_overlayroot_conf"]).exists(), "overlayroot switched on without the partition"
    assert not [f for f in fstab_lines(values) if f[1] == "/var/lib/redis"]


@pytest.mark.parametrize(
    "options, expected",
    [
        ("defaults", "defaults,noatime"),
        ("noatime,errors=remount-ro", "noatime,errors=remount-ro"),
        ("strictatime,ro", "ro,noatime"),
        ("atime", "noatime"),
    ],
)
def test_root_options_token_level(tmp_path, options, expected):
    values = {**scratch(tmp_path, fstab=f"/dev/vda1 / ext4 {options} 0 1\n", swapfile=False)}
    values["pixie_storage_tmp_tmpfs"] = False
    result = run(tmp_path, values)
    assert result.rc == 0, result
    assert fstab_lines(values) == [["/dev/vda1", "/", "ext4", expected, "0", "1"]]
    assert (task("Write the / line with noatime") in result.changed_tasks()) is (options != expected)


def test_fstab_without_a_root_line_is_untouched(tmp_path):
    fstab = "# UNCONFIGURED FSTAB FOR BASE SYSTEM\nLABEL=system-boot /boot/firmware vfat defaults 0 1\n"
    values = {**scratch(tmp_path, fstab=fstab, swapfile=False), "pixie_storage_tmp_tmpfs": False}
    result = run(tmp_path, values)
    assert result.rc == 0, result
    assert Path(values["pixie_storage_fstab"]).read_text() == fstab
    assert task("Write the / line with noatime") not in result.changed_tasks()


def test_no_fstab_gets_only_the_tmp_line(tmp_path):
    values = {**scratch(tmp_path, fstab=None, swapfile=False), "pixie_storage_tmp_tmpfs": True}
    result = run(tmp_path, values)
    assert result.rc == 0, result
    assert [f[1] for f in fstab_lines(values)] == ["/tmp"]


def test_switched_off_knobs_leave_fstab_and_swap_alone(tmp_path):
    values = {
        **scratch(tmp_path),
        "pixie_storage_noatime": False,
        "pixie_storage_tmp_tmpfs": False,
        "pixie_storage_no_swapfile": False,
    }
    before = Path(values["pixie_storage_fstab"]).read_text()
    result = run(tmp_path, values)
    assert result.rc == 0, result
    assert Path(values["pixie_storage_fstab"]).read_text() == before
    assert (tmp_path / "swapfile").exists()


def _ini(path: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(comment_prefixes=("#",))
    parser.optionxform = str
    parser.read_string(Path(path).read_text())
    return parser


def test_journald_dropin(tmp_path):
    values = scratch(tmp_path)
    assert run(tmp_path, values).rc == 0
    journal = _ini(values["pixie_storage_journald_dropin"])
    assert dict(journal["Journal"]) == {
        "Storage": "volatile",
        "SystemMaxUse": "32M",
        "RuntimeMaxUse": "32M",
        "ForwardToSyslog": "no",
    }
    values |= {
        "pixie_storage_journald_storage": "persistent",
        "pixie_storage_journald_system_max_use": "64M",
        "pixie_storage_journald_forward_to_syslog": True,
    }
    result = run(tmp_path, values)
    assert result.rc == 0 and result.changed_tasks() == [task("Write the journald drop-in")], result
    journal = _ini(values["pixie_storage_journald_dropin"])["Journal"]
    assert (journal["Storage"], journal["SystemMaxUse"], journal["ForwardToSyslog"]) == ("persistent", "64M", "yes")


def test_journald_reads_the_dropin(tmp_path):
    """systemd-analyze cat-config shows the drop-in as journald would merge it."""
    require("systemd-analyze")
    values = scratch(tmp_path)
    root = tmp_path / "root"
    values["pixie_storage_journald_dropin"] = str(root / "etc/systemd/journald.conf.d/pixie.conf")
    assert run(tmp_path, values).rc == 0
    proc = subprocess.run(
        ["systemd-analyze", "cat-config", f"--root={root}", "systemd/journald.conf"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Storage=volatile" in proc.stdout and "pixie.conf" in proc.stdout


def _apt(path: str) -> dict[str, str]:
    require("apt-config", by="apt (which `make deps` runs)")
    proc = subprocess.run(["apt-config", "-c", path, "dump"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    out = {}
    for line in proc.stdout.splitlines():
        key, _, value = line.partition(" ")
        if key.startswith("APT::Periodic::"):
            out[key.removeprefix("APT::Periodic::")] = value.strip('";')
    return out


def test_apt_periodic_file(tmp_path):
    values = scratch(tmp_path)
    assert run(tmp_path, values).rc == 0
    assert _apt(values["pixie_storage_apt_periodic_file"]) == {
        "Update-Package-Lists": "7",
        "Unattended-Upgrade": "7",
        "Download-Upgradeable-Packages": "0",
        "AutocleanInterval": "7",
    }
    values["pixie_storage_apt_periodic"] = {"Update-Package-Lists": 1}
    assert run(tmp_path, values).rc == 0
    assert _apt(values["pixie_storage_apt_periodic_file"]) == {"Update-Package-Lists": "1"}
    values["pixie_storage_apt_periodic"] = {}
    assert run(tmp_path, values).rc == 0
    assert not Path(values["pixie_storage_apt_periodic_file"]).exists()


def test_image_mode_deletes_the_swap_file_without_reading_proc_swaps(tmp_path):
    values = {**scratch(tmp_path), "pixie_image_mode": True, "pixie_storage_apply_now": True}
    result = run(tmp_path, values)
    assert result.rc == 0, result
    assert result.result(task("Read the active swap areas")).get("skipped") is True
    assert result.result(task("Switch off the active swap files")).get("skipped") is True
    assert not (tmp_path / "swapfile").exists()


BAD = [
    ({"pixie_storage_journald_storage": "bogus"}, "pixie_storage_journald_storage"),
    ({"pixie_storage_journald_system_max_use": "lots"}, "pixie_storage_journald_system_max_use"),
    ({"pixie_storage_journald_runtime_max_use": "32MB"}, "pixie_storage_journald_runtime_max_use"),
    ({"pixie_storage_tmp_size": "128 M"}, "pixie_storage_tmp_size"),
    ({"pixie_storage_tmp_size": "100%"}, "pixie_storage_tmp_size"),
    ({"pixie_storage_swapfiles": ["swapfile"]}, "pixie_storage_swapfiles"),
    ({"pixie_storage_apt_periodic": {"Update-Package-Lists": -1}}, "pixie_storage_apt_periodic"),
    ({"pixie_storage_apt_periodic": {"Update-Package-Lists": "weekly"}}, "pixie_storage_apt_periodic"),
    ({"pixie_storage_apt_periodic": {"Verbose": 1}}, "pixie_storage_apt_periodic"),
]


@pytest.mark.parametrize("bad, name", BAD, ids=[f"{n}={list(b.values())[0]}" for b, n in BAD])
def test_bad_input_fails_naming_the_variable(tmp_path, bad, name):
    values = {**scratch(tmp_path), **bad}
    before = Path(values["pixie_storage_fstab"]).read_text()
    result = run(tmp_path, values)
    assert result.rc != 0, f"{bad} was accepted"
    assert result.failed == 1
    assert name in result.failure(), result
    assert Path(values["pixie_storage_fstab"]).read_text() == before, "nothing written before the check"
