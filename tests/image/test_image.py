"""playbooks/image.yml mechanics on the synthetic image (root only).

The source is make-synthetic-image.sh's full flavour: a STAND-IN for Ubuntu's
raspi image with a debootstrapped Debian 12 arm64 root. The roles are not run
here (pixie_image_converge=false); an extra tasks file runs inside the arm64
chroot instead, to prove the chroot connection, and the clean-up is checked
after success and after a failure inside the image. test_image_boot.py runs
all the roles in an image and boots the result.
"""

from __future__ import annotations

import glob
from pathlib import Path

import pytest
from image_support import (
    IMAGE_NAME,
    debugfs,
    ext4_label,
    leftovers,
    mtype,
    partitions,
    read_root_file,
    run_playbook,
    served_release,
    sha256,
    unpack,
)

pytestmark = pytest.mark.root  # image.yml: loop devices, mounts, a chroot

INSIDE_OK = """\
- name: Run a program of the image
  ansible.builtin.command: uname -m
  register: arch
  changed_when: false
- name: The chroot runs arm64 code
  ansible.builtin.assert:
    that: arch.stdout == 'aarch64'
- name: The boot partition is staged in /boot/firmware
  ansible.builtin.stat:
    path: /boot/firmware/cmdline.txt
  register: cmdline
- name: Check it
  ansible.builtin.assert:
    that: cmdline.stat.exists
- name: Leave a mark in the image
  ansible.builtin.copy:
    dest: /etc/pixie-image-test
    content: "{{ ansible_facts.architecture }}\\n"
    mode: "0644"
- name: Edit a boot file (as pixie_boot does)
  ansible.builtin.lineinfile:
    path: /boot/firmware/config.txt
    line: "# pixie-image-test"
"""

# With pixie_image_build_ca_bundle: what the roles' pip and git are pointed at.
INSIDE_CA = """\
- name: Read the bundle the build environment names
  ansible.builtin.shell: cat "$PIP_CERT" "$REQUESTS_CA_BUNDLE" "$CURL_CA_BUNDLE" "$SSL_CERT_FILE" "$GIT_SSL_CAINFO"
  register: ca
  changed_when: false
- name: It is the controller's bundle, five times
  ansible.builtin.assert:
    that: ca.stdout_lines | select('search', 'pixie-image-test CA') | list | length == 5
- name: Read it on the controller too (tasks delegated there, like the app's wheel build, get the same environment)
  ansible.builtin.shell: cat "$PIP_CERT" "$REQUESTS_CA_BUNDLE" "$CURL_CA_BUNDLE" "$SSL_CERT_FILE" "$GIT_SSL_CAINFO"
  delegate_to: localhost
  register: ca_controller
  changed_when: false
- name: The same bundle there
  ansible.builtin.assert:
    that: ca_controller.stdout == ca.stdout
"""
BUILD_CA = "/run/pixie-image-*-ca.crt"  # named for the build's work folder

INSIDE_FAIL = """\
- name: Leave a mark, then fail
  ansible.builtin.command: touch /etc/pixie-image-test
  changed_when: true
- name: Fail on purpose
  ansible.builtin.fail:
    msg: deliberate failure inside the image
"""

SIZE_MIB = 1024


@pytest.fixture(scope="module")
def full_release(tmp_path_factory):
    """Its tests are marked slow: the first run debootstraps an arm64 root under qemu (~8 min) and compresses it
    (~3 min); then each builds an image."""
    with served_release(tmp_path_factory, minimal=False) as release:
        yield release


def image_vars(server, tmp: Path, tasks: str) -> dict:
    extra = tmp / "inside.yml"
    extra.write_text(tasks)
    return {
        "pixie_sdcard_mirror": f"{server.url}/releases",
        "pixie_sdcard_cache_dir": str(tmp / "cache"),
        "pixie_image_work_dir": str(tmp / "work"),
        "pixie_image_output_dir": str(tmp / "build"),
        "pixie_image_size_mib": SIZE_MIB,
        "pixie_image_converge": False,
        "pixie_image_extra_tasks": str(extra),
        "pixie_image_xz_level": 1,
    }


