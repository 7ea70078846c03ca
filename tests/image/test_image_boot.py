"""The baked image: all the site.yml roles run by image.yml, the result read back and booted (root, opt-in).

Source image: molecule's arm64 base image (molecule/shared/build-image.sh with the pi3 scenario's packages,
a cache hit once `molecule test -s pi3` ran). Like make-synthetic-image.sh's it is a STAND-IN for Ubuntu's
raspi image, with the same layout (FAT system-boot + ext4 writable) and a Debian 13 arm64 root, but it is
bootable: its kernel and initramfs are on the FAT partition, it has openssh-server and the `ubuntu` user.
Its cloud-init applies the NoCloud seed (SSH key, host name) that pivm writes onto the boot partition,
as Ubuntu's applies flash.yml's seed.

image.yml runs the roles in it with rpi-rgb-led-matrix from a FIXTURE repository
(tests/roles/make_fixture_repo.py; GitHub is out of CI's reach), the headless display back-end (no panel)
and the firewall on. Then:

- read back from the image file: units enabled for boot (nothing started: no systemd in a chroot), boot files
  tuned, the firewall's first-boot unit enabled, SSH hardened, the build's CA bundle not sealed in;
- booted with tools/pivm as is: the image's own kernel, initramfs and cmdline.txt, as the
  Pi firmware does. On that first boot, with no Ansible run against the VM: SSH with the seeded key,
  /sys/devices/system/cpu/isolated is 3, ufw active with SSH and the API open, the API answers through the
  forwarded port, 401 without the baked token, and a text and an image job play to `done` and show on
  screen.png (tools/apiprobe.py smoke, as molecule's verify).

    sudo .venv/bin/pytest -m slow --confcutdir=tests/image tests/image/test_image_boot.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from image_support import (
    REPO,
    converge_vars,
    debugfs,
    leftovers,
    mtype,
    partitions,
    read_root_file,
    run_playbook,
    sha256,
    unpack,
)

import apiprobe
from testsupport.tools import require

pytestmark = [pytest.mark.slow, pytest.mark.root]  # ~12 min: the roles in the chroot, then a boot under TCG

MOLECULE = REPO / "molecule" / "shared"


def molecule_base() -> Path:
    scenario = yaml.safe_load((REPO / "molecule" / "pi3" / "molecule.yml").read_text())
    packages = " ".join(scenario["platforms"][0].get("image_packages", []))
    out = subprocess.run(
        [str(MOLECULE / "build-image.sh"), "--arch", "arm64", "--packages", packages],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
        timeout=3600,
    )
    return Path(out.stdout.strip().splitlines()[-1])


PIVM = [sys.executable, "-m", "pivm"]
PIVM_ENV = dict(os.environ, PYTHONPATH=f"{REPO / 'tools'}:{REPO / 'collections'}")


def pivm(*args: str, timeout: float = 120) -> dict:
    proc = subprocess.run([*PIVM, *args], capture_output=True, text=True, timeout=timeout, check=False, env=PIVM_ENV)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def until(what: str, timeout: float, probe):
    """probe() until it returns something true; its last error or value in the failure."""
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            last = probe()
            if last:
                return last
        except (OSError, ValueError) as e:  # not up yet: refused, reset, half a response
            last = e
        time.sleep(5)
    pytest.fail(f"{what}: not within {timeout} s (last: {last!r})")


@pytest.fixture(scope="module")
def baked(module_tmp):
    """image.yml's output from the stand-in, unpacked to a sparse .img: (folder, image path)."""
    require("xz", "debugfs")
    require("qemu-system-aarch64", "ssh", "ssh-keygen", by="`molecule/install-deps.sh`")
    tmp, base = module_tmp, molecule_base()
    values = dict(
        converge_vars(tmp),
        pixie_sdcard_image_url=f"file://{base}",
        pixie_sdcard_image_sha256=sha256(base),
        pixie_sdcard_cache_dir=str(tmp / "cache"),
        pixie_image_work_dir=str(tmp / "work"),
        pixie_image_output_dir=str(tmp / "build"),
        pixie_image_size_mib=-(-base.stat().st_size // (1 << 20)) + 512,
        pixie_image_xz_level=1,
    )
    t0 = time.monotonic()
    run = run_playbook("image.yml", tmp / "runs", values, timeout=5400)
    if run.rc != 0:
        pytest.fail(f"image.yml failed: {run}")  # in full: an assert's message would be cut at 240 characters
    print(f"image.yml: {time.monotonic() - t0:.0f} s")
    assert leftovers(tmp / "work") == ([], [])
    (tmp / "cache" / base.name).unlink(missing_ok=True)  # the multi-GB copy of the source
    image = tmp / "pixie.img"
    unpack(tmp / "build" / "pixie-0.1.0-pi3-64x32.img.xz", image)
    return tmp, image


def test_baked_image_holds_the_appliance(baked):
    _, image = baked
    boot, root = partitions(image)

    def read(path):
        return read_root_file(image, root["start"], root["size"], path)

    def stat(path):
        return debugfs(image, root["start"], root["size"], f"stat {path}")

    # enabled for boot: the [Install] links exist
    wants = "/etc/systemd/system/multi-user.target.wants"
    units = ["pixie-web", "pixie-display", "rqworker@1", "redis-server", "pixie-firewall-firstboot"]
    for unit in units:
        assert "Type: symlink" in stat(f"{wants}/{unit}.service"), unit
    firewall = read("/etc/systemd/system/pixie-firewall-firstboot.service")
    assert "ExecStart=/usr/sbin/ufw allow 5000/tcp" in firewall and "ExecStart=/usr/sbin/ufw --force enable" in firewall
    assert "blacklist snd_bcm2835" in read("/etc/modprobe.d/blacklist-pixie-audio.conf")
    assert "FIXTURE" in read("/usr/local/bin/led-image-viewer")
    assert "headless" in read("/etc/pixie/pixie.toml")
    config = mtype(image, boot["start"], "config.txt")
    assert "dtparam=audio=off" in config and "dtoverlay=disable-bt" in config
    assert "isolcpus=domain,managed_irq,3" in mtype(image, boot["start"], "cmdline.txt")
    assert "PasswordAuthentication no" in read("/etc/ssh/sshd_config.d/10-pixie.conf")
    assert "Inode:" in stat("/root/.config/pixie/rq.env")  # pixie_admin: root until site.yml adds the login user
    assert "pixie-image" not in debugfs(image, root["start"], root["size"], "ls /run")  # nor is the build's CA


def test_baked_image_boots_and_plays_jobs(baked):
    tmp, image = baked
    key = tmp / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    vm = tmp / "vm"
    t0 = time.monotonic()
    state = pivm(
        "up", "--name", "pixie-baked", "--arch", "arm64", "--workdir", str(vm), "--base", str(image),
        "--cpus", "4", "--memory", "1024", "--user", "ubuntu",
        "--authorized-key", f"{key}.pub", "--identity-file", str(key),
    )  # fmt: skip
    try:
        assert pivm("wait-ssh", "--workdir", str(vm), "--timeout", "900", timeout=960)["ssh"] is True
        print(f"SSH banner after {time.monotonic() - t0:.0f} s")

        def ssh(command: str) -> subprocess.CompletedProcess:
            return subprocess.run(
                ["ssh", "-i", str(key), "-p", str(state["ssh_port"]), "-o", "BatchMode=yes",
                 "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
                 "ubuntu@127.0.0.1", command],
                capture_output=True, text=True, timeout=120, check=False,
            )  # fmt: skip

        login = until("SSH login with the seeded key", 300, lambda: (p := ssh("id -un")).returncode == 0 and p)
        assert login.stdout.strip() == "ubuntu"
        assert ssh("cat /sys/devices/system/cpu/isolated").stdout.strip() == "3"
        assert "isolcpus=domain,managed_irq,3" in ssh("cat /proc/cmdline").stdout
        firewall = ssh("sudo ufw status").stdout  # applied by pixie-firewall-firstboot.service
        assert "Status: active" in firewall and "22/tcp" in firewall and "5000/tcp" in firewall, firewall

        url = f"http://127.0.0.1:{state['http_port']}"
        until("GET /healthz == 200", 900, lambda: apiprobe.request(f"{url}/healthz")[0] == 200)
        print(f"healthy after {time.monotonic() - t0:.0f} s")
        # 401 without the baked token; a text and an image job play to `done` and show on screen.png
        smoke = subprocess.run(
            [sys.executable, "-m", "apiprobe", "smoke", "--url", url,
             "--token-file", str(tmp / "credentials" / "api_token"), "--timeout", "600"],
            capture_output=True, text=True, timeout=1500, check=False, env=PIVM_ENV,
        )  # fmt: skip
        assert smoke.returncode == 0, smoke.stderr[-2000:]
        print(f"smoke {smoke.stdout.strip()} after {time.monotonic() - t0:.0f} s")
    finally:
        subprocess.run([*PIVM, "down", "--workdir", str(vm)], timeout=120, check=False, env=PIVM_ENV)
