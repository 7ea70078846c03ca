"""The cmdline.txt editing logic (pixie.appliance.cmdline_update, collections/.../plugins/filter/cmdline.py)
over real default cmdline.txt lines, then the role's own task files run by
ansible-playbook against a temporary firmware folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from roles_support import ROLES, filter_module, role_defaults, role_tasks, vars_file

from pivm.firmware import parse_config_txt

cmdline = filter_module("cmdline")
update = cmdline.cmdline_update

# Defaults of the preinstalled images' /boot/firmware/cmdline.txt.
UBUNTU_2404 = (
    "console=serial0,115200 multipath=off dwc_otg.lpm_enable=0 console=tty1 "
    "root=LABEL=writable rootfstype=ext4 rootwait fixrtc\n"
)
UBUNTU_2204 = (
    "console=serial0,115200 dwc_otg.lpm_enable=0 console=tty1 "
    "root=LABEL=writable rootfstype=ext4 rootwait fixrtc quiet splash\n"
)
UBUNTU_2004 = (
    "net.ifnames=0 dwc_otg.lpm_enable=0 console=serial0,115200 console=tty1 "
    "root=LABEL=writable rootfstype=ext4 elevator=deadline rootwait fixrtc\n"
)
RASPIOS = "console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes rootwait\n"
RASPIOS_FIRSTBOOT = (
    "console=serial0,115200 console=tty1 root=PARTUUID=e8af6eb2-02 rootfstype=ext4 "
    "fsck.repair=yes rootwait quiet init=/usr/lib/raspberrypi-sys-mods/firstboot "
    "cfg80211.ieee80211_regdom=DE\n"
)

WANTED = {
    "isolcpus": "domain,managed_irq,3",
    "nohz_full": "3",
    "rcu_nocbs": "3",
    "irqaffinity": "0,1,2",
}
WANTED_TEXT = "isolcpus=domain,managed_irq,3 nohz_full=3 rcu_nocbs=3 irqaffinity=0,1,2"
REMOVE = ["isolcpu"]


@pytest.mark.parametrize(
    "original",
    [UBUNTU_2404, UBUNTU_2204, UBUNTU_2004, RASPIOS, RASPIOS_FIRSTBOOT],
    ids=["ubuntu-24.04", "ubuntu-22.04", "ubuntu-20.04", "raspios", "raspios-firstboot"],
)
def test_default_lines_get_the_tokens_appended(original):
    result = update(original, WANTED, REMOVE)
    assert result == original.rstrip("\n") + " " + WANTED_TEXT + "\n"
    assert result.count("\n") == 1 and result.endswith("\n")
    # Applying it again changes nothing (idempotent).
    assert update(result, WANTED, REMOVE) == result


def test_misspelt_isolcpu_is_removed_not_kept():
    line = UBUNTU_2404.rstrip("\n") + " isolcpu=3\n"
    result = update(line, WANTED, REMOVE)
    assert "isolcpu=" not in result
    assert result.split().count("isolcpus=domain,managed_irq,3") == 1


def test_existing_isolcpus_is_replaced_in_place():
    line = "console=tty1 isolcpus=2 root=LABEL=writable rootwait\n"
    result = update(line, WANTED, REMOVE)
    assert result == (
        "console=tty1 isolcpus=domain,managed_irq,3 root=LABEL=writable rootwait "
        "nohz_full=3 rcu_nocbs=3 irqaffinity=0,1,2\n"
    )


def test_duplicate_managed_tokens_collapse_to_one():
    line = "rootwait isolcpus=3 nohz_full=2 isolcpus=2 nohz_full=3 fixrtc\n"
    result = update(line, WANTED, REMOVE)
    tokens = result.split()
    assert [t for t in tokens if t.startswith("isolcpus=")] == ["isolcpus=domain,managed_irq,3"]
    assert [t for t in tokens if t.startswith("nohz_full=")] == ["nohz_full=3"]
    assert tokens[:3] == ["rootwait", "isolcpus=domain,managed_irq,3", "nohz_full=3"]


def test_unrelated_duplicates_are_kept():
    # console= appears twice on purpose (serial and screen).
    result = update(UBUNTU_2404, WANTED, REMOVE)
    assert result.split().count("console=serial0,115200") == 1
    assert [t for t in result.split() if t.startswith("console=")] == ["console=serial0,115200", "console=tty1"]


def test_no_trailing_newline_stays_without_one():
    line = RASPIOS.rstrip("\n")
    result = update(line, WANTED, REMOVE)
    assert not result.endswith("\n")
    assert result.endswith(WANTED_TEXT)


def test_crlf_and_a_stray_second_line_are_merged_into_one_line():
    # e.g. `echo isolcpus=3 >> cmdline.txt` leaves the setting on a line the firmware ignores.
    text = "console=tty1 root=LABEL=writable rootwait\r\nisolcpus=3\n\n"
    result = update(text, WANTED, REMOVE)
    assert result == "console=tty1 root=LABEL=writable rootwait " + WANTED_TEXT + "\n"


def test_hyphen_and_underscore_spellings_are_the_same_key():
    result = update("rootwait nohz-full=1\n", {"nohz_full": "3"}, [])
    assert result == "rootwait nohz_full=3\n"


def test_init_arguments_after_double_dash_stay_last():
    result = update("root=/dev/sda2 rootwait -- single\n", {"isolcpus": "3"}, [])
    assert result == "root=/dev/sda2 rootwait isolcpus=3 -- single\n"


def test_quoted_values_stay_one_token():
    line = 'rootwait dyndbg="file foo.c +p" quiet\n'
    result = update(line, {"isolcpus": "3"}, ["quiet"])
    assert result == 'rootwait dyndbg="file foo.c +p" isolcpus=3\n'


def test_bare_flags_and_removal():
    result = update("a=1 quiet b=2\n", {"noquiet": None, "b": "3"}, ["a"])
    assert result == "quiet b=3 noquiet\n"


def test_empty_file_gets_the_tokens():
    assert update("", WANTED, REMOVE) == WANTED_TEXT


@pytest.mark.parametrize(
    "tokens, remove",
    [({"isolcpus": "3"}, ["isolcpus"]), ({"bad key": "1"}, []), ({"k": True}, [])],
    ids=["set-and-remove", "space-in-key", "boolean-value"],
)
def test_contradictory_or_invalid_requests_raise(tokens, remove):
    from ansible.errors import AnsibleFilterError

    with pytest.raises(AnsibleFilterError):
        update("rootwait\n", tokens, remove)


def test_unbalanced_quote_raises():
    from ansible.errors import AnsibleFilterError

    with pytest.raises(AnsibleFilterError):
        update('rootwait x="oops\n', WANTED, REMOVE)


# --- The role's task files, run by ansible-playbook -------------------------


def _boot_play(firmware: Path, tmp_path: Path, tasks=("locate.yml", "cmdline.yml")):
    return [
        {
            "name": "pixie_boot cmdline tasks against a temporary firmware folder",
            "hosts": "localhost",
            "gather_facts": False,
            # vars/main.yml: what the edits notify (the reboot handler below)
            "vars_files": role_defaults("pixie_common", "pixie_boot")
            + [str(ROLES / "pixie_boot" / "vars" / "main.yml")]
            + [
                vars_file(
                    tmp_path,
                    {
                        "pixie_boot_firmware_dir": str(firmware),
                        "pixie_common_credentials_dir": str(tmp_path / "credentials"),
                        "pixie_boot_blacklist_file": str(tmp_path / "blacklist-pixie-audio.conf"),
                    },
                )
            ],
            "tasks": [{"name": f"Run {t}", "ansible.builtin.import_tasks": role_tasks("pixie_boot", t)} for t in tasks],
            "handlers": [
                {"name": "Reboot to apply the boot configuration", "ansible.builtin.debug": {"msg": "REBOOT HANDLER"}},
                {"name": "Rebuild the initramfs", "ansible.builtin.debug": {"msg": "INITRAMFS HANDLER"}},
            ],
        }
    ]


@pytest.mark.parametrize(
    "original", [UBUNTU_2404, UBUNTU_2004 + "isolcpu=3\n", RASPIOS], ids=["24.04", "20.04-stray-line", "raspios"]
)
def test_role_edits_cmdline_once_and_is_idempotent(run_play, tmp_path, original):
    firmware = tmp_path / "firmware"
    firmware.mkdir()
    target = firmware / "cmdline.txt"
    target.write_text(original)
    target.chmod(0o755)  # as on the FAT boot partition

    first = run_play(_boot_play(firmware, tmp_path))
    assert first.rc == 0, first
    text = target.read_text()
    assert text.count("\n") == 1
    assert text.split().count("isolcpus=domain,managed_irq,3") == 1
    assert "isolcpu=" not in text
    # the role also turns the memory cgroup on, cloud-init off after its first boot, a panic into a reboot
    assert text.rstrip("\n").endswith(WANTED_TEXT + " cgroup_enable=memory cloud-init=disabled panic=10")
    assert "REBOOT HANDLER" in first.stdout, "a changed cmdline must notify the reboot handler"
    assert oct(target.stat().st_mode & 0o777) == "0o755", "the file's mode must be kept"

    second = run_play(_boot_play(firmware, tmp_path))
    assert second.rc == 0, second
    assert second.changed == 0, second.changed_tasks()
    assert "REBOOT HANDLER" not in second.stdout
    assert target.read_text() == text


def test_role_edits_the_cmdline_the_firmware_reads_under_os_prefix(run_play, tmp_path):
    """Ubuntu 25.10's A/B boot: config.txt says os_prefix=current/, the live command line is
    current/cmdline.txt; the top-level one is not read and stays as it is."""
    firmware = tmp_path / "firmware"
    (firmware / "current").mkdir(parents=True)
    (firmware / "config.txt").write_text("[all]\nos_prefix=old/\nos_prefix=current/\nkernel=vmlinuz\n")
    (firmware / "cmdline.txt").write_text(UBUNTU_2404)
    live = firmware / "current" / "cmdline.txt"
    live.write_text(UBUNTU_2404)
    result = run_play(_boot_play(firmware, tmp_path))
    assert result.rc == 0, result
    assert "isolcpus=domain,managed_irq,3" in live.read_text().split()
    assert (firmware / "cmdline.txt").read_text() == UBUNTU_2404


def test_role_check_mode_reports_but_does_not_write(run_play, tmp_path):
    firmware = tmp_path / "firmware"
    firmware.mkdir()
    target = firmware / "cmdline.txt"
    target.write_text(UBUNTU_2404)
    result = run_play(_boot_play(firmware, tmp_path), check=True, diff=True)
    assert result.rc == 0, result
    edit = result.result("Write the kernel command line (one line, token by token)")
    assert edit["changed"] is True
    assert "isolcpus=domain,managed_irq,3" in str(edit.get("diff"))
    assert target.read_text() == UBUNTU_2404


def test_role_fails_clearly_without_cmdline_file(run_play, tmp_path):
    firmware = tmp_path / "empty-firmware"
    firmware.mkdir()
    result = run_play(_boot_play(firmware, tmp_path))
    assert result.rc != 0
    assert "pixie_boot_cmdline_path" in result.failure()


# Excerpt of Ubuntu 24.04's config.txt: dtparam=audio=on comes before the overlays.
CONFIG_2404 = """[all]
kernel=vmlinuz
cmdline=cmdline.txt
initramfs initrd.img followkernel