def test_check_mode_builds_nothing(minimal_release, own_tmp):
    _, server = minimal_release
    run = run_playbook("image.yml", own_tmp / "runs", image_vars(server, own_tmp, INSIDE_OK), "--check")
    assert run.rc == 0, run
    said = [r["msg"] for name, r in run.tasks() if "Say what the build would make" in name]
    assert len(said) == 1 and "/pixie-0.1.0-pi3-64x32.img.xz (1024 MiB) from http://127.0.0.1:" in said[0], said
    assert IMAGE_NAME in said[0]
    assert not (own_tmp / "work").exists() and not (own_tmp / "build").exists()
    assert not list((own_tmp / "cache").glob("*.img*"))  # nothing downloaded
    assert leftovers(own_tmp / "work") == ([], [])


@pytest.mark.slow
def test_image_built_grown_and_detached(full_release, own_tmp):
    _, server = full_release
    ca = own_tmp / "controller-ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\npixie-image-test CA\n-----END CERTIFICATE-----\n")
    values = dict(image_vars(server, own_tmp, INSIDE_OK + INSIDE_CA), pixie_image_build_ca_bundle=str(ca))
    run = run_playbook("image.yml", own_tmp / "runs", values, timeout=3000)
    assert run.rc == 0, run
    assert leftovers(own_tmp / "work") == ([], [])
    built = sorted((own_tmp / "build").glob("pixie-*.img.xz"))
    assert [p.name for p in built] == ["pixie-0.1.0-pi3-64x32.img.xz"], built
    xz = built[0]
    digest = sha256(xz)
    assert (own_tmp / "build" / "pixie-0.1.0-pi3-64x32.img.xz.sha256").read_text() == f"{digest}  {xz.name}\n"
    assert f"{digest} *{xz.name}" in (own_tmp / "build" / "SHA256SUMS").read_text()
    assert not list((own_tmp / "work").glob("*.img"))  # the big work image is gone

    image = own_tmp / "pixie.img"
    unpack(xz, image)
    assert image.stat().st_size == SIZE_MIB << 20
    boot, root = partitions(image)
    assert root["start"] + root["size"] == SIZE_MIB << 20  # partition 2 grown to the end
    assert ext4_label(image, root["start"]) == "writable"
    with open(image, "rb") as f:  # filesystem grown with it
        f.seek(root["start"] + 1024)
        sb = f.read(64)
    blocks = int.from_bytes(sb[4:8], "little")
    block_size = 1024 << int.from_bytes(sb[24:28], "little")
    assert blocks * block_size == root["size"]
    assert read_root_file(image, root["start"], root["size"], "/etc/pixie-image-test") == "aarch64\n"
    assert read_root_file(image, root["start"], root["size"], "/etc/pixie-stand-in").startswith("PIXIE-STAND-IN")
    # the boot partition got the edit back; the staging folder is empty again
    assert "# pixie-image-test" in mtype(image, boot["start"], "config.txt")
    assert "root=LABEL=writable" in mtype(image, boot["start"], "cmdline.txt")
    assert read_root_file(image, root["start"], root["size"], "/usr/sbin/policy-rc.d") == ""
    # the build trusted the controller's CA bundle (INSIDE_CA); the image does not
    assert "pixie-image" not in debugfs(image, root["start"], root["size"], "ls /run")
    assert not glob.glob(BUILD_CA)  # nor does the controller keep its copy


@pytest.mark.slow
def test_failure_inside_image_cleans_up(full_release, own_tmp):
    _, server = full_release
    values = image_vars(server, own_tmp, INSIDE_FAIL)
    run = run_playbook("image.yml", own_tmp / "runs", values, timeout=3000)
    assert run.rc != 0
    assert "deliberate failure inside the image" in run.failure(), run
    assert leftovers(own_tmp / "work") == ([], [])
    assert not list((own_tmp / "build").glob("*.img.xz"))


@pytest.mark.slow
def test_failure_while_preparing_cleans_up(full_release, own_tmp):
    _, server = full_release
    values = dict(image_vars(server, own_tmp, INSIDE_OK), pixie_image_size_mib=1025, pixie_image_binfmt="no-such")
    run = run_playbook("image.yml", own_tmp / "runs", values, timeout=3000)
    assert run.rc != 0
    assert 'Preparing the image failed at "Enable the handler (update-binfmts)"' in run.failure(), run
    assert leftovers(own_tmp / "work") == ([], [])
