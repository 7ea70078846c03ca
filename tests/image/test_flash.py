"""playbooks/flash.yml end to end against an .img target and loop devices.

The image is the synthetic STAND-IN for Ubuntu's preinstalled raspi image
(make-synthetic-image.sh --minimal: same partition layout and boot files,
no real root filesystem), served from loopback HTTP with its SHA256SUMS.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml
from image_support import IMAGE_NAME, TEST_KEY, ext4_label, mtype, partitions, root_disk, run_playbook

WANT_TOKENS = [
    "isolcpus=domain,managed_irq,3",
    "nohz_full=3",
    "rcu_nocbs=3",
    "irqaffinity=0,1,2",
    "cgroup_enable=memory",
    "panic=10",
]
UBUNTU_TOKENS = (
    "console=serial0,115200 multipath=off dwc_otg.lpm_enable=0 console=tty1 "
    "root=LABEL=writable rootfstype=ext4 rootwait fixrtc"
).split()


def base_vars(server, tmp: Path, **over) -> dict:
    values = {
        "pixie_sdcard_mirror": f"{server.url}/releases",
        "pixie_sdcard_cache_dir": str(tmp / "cache"),
        "pixie_sdcard_target": str(tmp / "out" / "pixie-7.img"),
        "pixie_sdcard_hostname": "pixie-7",
        "pixie_sdcard_ssh_keys": [TEST_KEY],
        "pixie_sdcard_timezone": "Europe/Berlin",
        "pixie_sdcard_wifi_ssid": "Pixie Net",
        "pixie_sdcard_wifi_password": "correct horse battery",
        "pixie_sdcard_wifi_country": "DE",
    }
    values.update(over)
    (tmp / "out").mkdir(parents=True, exist_ok=True)
    return values


@pytest.fixture(scope="module")
def flashed(minimal_release, tmp_path_factory):
    """One flash.yml run onto a fresh .img file, and a second identical run."""
    _, server = minimal_release
    tmp = tmp_path_factory.mktemp("flash")
    values = base_vars(server, tmp)
    first = run_playbook("flash.yml", tmp / "runs", values)
    assert first.rc == 0, first
    downloads_after_first = server.requests.count(f"/releases/24.04/release/{IMAGE_NAME}")
    second = run_playbook("flash.yml", tmp / "runs", values)
    return {
        "tmp": tmp,
        "vars": values,
        "first": first,
        "second": second,
        "server": server,
        "downloads_after_first": downloads_after_first,
        "image": Path(values["pixie_sdcard_target"]),
    }


def fat_offset(image) -> int:
    return partitions(image)[0]["start"]


def test_newest_point_release_downloaded_once_into_cache(flashed):
    cache = flashed["tmp"] / "cache"
    assert (cache / IMAGE_NAME).is_file()  # 24.04.3, not the 24.04.2 also listed
    assert [p.name for p in cache.glob("ubuntu-*")] == [IMAGE_NAME]
    assert flashed["downloads_after_first"] == 1
    assert flashed["server"].requests.count(f"/releases/24.04/release/{IMAGE_NAME}") == 1  # not again on run 2


def test_image_written_with_both_partitions(flashed):
    image = flashed["image"]
    parts = partitions(image)
    assert [p["type"] for p in parts] == ["c", "83"]
    assert ext4_label(image, parts[1]["start"]) == "writable"
    assert "PIXIE-STAND-IN" in mtype(image, parts[0]["start"], "STANDIN.TXT")


def test_cmdline_is_one_line_with_isolation_tokens(flashed):
    text = mtype(flashed["image"], fat_offset(flashed["image"]), "cmdline.txt")
    lines = text.splitlines()
    assert len(lines) == 1, text
    tokens = lines[0].split()
    assert tokens[: len(UBUNTU_TOKENS)] == UBUNTU_TOKENS  # Ubuntu's tokens kept, in order
    assert tokens[len(UBUNTU_TOKENS) :] == WANT_TOKENS
    assert not any(t.startswith("isolcpu=") for t in tokens)


def test_config_txt_audio_off_bluetooth_off_gpu_ram_back(flashed):
    text = mtype(flashed["image"], fat_offset(flashed["image"]), "config.txt")
    assert "dtparam=audio=on" not in text
    assert text.count("dtparam=audio=off") == 1
    assert "# BEGIN PIXIE BLUETOOTH (managed by Ansible)\n[all]\ndtoverlay=disable-bt\n" in text
    assert "# BEGIN PIXIE GPU MEMORY (managed by Ansible)\n[all]\ngpu_mem=16\n" in text
    assert not [line for line in text.splitlines() if line.startswith("dtoverlay=vc4-kms-v3d")]
    assert "kernel=vmlinuz" in text  # the rest of Ubuntu's file is intact


def test_user_data(flashed):
    text = mtype(flashed["image"], fat_offset(flashed["image"]), "user-data")
    assert text.startswith("#cloud-config\n")
    data = yaml.safe_load(text)
    assert data["hostname"] == "pixie-7"
    assert data["timezone"] == "Europe/Berlin"
    assert data["ssh_pwauth"] is False
    assert data["ssh_deletekeys"] is False  # a re-seed keeps the host keys known_hosts has
    (user,) = data["users"]
    assert user["name"] == "ubuntu"
    assert user["ssh_authorized_keys"] == [TEST_KEY]
    assert user["lock_passwd"] is True
    assert "sudo" in user["groups"]
    assert {"python3", "python3-apt"} <= set(data["packages"])
    assert any("blacklist snd_bcm2835" in f["content"] for f in data["write_files"])


def test_user_data_passes_cloud_inits_schema(flashed, cloud_init_schemas):
    """user-data as `cloud-init schema` validates it: against the JSON schema cloud-init ships.

    (network-config is not: on Ubuntu cloud-init hands netplan v2 to netplan as is, and its own
    network v2 schema, for systems without netplan, has no `wifis`.)"""
    schema = json.loads((cloud_init_schemas / "schema-cloud-config-v1.json").read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    user_data = yaml.safe_load(mtype(flashed["image"], fat_offset(flashed["image"]), "user-data"))
    assert [e.message for e in validator.iter_errors(user_data)] == []
    # the check can fail: a string where cloud-init wants a boolean
    broken = user_data | {"users": [user_data["users"][0] | {"lock_passwd": "yes"}]}
    assert list(validator.iter_errors(broken))


def test_network_config_wifi_and_regulatory_domain(flashed):
    data = yaml.safe_load(mtype(flashed["image"], fat_offset(flashed["image"]), "network-config"))
    net = data["network"]
    assert net["version"] == 2
    assert net["ethernets"]["eth0"]["dhcp4"] is True
    wlan = net["wifis"]["wlan0"]
    assert wlan["access-points"] == {"Pixie Net": {"password": "correct horse battery"}}
    assert wlan["regulatory-domain"] == "DE"
    # the passphrase never reaches the log
    assert "correct horse battery" not in flashed["first"].proc.stdout


def test_meta_data_instance_id(flashed):
    data = yaml.safe_load(mtype(flashed["image"], fat_offset(flashed["image"]), "meta-data"))
    assert data["instance-id"].startswith("iid-pixie-7-")
    assert data["local-hostname"] == "pixie-7"


def test_second_run_changes_nothing(flashed):
    second = flashed["second"]
    assert second.rc == 0, second
    assert second.changed == 0, second.changed_tasks()


def test_inventory_line_printed(flashed):
    assert "pixie-7: {ansible_host: pixie-7.local," in flashed["first"].proc.stdout


def test_reseed_new_hostname_and_inventory_file(flashed):
    tmp = flashed["tmp"]
    inventory = tmp / "flashed.yml"
    values = dict(
        flashed["vars"],
        pixie_sdcard_hostname="pixie-8",
        pixie_sdcard_wifi_ssid="",
        pixie_sdcard_inventory_file=str(inventory),
    )
    image = flashed["image"]
    old_id = yaml.safe_load(mtype(image, fat_offset(image), "meta-data"))["instance-id"]
    inode = image.stat().st_ino
    # what site.yml leaves on a card after its first boot (pixie_boot_cloud_init: false)
    booted = tmp / "cmdline.txt"
    booted.write_text(mtype(image, fat_offset(image), "cmdline.txt").strip() + " cloud-init=disabled\n")
    mcopy = ["mcopy", "-o", "-i", f"{image}@@{fat_offset(image)}", str(booted), "::cmdline.txt"]
    subprocess.run(mcopy, check=True, env=dict(os.environ, MTOOLS_SKIP_CHECK="1"))
    run = run_playbook("flash.yml", tmp / "runs", values)
    assert run.rc == 0, run
    assert image.stat().st_ino == inode  # existing .img kept (pixie_sdcard_overwrite=false)
    meta = yaml.safe_load(mtype(image, fat_offset(image), "meta-data"))
    assert meta["instance-id"] != old_id and meta["instance-id"].startswith("iid-pixie-8-")
    assert "wifis" not in yaml.safe_load(mtype(image, fat_offset(image), "network-config"))["network"]
    cmdline = mtype(image, fat_offset(image), "cmdline.txt")
    assert cmdline.split()[len(UBUNTU_TOKENS) :] == WANT_TOKENS  # not added twice, cloud-init on again
    inv = yaml.safe_load(inventory.read_text())
    assert inv["all"]["children"]["displays"]["hosts"]["pixie-8"] == {
        "ansible_host": "pixie-8.local",
        "ansible_user": "ubuntu",
        "pixie_board": "pi3",  # flash.yml seeds the board (default pi3)
    }
    again = run_playbook("flash.yml", tmp / "runs", values)
    assert again.rc == 0 and again.changed == 0, again.changed_tasks()


def test_read_only_root_adds_data_partition_at_the_end(minimal_release, tmp_path):
    """pixie_storage_readonly_root: the .img grows by 64 MiB, which partition 3 (ext4 pixie-data) takes."""
    _, server = minimal_release
    values = base_vars(server, tmp_path, pixie_storage_readonly_root=True)
    run = run_playbook("flash.yml", tmp_path / "runs", values)
    assert run.rc == 0, run
    image = Path(values["pixie_sdcard_target"])
    boot, root, data = partitions(image)
    image_end = root["start"] + root["size"]  # the synthetic image's root fills it
    assert (data["start"], data["size"], data["type"]) == (image_end, 64 << 20, "83")
    assert image.stat().st_size == data["start"] + data["size"]  # the card's end
    assert ext4_label(image, data["start"]) == "pixie-data"
    assert ext4_label(image, root["start"]) == "writable"
    again = run_playbook("flash.yml", tmp_path / "runs", values)
    assert again.rc == 0 and again.changed == 0, again.changed_tasks()
    assert len(partitions(image)) == 3


def test_check_mode_writes_nothing(minimal_release, tmp_path):
    _, server = minimal_release
    values = base_vars(server, tmp_path)
    run = run_playbook("flash.yml", tmp_path / "runs", values, "--check")
    assert run.rc == 0, run
    assert not Path(values["pixie_sdcard_target"]).exists()
    assert not list((tmp_path / "cache").glob("*.img*"))


def test_checksum_mismatch_fails_and_deletes_download(minimal_release, tmp_path):
    releases, _ = minimal_release
    bad = tmp_path / "bad"
    folder = bad / "releases" / "24.04" / "release"
    folder.mkdir(parents=True)
    shutil.copy(releases / "24.04" / "release" / IMAGE_NAME, folder / IMAGE_NAME)
    (folder / "SHA256SUMS").write_text(f"{'ab' * 32} *{IMAGE_NAME}\n")
    from image_support import Server

    server = Server(bad)
    try:
        run = run_playbook("flash.yml", tmp_path / "runs", base_vars(server, tmp_path))
    finally:
        server.close()
    assert run.rc != 0
    assert "did not match sha256" in run.failure(), run
    assert not list((tmp_path / "cache").glob("ubuntu-*")), list((tmp_path / "cache").iterdir())
    assert not (tmp_path / "out" / "pixie-7.img").exists()


@pytest.mark.parametrize(
    ("override", "variable"),
    [
        ({"pixie_sdcard_ssh_keys": []}, "pixie_sdcard_ssh_keys"),
        ({"pixie_sdcard_ssh_keys": ["not a key"]}, "pixie_sdcard_ssh_keys"),
        ({"pixie_sdcard_target": "/tmp/pixie-card.txt"}, "pixie_sdcard_target"),
        ({"pixie_sdcard_target": ""}, "pixie_sdcard_target"),
        ({"pixie_sdcard_wifi_country": "Germany"}, "pixie_sdcard_wifi_country"),
        ({"pixie_sdcard_wifi_password": "short"}, "pixie_sdcard_wifi_password"),
        ({"pixie_sdcard_hostname": "pixie_1"}, "pixie_sdcard_hostname"),
        ({"pixie_boot_irqaffinity": "0-3"}, "pixie_boot_irqaffinity"),
        ({"pixie_sdcard_data_mib": -1}, "pixie_sdcard_data_mib"),
        ({"pixie_sdcard_data_mib": "lots"}, "pixie_sdcard_data_mib"),
        ({"pixie_sdcard_data_mib": 1.5}, "pixie_sdcard_data_mib"),
    ],
)
def test_bad_input_names_the_variable(minimal_release, tmp_path, override, variable):
    _, server = minimal_release
    run = run_playbook("flash.yml", tmp_path / "runs", base_vars(server, tmp_path, **override))
    assert run.rc != 0
    assert variable in run.failure(), run
    assert not (tmp_path / "out" / "pixie-7.img").exists()


# --- block devices: loop devices stand in for the SD card reader (root only) ---


@pytest.fixture
def loopdev(minimal_release, tmp_path):
    """A loop device over a copy of the synthetic image, partitions scanned."""
    releases, _ = minimal_release
    backing = tmp_path / "card.img"
    with open(backing, "wb") as out:
        subprocess.run(["xz", "-dc", str(releases / "24.04" / "release" / IMAGE_NAME)], stdout=out, check=True)
    dev = subprocess.run(
        ["losetup", "--find", "--show", "--partscan", str(backing)], capture_output=True, text=True, check=True
    ).stdout.strip()
    made = []
    # without udev (containers) the kernel's partition nodes are not created: make them
    for part in sorted(Path("/sys/block", Path(dev).name).glob(f"{Path(dev).name}p*")):
        node = Path("/dev", part.name)
        if not node.exists():
            major, minor = (int(x) for x in (part / "dev").read_text().split(":"))
            os.mknod(node, 0o660 | stat.S_IFBLK, os.makedev(major, minor))
            made.append(node)
    mounted = []
    yield dev, mounted
    for m in mounted:
        subprocess.run(["umount", m], check=False)
    subprocess.run(["losetup", "-d", dev], check=False)
    for node in made:
        node.unlink(missing_ok=True)


@pytest.mark.root
def test_refuses_controller_root_disk(minimal_release, tmp_path):
    _, server = minimal_release
    disk = root_disk()
    if not disk:
        pytest.skip("root filesystem is not on a local disk")
    # pixie_sdcard_write=false: even a broken check could not write to it
    values = base_vars(server, tmp_path, pixie_sdcard_target=disk, pixie_sdcard_force=True, pixie_sdcard_write=False)
    run = run_playbook("flash.yml", tmp_path / "runs", values)
    assert run.rc != 0
    assert "pixie_sdcard_target" in run.failure() and "root disk" in run.failure(), run


@pytest.mark.root
def test_refuses_mounted_device(minimal_release, tmp_path):
    """A card whose filesystem is mounted (here: a loop device holding one ext4 filesystem)."""
    _, server = minimal_release
    backing = tmp_path / "card.img"
    subprocess.run(["truncate", "-s", "40M", str(backing)], check=True)
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext4", str(backing)], check=True, capture_output=True)
    dev = subprocess.run(
        ["losetup", "--find", "--show", str(backing)], capture_output=True, text=True, check=True
    ).stdout.strip()
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    try:
        subprocess.run(["mount", "-o", "ro", dev, str(mnt)], check=True)
        try:
            values = base_vars(
                server, tmp_path, pixie_sdcard_target=dev, pixie_sdcard_force=True, pixie_sdcard_write=False
            )
            run = run_playbook("flash.yml", tmp_path / "runs", values)
        finally:
            subprocess.run(["umount", str(mnt)], check=False)
    finally:
        subprocess.run(["losetup", "-d", dev], check=False)
    assert run.rc != 0
    assert "pixie_sdcard_target" in run.failure() and f"mounted at {mnt}" in run.failure(), run


@pytest.mark.root
def test_refuses_partition_and_non_removable(minimal_release, tmp_path, loopdev):
    _, server = minimal_release
    dev, _ = loopdev
    run = run_playbook("flash.yml", tmp_path / "runs", base_vars(server, tmp_path, pixie_sdcard_target=dev))
    assert run.rc != 0, run
    assert "not a removable device" in run.failure() and "pixie_sdcard_force=true" in run.failure(), run
    if not Path(f"{dev}p1").exists():
        pytest.skip("this kernel does not scan loop partitions: partition case not tested")
    run = run_playbook(
        "flash.yml",
        tmp_path / "runs",
        base_vars(server, tmp_path, pixie_sdcard_target=f"{dev}p1", pixie_sdcard_force=True),
    )
    assert run.rc != 0 and "not a whole disk" in run.failure(), run


@pytest.mark.root
def test_forced_write_to_block_device(minimal_release, tmp_path, loopdev):
    _, server = minimal_release
    dev, _ = loopdev
    # wipe the partition table so the image really has to be written
    subprocess.run(
        ["dd", "if=/dev/zero", f"of={dev}", "bs=1M", "count=2", "conv=fsync"], check=True, capture_output=True
    )
    values = base_vars(server, tmp_path, pixie_sdcard_target=dev, pixie_sdcard_force=True)
    run = run_playbook("flash.yml", tmp_path / "runs", values)
    assert run.rc == 0, run
    cmdline = mtype(dev, fat_offset(dev), "cmdline.txt")
    assert cmdline.split()[len(UBUNTU_TOKENS) :] == WANT_TOKENS
    assert yaml.safe_load(mtype(dev, fat_offset(dev), "user-data"))["hostname"] == "pixie-7"
