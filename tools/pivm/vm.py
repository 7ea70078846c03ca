"""The VM's life cycle as `up`, `status`, `powercut`, `wait_ssh` and `down`, each returning what the CLI prints."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import asdict
from pathlib import Path

from ansible_collections.pixie.appliance.plugins.module_utils import data_partition

from pivm import PivmError, arch, log
from pivm.disk import boot_partition_offset, copy_sparse, fat_write
from pivm.qemu import choose_accel
from pivm.state import VmState, pid_alive, read_pid
from pivm.supervisor import start_detached

BUILD_IMAGE = Path(__file__).resolve().parents[2] / "molecule" / "shared" / "build-image.sh"
# What a new `up` must not find from the last VM in the same workdir.
STALE = ("console.log", "boots.jsonl", "qemu.log", "supervisor.log", "qemu.pid", "qmp.sock")


def nocloud_seed(instance_id: str, hostname: str, user: str, authorized_key: str | None) -> dict[str, bytes]:
    """cloud-init's NoCloud seed for the boot partition's root, as flash.yml seeds a card.

    A new instance id per VM, so cloud-init treats each VM's first boot as a first boot."""
    meta = f"instance-id: {instance_id}\nlocal-hostname: {hostname}\n"
    account = {"name": user, "lock_passwd": True, "shell": "/bin/bash"}
    if authorized_key:
        account["ssh_authorized_keys"] = [authorized_key]
    user_data = "#cloud-config\n" + json.dumps(
        {"users": [account], "hostname": hostname, "manage_etc_hosts": True, "ssh_pwauth": False}, indent=1
    )
    return {"meta-data": meta.encode(), "user-data": (user_data + "\n").encode()}


def build_base(arch_name: str) -> Path:
    out = subprocess.run([str(BUILD_IMAGE), "--arch", arch_name], stdout=subprocess.PIPE, check=True)
    return Path(out.stdout.decode().strip().splitlines()[-1])


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status(workdir: Path) -> dict:
    st = asdict(VmState.load(workdir))
    st["supervisor_alive"] = pid_alive(st["supervisor_pid"])
    qpid = read_pid(workdir / "qemu.pid")
    st["qemu_pid"] = qpid
    st["qemu_alive"] = pid_alive(qpid)
    boots = []
    if (workdir / "boots.jsonl").exists():
        boots = [json.loads(line) for line in (workdir / "boots.jsonl").read_text().splitlines() if line.strip()]
    st["boots"] = sum(1 for b in boots if b["event"] == "start")
    return st


def up(
    name: str,
    workdir: Path,
    arch_name: str = "amd64",
    base: Path | None = None,
    cpus: int = 4,
    memory: int = 2048,
    board: str = "pi3",
    accel: str = "auto",
    ssh_port: int = 0,
    http_port: int = 0,
    guest_http_port: int = 5000,
    udp_guest_ports: tuple[int, ...] = (),
    user: str = "ubuntu",
    hostname: str | None = None,
    authorized_key: Path | None = None,
    identity_file: Path | None = None,
    data_mib: int = 0,
) -> dict:
    """A fresh disk from the base image, seeded; the supervisor started; returns once QEMU runs.

    data_mib: the read-only root's data partition appended to the disk (as flash.yml does on a card)."""
    a = arch.get(arch_name)
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    if (workdir / "state.json").exists():
        old = VmState.load(workdir)
        if pid_alive(old.supervisor_pid):
            log(f"{old.name} already running")
            return status(workdir)
    if not shutil.which(a.qemu):
        raise PivmError(f"missing {a.qemu}")
    base = base or build_base(a.name)
    t0 = time.time()
    disk = workdir / "disk.img"
    copy_sparse(base, disk)
    if data_mib:
        try:
            data_partition.ensure(str(disk), data_mib, at="end", grow_file=True)
        except data_partition.DataPartitionError as e:
            raise PivmError(str(e)) from e
    t_copy = time.time() - t0
    key = authorized_key.read_text().strip() if authorized_key else None
    fat_write(disk, boot_partition_offset(disk), nocloud_seed(f"{name}-{int(t0)}", hostname or name, user, key))
    for stale in STALE:
        (workdir / stale).unlink(missing_ok=True)
    state = VmState(
        name=name,
        arch=a.name,
        workdir=str(workdir),
        base=str(base),
        cpus=cpus,
        memory=memory,
        accel=choose_accel(a.name, accel),
        address="127.0.0.1",
        ssh_port=ssh_port or free_port(),
        http_port=http_port or free_port(),
        guest_http_port=guest_http_port,
        user=user,
        identity_file=str(identity_file.resolve()) if identity_file else None,
        overlay_copy_seconds=round(t_copy, 2),
        started=time.time(),
        udp_forwards={str(port): free_port(socket.SOCK_DGRAM) for port in udp_guest_ports},
        board=board,
    )
    state.save()
    sup = start_detached(workdir)
    state.supervisor_pid = sup.pid
    state.save()
    # QEMU must be up (pid file written) before we report success.
    deadline = time.time() + 60
    while time.time() < deadline:
        if sup.poll() is not None:
            logs = [workdir / "supervisor.log", workdir / "qemu.log"]
            raise PivmError(
                "".join(p.read_text() for p in logs if p.exists()) + f"supervisor exited early (rc={sup.returncode})"
            )
        if pid_alive(read_pid(workdir / "qemu.pid")):
            return status(workdir)
        time.sleep(0.2)
    raise PivmError(f"QEMU did not start within 60 s; see {workdir / 'qemu.log'}")


def powercut(workdir: Path) -> dict:
    st = status(workdir)
    if not (st["supervisor_alive"] and st["qemu_alive"]):
        raise PivmError(f"the VM in {workdir} is not running")
    os.kill(st["supervisor_pid"], signal.SIGUSR1)
    return {"workdir": str(workdir), "power_cut": True, "boots_before": st["boots"]}


def down(workdir: Path, timeout: float = 30, purge: bool = False) -> dict:
    result = {"workdir": str(workdir), "stopped": False}
    if (workdir / "state.json").exists():
        sup = VmState.load(workdir).supervisor_pid
        qpid = read_pid(workdir / "qemu.pid")
        if pid_alive(sup):
            os.kill(sup, signal.SIGTERM)
        deadline = time.time() + timeout
        while time.time() < deadline and (pid_alive(sup) or pid_alive(qpid)):
            time.sleep(0.2)
        for pid in (qpid, sup):
            if pid_alive(pid):
                log(f"killing {pid}")
                os.kill(pid, signal.SIGKILL)
        result["stopped"] = True
    for name in ("disk.img", "disk.img.tmp", "qmp.sock", "qemu.pid"):
        (workdir / name).unlink(missing_ok=True)
    shutil.rmtree(workdir / "boot", ignore_errors=True)
    if purge:
        shutil.rmtree(workdir, ignore_errors=True)
    return result


def ssh_banner(port: int, host: str = "127.0.0.1", timeout: float = 5) -> bool:
    # With QEMU user networking the host side accepts the TCP connection even
    # when nothing listens in the guest, so only the banner proves sshd is up.
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.settimeout(timeout)
            return s.recv(64).startswith(b"SSH-")
    except OSError:
        return False


def wait_ssh(workdir: Path, timeout: float = 600) -> dict:
    st = VmState.load(workdir)
    t0 = time.time()
    while time.time() - t0 < timeout:
        if ssh_banner(st.ssh_port):
            now = time.time()
            return {"ssh": True, "waited": round(now - t0, 1), "since_start": round(now - st.started, 1)}
        time.sleep(1)
    return {"ssh": False, "waited": round(time.time() - t0, 1)}
