"""pixie_ssh with real Ansible into a scratch sshd configuration, then asked of
sshd itself (`sshd -T`, the effective settings): key-only, no root login, no
passwords; idempotent; --check changes nothing; no lock-out without a key."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from roles_support import role_defaults, run_playbook, vars_file

from testsupport.tools import require

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


def scratch(tmp_path: Path, keys: str | None = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFake admin@laptop\n") -> dict:
    """A main sshd config like Debian's (without the Include, to see the role add it), a host key, a keys file."""
    host_key = tmp_path / "ssh_host_ed25519_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_key)], check=True)
    main = tmp_path / "sshd_config"
    main.write_text(
        f"HostKey {host_key}\nPasswordAuthentication yes\nPermitRootLogin yes\nKbdInteractiveAuthentication yes\n"
        "X11Forwarding yes\nUsePAM yes\n"
    )
    authorized = tmp_path / "authorized_keys"
    if keys is not None:
        authorized.write_text(keys)
    return {
        "pixie_ssh_main_config": str(main),
        "pixie_ssh_config_file": str(tmp_path / "sshd_config.d" / "10-pixie.conf"),
        "pixie_ssh_authorized_keys_file": str(authorized),
        "pixie_ssh_sshd_binary": SSHD,
        "pixie_ssh_reload": False,
    }


def play(tmp_path: Path, values: dict) -> list[dict]:
    return [
        {
            "name": "pixie_ssh into a scratch folder",
            "hosts": "localhost",
            "gather_facts": False,
            "vars_files": role_defaults("pixie_ssh") + [vars_file(tmp_path, values)],
            "roles": [{"role": "pixie_ssh"}],
        }
    ]


def effective(main: str) -> dict[str, str]:
    require("sshd")
    if not Path("/run/sshd").is_dir():  # made by systemd-tmpfiles where sshd runs; sshd -T insists on it
        Path("/run/sshd").mkdir(mode=0o755)
    proc = subprocess.run([SSHD, "-T", "-f", main], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    return dict(line.split(" ", 1) for line in proc.stdout.splitlines() if " " in line)


def test_key_only_no_root_no_passwords(tmp_path):
    values = scratch(tmp_path)
    assert run_playbook(tmp_path, play(tmp_path, values), check=True).rc == 0
    assert not Path(values["pixie_ssh_config_file"]).exists(), "--check wrote nothing"
    first = run_playbook(tmp_path, play(tmp_path, values))
    assert first.rc == 0, first
    settings = effective(values["pixie_ssh_main_config"])
    assert settings["passwordauthentication"] == "no"
    assert settings["kbdinteractiveauthentication"] == "no"
    assert settings["permitrootlogin"] == "no"
    assert settings["pubkeyauthentication"] == "yes"
    assert settings["permitemptypasswords"] == "no"
    assert settings["maxauthtries"] == "3"
    assert settings["x11forwarding"] == "no" and settings["allowtcpforwarding"] == "no"
    again = run_playbook(tmp_path, play(tmp_path, values))
    assert again.rc == 0 and again.changed == 0, again
    assert run_playbook(tmp_path, play(tmp_path, values), check=True).changed == 0


def test_passwords_can_be_allowed_and_users_listed(tmp_path):
    values = {**scratch(tmp_path), "pixie_ssh_password_authentication": True, "pixie_ssh_allow_users": ["ubuntu"]}
    assert run_playbook(tmp_path, play(tmp_path, values)).rc == 0
    settings = effective(values["pixie_ssh_main_config"])
    assert settings["passwordauthentication"] == "yes" and settings["allowusers"] == "ubuntu"


@pytest.mark.parametrize("keys", [None, ""])
def test_no_lockout_without_an_authorized_key(tmp_path, keys):
    values = scratch(tmp_path, keys=keys)
    result = run_playbook(tmp_path, play(tmp_path, values))
    assert result.rc != 0
    assert "holds no key" in result.failure(), result
    assert not Path(values["pixie_ssh_config_file"]).exists()