[pi4]
max_framebuffers=2
arm_boost=1

[all]
# Enable the audio output, I2C and SPI interfaces on the GPIO header.
dtparam=audio=on
dtparam=i2c_arm=on
dtparam=spi=on

# Enable the FKMS ("Fake" KMS) graphics overlay
dtoverlay=vc4-kms-v3d
disable_overscan=1

[cm4]
dtoverlay=dwc2,dr_mode=host

[all]
"""


def test_role_switches_audio_off_in_place_and_disables_bluetooth(run_play, tmp_path):
    firmware = tmp_path / "firmware"
    firmware.mkdir()
    (firmware / "cmdline.txt").write_text(UBUNTU_2404)
    config = firmware / "config.txt"
    config.write_text(CONFIG_2404)
    # config-txt.yml: the firmware config part (pixie_sdcard imports it too); audio.yml: modprobe.
    play = _boot_play(firmware, tmp_path, tasks=("locate.yml", "config-txt.yml", "audio.yml"))
    first = run_play(play)
    assert first.rc == 0, first
    lines = config.read_text().splitlines()
    assert "dtparam=audio=on" not in lines
    # Still before the first dtoverlay (dtparam after an overlay would apply to that overlay).
    kms = "#dtoverlay=vc4-kms-v3d  # pixie_boot_display_kms: false"
    assert lines.index("dtparam=audio=off") < lines.index(kms)
    assert lines.count("dtparam=audio=off") == 1
    assert "dtoverlay=disable-bt" in lines
    assert (tmp_path / "blacklist-pixie-audio.conf").read_text().splitlines()[-1] == "blacklist snd_bcm2835"
    assert "INITRAMFS HANDLER" in first.stdout and "REBOOT HANDLER" in first.stdout
    # The GPU's RAM comes back: what the (emulated) Pi 3 firmware now reserves.
    assert parse_config_txt(config.read_text()).items() >= {"gpu_mem_mb": 16, "cma_mb": 0}.items()
    assert parse_config_txt(CONFIG_2404)["cma_mb"] == 256

    second = run_play(play)
    assert second.rc == 0, second
    assert second.changed == 0, second.changed_tasks()


def test_role_uses_usercfg_on_ubuntu_2004_layout(run_play, tmp_path):
    firmware = tmp_path / "firmware"
    firmware.mkdir()
    (firmware / "cmdline.txt").write_text(UBUNTU_2004)
    (firmware / "config.txt").write_text("[all]\ninclude syscfg.txt\ninclude usercfg.txt\n")
    (firmware / "syscfg.txt").write_text("dtparam=audio=on\n")
    usercfg = firmware / "usercfg.txt"
    usercfg.write_text("# Place user configuration here\n")
    result = run_play(_boot_play(firmware, tmp_path, tasks=("locate.yml", "config-txt.yml", "audio.yml")))
    assert result.rc == 0, result
    assert "dtparam=audio=off" in usercfg.read_text().splitlines()
    assert (firmware / "config.txt").read_text() == "[all]\ninclude syscfg.txt\ninclude usercfg.txt\n"
