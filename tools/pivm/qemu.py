"""QEMU: the accelerator to use, the command line of one boot, and the QMP events that say why it ended."""

from __future__ import annotations

import fcntl
import json
import os
import socket
import subprocess
import threading
import time
from pathlib import Path

from pivm import arch
from pivm.state import VmState


def kvm_usable() -> bool:
    """True when /dev/kvm can create a VM (KVM_GET_API_VERSION + KVM_CREATE_VM)."""
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        if fcntl.ioctl(fd, 0xAE00) != 12:  # KVM_GET_API_VERSION
            return False
        vm = fcntl.ioctl(fd, 0xAE01, 0)  # KVM_CREATE_VM
        os.close(vm)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def choose_accel(arch_name: str, wanted: str) -> str:
    if wanted in ("kvm", "tcg"):
        return wanted
    if arch.get(arch_name).kvm_possible and kvm_usable():
        return "kvm"
    return "tcg"


def qemu_command(state: VmState, accel: str, append: str, memory: int) -> list[str]:
    a = arch.get(state.arch)
    wd = Path(state.workdir)
    accel_opt = "kvm" if accel == "kvm" else "tcg,thread=multi"
    fwd = f"hostfwd=tcp:127.0.0.1:{state.ssh_port}-:22,hostfwd=tcp:127.0.0.1:{state.http_port}-:{state.guest_http_port}"
    fwd += "".join(f",hostfwd=udp:127.0.0.1:{host}-:{guest}" for guest, host in state.udp_forwards.items())
    return [
        a.qemu,
        "-name",
        f"{state.name},debug-threads=on",
        "-machine",
        a.machine,
        "-accel",
        accel_opt,
        "-cpu",
        arch.cpu(a, accel, state.board),
        "-smp",
        str(state.cpus),
        "-m",
        str(memory),
        "-nodefaults",
        "-no-user-config",
        "-display",
        "none",
        "-kernel",
        str(wd / "boot" / "vmlinuz"),
        "-initrd",
        str(wd / "boot" / "initrd.img"),
        "-append",
        append,
        # cache=unsafe: the guest's flushes are not passed on (a throw-away
        # disk; dpkg fsyncs a lot).  Writes still reach the host page cache,
        # so the firmware sees cmdline.txt as soon as QEMU has exited.
        "-drive",
        f"file={wd / 'disk.img'},format=raw,if=none,id=hd0,cache=unsafe,discard=unmap",
        "-device",
        "virtio-blk-pci,drive=hd0",
        "-netdev",
        f"user,id=net0,{fwd}",
        "-device",
        "virtio-net-pci,netdev=net0",
        "-device",
        "virtio-rng-pci",
        "-chardev",
        f"file,id=ser0,path={wd / 'console.log'},append=on",
        "-serial",
        "chardev:ser0",
        "-qmp",
        f"unix:{wd / 'qmp.sock'},server=on,wait=off",
        "-pidfile",
        str(wd / "qemu.pid"),
        "-no-reboot",
    ]


class QmpWatcher(threading.Thread):
    """Reads QMP events; remembers the reason of the last SHUTDOWN event."""

    def __init__(self, sock_path: Path, proc: subprocess.Popen):
        super().__init__(daemon=True)
        self.sock_path = sock_path
        self.proc = proc
        self.reason: str | None = None

    def run(self) -> None:
        deadline = time.monotonic() + 60
        sock = None
        while self.proc.poll() is None and time.monotonic() < deadline:
            try:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.connect(str(self.sock_path))
                break
            except OSError:
                sock.close()
                sock = None
                time.sleep(0.1)
        if sock is None:
            return
        try:
            f = sock.makefile("rwb", buffering=0)
            f.readline()  # greeting
            f.write(b'{"execute": "qmp_capabilities"}\n')
            for line in f:
                try:
                    msg = json.loads(line)
                except ValueError:
                    continue
                if msg.get("event") == "SHUTDOWN":
                    self.reason = (msg.get("data") or {}).get("reason", "unknown")
        except OSError:
            pass
        finally:
            sock.close()
