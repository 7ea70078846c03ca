"""pixie_system run for real (ansible-playbook, the whole role) against scratch files, in
image mode so that nothing on this machine is stopped or reloaded: the upgrade window as a
timer drop-in systemd itself reads, the reboot policy, idempotence, bad input naming the
variable. Masking needs a running systemd: molecule's verify checks it in the VM."""

from __future__ import annotations

import configparser
import subprocess
from pathlib import Path

from roles_support import role_defaults, run_playbook, vars_file


def run(tmp_path: Path, check: bool = False, **values):
    scratch = {
        "pixie_system_window_dropin": str(tmp_path / "timer.d" / "pixie-window.conf"),
        "pixie_system_unattended_file": str(tmp_path / "52pixie-unattended-upgrades"),
        "pixie_system_masked_units": [],
        "pixie_system_image_mode": True,
    }
    play = [
        {
            "name": "pixie_system into scratch files",
            "hosts": "localhost",
            "gather_facts": False,
            "vars_files": role_defaults("pixie_system") + [vars_file(tmp_path, scratch | values)],
            "roles": [{"role": "pixie_system"}],
        }
    ]
    return run_playbook(tmp_path, play, check=check)


def test_upgrades_move_into_the_window_and_never_reboot_by_default(tmp_path):
    first = run(tmp_path)
    assert first.rc == 0, first.failure()
    timer = configparser.ConfigParser(strict=False, interpolation=None)
    timer.optionxform = str
    timer.read_string((tmp_path / "timer.d" / "pixie-window.conf").read_text())
    window = timer["Timer"]["OnCalendar"]
    assert window == "Sun *-*-* 03:00"  # (after the empty OnCalendar= that drops the distribution's)
    calendar = subprocess.run(["systemd-analyze", "calendar", window], capture_output=True, text=True, check=True)
    assert "Next elapse: Sun" in calendar.stdout
    policy = (tmp_path / "52pixie-unattended-upgrades").read_text()
    assert 'Unattended-Upgrade::Automatic-Reboot "false";' in policy
    again = run(tmp_path)
    assert again.rc == 0 and again.changed == 0, again.changed_tasks()


def test_an_empty_window_keeps_the_distributions_timer_and_reboots_can_be_allowed(tmp_path):
    assert run(tmp_path).rc == 0
    result = run(tmp_path, pixie_system_upgrade_window="", pixie_system_upgrade_reboot=True)
    assert result.rc == 0, result.failure()
    assert not (tmp_path / "timer.d" / "pixie-window.conf").exists()
    policy = (tmp_path / "52pixie-unattended-upgrades").read_text()
    assert 'Automatic-Reboot "true";' in policy and 'Automatic-Reboot-Time "04:00";' in policy


def test_a_window_systemd_cannot_read_fails_naming_the_variable(tmp_path):
    result = run(tmp_path, pixie_system_upgrade_window="every sunday at three")
    assert result.rc != 0
    assert "pixie_system_upgrade_window must be a systemd calendar event" in result.failure()
    assert not (tmp_path / "timer.d").exists()
    bad_time = run(tmp_path, pixie_system_upgrade_reboot_time="25:00")
    assert bad_time.rc != 0 and "pixie_system_upgrade_reboot_time must be HH:MM" in bad_time.failure()
