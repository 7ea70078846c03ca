#!/usr/bin/env python3
"""Pixie test VM launcher: QEMU behind an emulated Raspberry Pi firmware.

The Pi's firmware reads config.txt and cmdline.txt from the FAT boot partition
and starts the kernel named there with that command line.  This launcher does
the same for a QEMU VM every time the VM (re)starts:

  1. read the MBR of the VM's disk, find partition 1 (FAT, system-boot);
  2. with mtools (no mounts), read config.txt (kernel=, cmdline=, initramfs
     ... followkernel, in the [all] and [pi3] sections), the command line
     file (first line only, as the Pi firmware does), the kernel and the
     initramfs;
  3. start QEMU with -kernel/-initrd/-append, -no-reboot and a QMP socket;
  4. when QEMU exits, a SHUTDOWN event with reason "guest-reset" means the
     guest rebooted: go to 1, so whatever a playbook wrote to cmdline.txt
     takes effect on that boot.  Any other exit (guest power-off, `down`)
     ends the supervisor.

`console=serial0,...` in cmdline.txt is the Pi firmware's alias for the
primary UART; it is replaced by the VM's serial port (ttyS0 on x86, ttyAMA0 on
arm virt), appended last so it is /dev/console.  Everything else is passed
through unchanged (root=LABEL=writable, isolcpus=..., ...).

Sub-commands (all print JSON on stdout):
  up        make the VM's disk (sparse copy of the base image), seed SSH key +
            hostname onto its boot partition, start the supervisor detached
  run       the supervisor itself (foreground; `up` starts it)
  down      stop supervisor and QEMU, delete the disk
  powercut  kill QEMU without a shutdown (a power cut); the supervisor boots
            the disk again as it was left
  status    state + whether supervisor/QEMU are alive
  wait-ssh  wait for the SSH banner on the forwarded port
  firmware  show what the firmware would boot from a disk image
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

ARCHES = {
    "amd64": {
        "qemu": "qemu-system-x86_64",
        "machine": "q35",
        "cpu_tcg": "max",
        "cpu_kvm": "host",
        "serial": "ttyS0",
        "kvm_possible": os.uname().machine == "x86_64",
    },
    "arm64": {
        "qemu": "qemu-system-aarch64",
        "machine": "virt",
        # The Pi 3's core.  Also faster under TCG than "max" (no pointer auth).
        "cpu_tcg": "cortex-a53",
        "cpu_kvm": "host",
        "serial": "ttyAMA0",
        "kvm_possible": os.uname().machine == "aarch64",
    },
}
ARCH_ALIASES = {"x86_64": "amd64", "aarch64": "arm64"}

# Sections of config.txt the firmware of a Raspberry Pi 3 applies.
PI_SECTIONS = {"all", "pi3"}


def log(msg: str) -> None:
    print(f"[pixievm {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Disk + firmware emulation
# --------------------------------------------------------------------------


def mbr_partitions(disk: Path) -> list[dict]:
    """Primary partitions from the MBR: [{'index', 'type', 'offset', 'size'}]."""
    with open(disk, "rb") as f:
        mbr = f.read(512)
    if len(mbr) < 512 or mbr[510:512] != b"\x55\xaa":
        raise SystemExit(f"{disk}: no MBR partition table")
    parts = []
    for i in range(4):
        entry = mbr[446 + 16 * i : 446 + 16 * (i + 1)]
        ptype = entry[4]
        start, sectors = struct.unpack_from("<II", entry, 8)
        if ptype == 0 or sectors == 0:
            continue
        if ptype == 0xEE:
            raise SystemExit(f"{disk}: GPT disks are not supported (the Pi images use MBR)")
        parts.append({"index": i + 1, "type": ptype, "offset": start * 512, "size": sectors * 512})
    return parts


def boot_partition_offset(disk: Path) -> int:
    parts = mbr_partitions(disk)
    if not parts or parts[0]["index"] != 1 or parts[0]["type"] not in (0x0B, 0x0C, 0x0E, 0x06):
        raise SystemExit(f"{disk}: partition 1 is not a FAT partition: {parts}")
    return parts[0]["offset"]


def _mtools_env() -> dict:
    env = dict(os.environ)
    env["MTOOLS_SKIP_CHECK"] = "1"
    return env


def fat_read(disk: Path, offset: int, name: str) -> bytes | None:
    r = subprocess.run(
        ["mtype", "-i", f"{disk}@@{offset}", f"::{name}"],
        capture_output=True,
        env=_mtools_env(),
    )
    if r.returncode != 0:
        return None
    return r.stdout


def fat_copy_out(disk: Path, offset: int, name: str, dest: Path) -> bool:
    tmp = dest.with_name(dest.name + ".tmp")
    r = subprocess.run(
        ["mcopy", "-n", "-o", "-i", f"{disk}@@{offset}", f"::{name}", str(tmp)],
        capture_output=True,
        env=_mtools_env(),
    )
    if r.returncode != 0 or not tmp.exists():
        tmp.unlink(missing_ok=True)
        return False
    tmp.replace(dest)
    return True


def fat_write(disk: Path, offset: int, files: dict[str, bytes], directory: str = "") -> None:
    """Write files into the FAT (optionally into a sub-directory), no mounting."""
    img = f"{disk}@@{offset}"
    env = _mtools_env()
    if directory:
        subprocess.run(["mmd", "-D", "s", "-i", img, f"::{directory}"], capture_output=True, env=env)
    with _tempdir() as td:
        for name, data in files.items():
            src = Path(td) / name
            src.write_bytes(data)
            target = f"::{directory}/{name}" if directory else f"::{name}"
            subprocess.run(["mcopy", "-o", "-i", img, str(src), target], check=True, env=env)


class _tempdir:
    def __enter__(self):
        import tempfile

        self.path = tempfile.mkdtemp(prefix="pixievm-")
        return self.path

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)


def parse_config_txt(text: str) -> dict:
    """The bits of config.txt a Pi 3 firmware uses to find kernel + cmdline."""
    cfg = {"kernel": "vmlinuz", "cmdline": "cmdline.txt", "initramfs": "initrd.img"}
    active = True
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            active = line[1:-1].strip().lower() in PI_SECTIONS
            continue
        if not active:
            continue
        if line.startswith("initramfs ") or line.startswith("initramfs\t"):
            parts = line.split()
            if len(parts) >= 2:
                cfg["initramfs"] = parts[1]
            continue
        if "=" in line:
            key, value = (s.strip() for s in line.split("=", 1))
            if key in ("kernel", "cmdline"):
                cfg[key] = value
    return cfg


def kernel_cmdline(cmdline_txt: str, arch: str) -> str:
    """cmdline.txt -> -append: first line only; console=serial0 -> VM's UART, last."""
    first = cmdline_txt.splitlines()[0] if cmdline_txt.strip() else ""
    serial = ARCHES[arch]["serial"]
    tokens = []
    for tok in first.split():
        if tok.startswith("console=serial") or tok.startswith(f"console={serial}"):
            continue
        tokens.append(tok)
    tokens.append(f"console={serial},115200")
    return " ".join(tokens)


def read_firmware(disk: Path, arch: str, bootdir: Path | None = None) -> dict:
    """What the Pi firmware would boot from this disk; copies kernel+initrd to bootdir."""
    offset = boot_partition_offset(disk)
    config_raw = fat_read(disk, offset, "config.txt")
    cfg = parse_config_txt(config_raw.decode("utf-8", "replace") if config_raw else "")
    cmdline_raw = fat_read(disk, offset, cfg["cmdline"])
    if cmdline_raw is None:
        raise SystemExit(f"{disk}: no {cfg['cmdline']} on the boot partition")
    text = cmdline_raw.decode("utf-8", "replace")
    fw = {
        "boot_partition_offset": offset,
        "config": cfg,
        "cmdline_txt": text,
        "cmdline_lines": len(text.splitlines()),
        "append": kernel_cmdline(text, arch),
    }
    if bootdir is not None:
        bootdir.mkdir(parents=True, exist_ok=True)
        for key, dest in (("kernel", "vmlinuz"), ("initramfs", "initrd.img")):
            target = bootdir / dest
            if not fat_copy_out(disk, offset, cfg[key], target):
                raise SystemExit(f"{disk}: cannot read {cfg[key]} from the boot partition")
            fw[key + "_bytes"] = target.stat().st_size
    return fw


# --------------------------------------------------------------------------
# Acceleration
# --------------------------------------------------------------------------


def kvm_usable() -> bool:
    """True when /dev/kvm can create a VM (KVM_GET_API_VERSION + KVM_CREATE_VM)."""
    import fcntl

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


def choose_accel(arch: str, wanted: str) -> str:
    if wanted in ("kvm", "tcg"):
        return wanted
    if ARCHES[arch]["kvm_possible"] and kvm_usable():
        return "kvm"
    return "tcg"


# --------------------------------------------------------------------------
# QEMU command line + supervisor
# --------------------------------------------------------------------------


def qemu_command(state: dict, accel: str, fw: dict, boot_no: int) -> list[str]:
    a = ARCHES[state["arch"]]
    wd = Path(state["workdir"])
    cpu = a["cpu_kvm"] if accel == "kvm" else a["cpu_tcg"]
    accel_opt = "kvm" if accel == "kvm" else "tcg,thread=multi"
    fwd = f"hostfwd=tcp:127.0.0.1:{state['ssh_port']}-:22"
    if state.get("http_port"):
        fwd += f",hostfwd=tcp:127.0.0.1:{state['http_port']}-:{state.get('guest_http_port', 5000)}"
    return [
        a["qemu"],
        "-name",
        f"{state['name']},debug-threads=on",
        "-machine",
        a["machine"],
        "-accel",
        accel_opt,
        "-cpu",
        cpu,
        "-smp",
        str(state["cpus"]),
        "-m",
        str(state["memory"]),
        "-nodefaults",
        "-no-user-config",
        "-display",
        "none",
        "-kernel",
        str(wd / "boot" / "vmlinuz"),
        "-initrd",
        str(wd / "boot" / "initrd.img"),
        "-append",
        fw["append"],
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
        self.connected = threading.Event()

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
            self.connected.set()
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


KVM_PROBE_SECONDS = 20


def wait_for_console(path: Path, proc: subprocess.Popen, marker: bytes, seconds: float) -> bool:
    """Wait until `marker` shows up in the console log written after now."""
    start = path.stat().st_size if path.exists() else 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with open(path, "rb") as f:
                f.seek(start)
                if marker in f.read():
                    return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


def append_jsonl(path: Path, record: dict) -> None:
    with open(path, "a") as f:
        f.write(json.dumps(record) + "\n")


def supervise(workdir: Path) -> int:
    state = load_state(workdir)
    arch = state["arch"]
    stop = threading.Event()
    current: dict = {"proc": None}

    def on_signal(signum, _frame):
        stop.set()
        p = current["proc"]
        if p is not None and p.poll() is None:
            p.terminate()

    def on_power_cut(_signum, _frame):
        # `pixievm.py powercut`: pull the plug.  QEMU dies without the guest
        # syncing anything, and the firmware boots the disk as it was left.
        current["power_cut"] = True
        p = current["proc"]
        if p is not None and p.poll() is None:
            p.kill()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGUSR1, on_power_cut)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)

    accel = state["accel"]
    disk = workdir / "disk.img"
    boot_no = 0
    events = workdir / "boots.jsonl"
    while not stop.is_set():
        boot_no += 1
        t_fw = time.time()
        fw = read_firmware(disk, arch, workdir / "boot")
        t_start = time.time()
        cmd = qemu_command(state, accel, fw, boot_no)
        with open(workdir / "console.log", "a") as con:
            con.write(f"\n===== pixievm boot {boot_no} ({accel}) {time.strftime('%F %T')}: {fw['append']}\n")
        with open(workdir / "qemu.log", "a") as qlog:
            qlog.write(f"===== boot {boot_no}: {' '.join(cmd)}\n")
            qlog.flush()
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=qlog, stderr=qlog)
        current["proc"] = proc
        watcher = QmpWatcher(workdir / "qmp.sock", proc)
        watcher.start()
        log(f"boot {boot_no}: qemu pid {proc.pid} ({accel}), append: {fw['append']}")
        append_jsonl(
            events,
            {
                "event": "start",
                "boot": boot_no,
                "time": t_start,
                "accel": accel,
                "firmware_seconds": round(t_start - t_fw, 3),
                "append": fw["append"],
                "pid": proc.pid,
            },
        )
        kvm_failed = False
        if accel == "kvm" and boot_no == 1:
            # /dev/kvm can open and create a VM and still not run one (nested
            # virtualisation without the CPU features QEMU needs): QEMU either
            # aborts at once or hangs silently.  KVM counts as working once the
            # kernel has printed its banner on the serial console.
            if not wait_for_console(workdir / "console.log", proc, b"Linux version", KVM_PROBE_SECONDS):
                kvm_failed = not stop.is_set()
                if proc.poll() is None:
                    log(f"no kernel output within {KVM_PROBE_SECONDS} s under KVM; stopping this attempt")
                    proc.terminate()
        rc = proc.wait()
        watcher.join(timeout=5)
        reason = "power-cut" if current.pop("power_cut", False) else watcher.reason
        t_end = time.time()
        append_jsonl(
            events,
            {
                "event": "exit",
                "boot": boot_no,
                "time": t_end,
                "rc": rc,
                "reason": reason,
                "uptime": round(t_end - t_start, 1),
            },
        )
        log(f"boot {boot_no}: qemu exited rc={rc} reason={reason}")
        if stop.is_set():
            break
        if kvm_failed:
            log("KVM did not work here; falling back to TCG (software emulation)")
            accel = "tcg"
            state["accel"] = accel
            save_state(workdir, state)
            continue
        if reason in ("guest-reset", "power-cut"):
            continue  # the guest rebooted or lost power: re-read the firmware and boot again
        break
    (workdir / "qemu.pid").unlink(missing_ok=True)
    return 0


# --------------------------------------------------------------------------
# State + commands
# --------------------------------------------------------------------------


def load_state(workdir: Path) -> dict:
    return json.loads((workdir / "state.json").read_text())


def save_state(workdir: Path, state: dict) -> None:
    tmp = workdir / "state.json.tmp"
    tmp.write_text(json.dumps(state, indent=1) + "\n")
    tmp.replace(workdir / "state.json")


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie is not alive
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_base(arch: str) -> Path:
    out = subprocess.run([str(HERE / "build-image.sh"), "--arch", arch], stdout=subprocess.PIPE, check=True)
    return Path(out.stdout.decode().strip().splitlines()[-1])


def copy_sparse(src: Path, dst: Path) -> None:
    tmp = dst.with_name(dst.name + ".tmp")
    subprocess.run(["cp", "--sparse=always", "--reflink=auto", str(src), str(tmp)], check=True)
    tmp.replace(dst)


def cmd_up(args) -> int:
    arch = ARCH_ALIASES.get(args.arch, args.arch)
    workdir = Path(args.workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    if (workdir / "state.json").exists():
        old = load_state(workdir)
        if pid_alive(old.get("supervisor_pid")):
            print(json.dumps(status_of(workdir)))
            log(f"{old['name']} already running")
            return 0
    shutil.which(ARCHES[arch]["qemu"]) or sys.exit(f"missing {ARCHES[arch]['qemu']}")
    base = Path(args.base) if args.base else build_base(arch)
    t0 = time.time()
    disk = workdir / "disk.img"
    copy_sparse(base, disk)
    t_copy = time.time() - t0
    offset = boot_partition_offset(disk)
    seed = {"user": (args.user + "\n").encode(), "hostname": ((args.hostname or args.name) + "\n").encode()}
    if args.authorized_key:
        seed["authorized_keys"] = Path(args.authorized_key).read_bytes()
    fat_write(disk, offset, seed, directory="pixie-seed")
    for stale in ("console.log", "boots.jsonl", "qemu.log", "supervisor.log", "qemu.pid", "qmp.sock"):
        (workdir / stale).unlink(missing_ok=True)
    state = {
        "name": args.name,
        "arch": arch,
        "workdir": str(workdir),
        "base": str(base),
        "cpus": args.cpus,
        "memory": args.memory,
        "accel": choose_accel(arch, args.accel),
        "address": "127.0.0.1",
        "ssh_port": args.ssh_port or free_port(),
        "http_port": args.http_port or free_port(),
        "guest_http_port": args.guest_http_port,
        "user": args.user,
        "identity_file": str(Path(args.identity_file).resolve()) if args.identity_file else None,
        "overlay_copy_seconds": round(t_copy, 2),
        "started": time.time(),
    }
    save_state(workdir, state)
    with open(workdir / "supervisor.log", "a") as slog:
        sup = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "run", "--workdir", str(workdir)],
            stdin=subprocess.DEVNULL,
            stdout=slog,
            stderr=slog,
            start_new_session=True,
            close_fds=True,
            cwd="/",
        )
    state["supervisor_pid"] = sup.pid
    save_state(workdir, state)
    # QEMU must be up (pid file written) before we report success.
    deadline = time.time() + 60
    while time.time() < deadline:
        if sup.poll() is not None:
            sys.stderr.write((workdir / "supervisor.log").read_text())
            sys.stderr.write((workdir / "qemu.log").read_text() if (workdir / "qemu.log").exists() else "")
            sys.exit(f"supervisor exited early (rc={sup.returncode})")
        if pid_alive(read_pid(workdir / "qemu.pid")):
            break
        time.sleep(0.2)
    else:
        sys.exit("QEMU did not start within 60 s; see " + str(workdir / "qemu.log"))
    print(json.dumps(status_of(workdir)))
    return 0


def status_of(workdir: Path) -> dict:
    st = load_state(workdir)
    st["supervisor_alive"] = pid_alive(st.get("supervisor_pid"))
    qpid = read_pid(workdir / "qemu.pid")
    st["qemu_pid"] = qpid
    st["qemu_alive"] = pid_alive(qpid)
    boots = []
    if (workdir / "boots.jsonl").exists():
        boots = [json.loads(line) for line in (workdir / "boots.jsonl").read_text().splitlines() if line.strip()]
    st["boots"] = sum(1 for b in boots if b["event"] == "start")
    return st


def cmd_status(args) -> int:
    workdir = Path(args.workdir).resolve()
    if not (workdir / "state.json").exists():
        print(json.dumps({"workdir": str(workdir), "exists": False}))
        return 0
    print(json.dumps(status_of(workdir) | {"exists": True}))
    return 0


def cmd_powercut(args) -> int:
    workdir = Path(args.workdir).resolve()
    st = status_of(workdir)
    if not (st["supervisor_alive"] and st["qemu_alive"]):
        sys.exit(f"the VM in {workdir} is not running")
    os.kill(st["supervisor_pid"], signal.SIGUSR1)
    print(json.dumps({"workdir": str(workdir), "power_cut": True, "boots_before": st["boots"]}))
    return 0


def cmd_down(args) -> int:
    workdir = Path(args.workdir).resolve()
    result = {"workdir": str(workdir), "stopped": False}
    if (workdir / "state.json").exists():
        st = load_state(workdir)
        sup = st.get("supervisor_pid")
        qpid = read_pid(workdir / "qemu.pid")
        if pid_alive(sup):
            os.kill(sup, signal.SIGTERM)
        deadline = time.time() + args.timeout
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
    if args.purge:
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(result))
    return 0


def ssh_banner(port: int, host: str = "127.0.0.1", timeout: float = 5) -> bool:
    # With QEMU user networking the host side accepts the TCP connection even
    # when nothing listens in the guest, so only the banner proves sshd is up.
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.settimeout(timeout)
            return s.recv(64).startswith(b"SSH-")
    except OSError:
        return False


def cmd_wait_ssh(args) -> int:
    st = load_state(Path(args.workdir).resolve())
    t0 = time.time()
    while time.time() - t0 < args.timeout:
        if ssh_banner(st["ssh_port"]):
            print(
                json.dumps(
                    {
                        "ssh": True,
                        "waited": round(time.time() - t0, 1),
                        "since_start": round(time.time() - st["started"], 1),
                    }
                )
            )
            return 0
        time.sleep(1)
    print(json.dumps({"ssh": False, "waited": round(time.time() - t0, 1)}))
    return 1


def cmd_firmware(args) -> int:
    arch = ARCH_ALIASES.get(args.arch, args.arch)
    fw = read_firmware(Path(args.disk), arch, Path(args.extract) if args.extract else None)
    print(json.dumps(fw, indent=1))
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    up = sub.add_parser("up")
    up.add_argument("--name", required=True)
    up.add_argument("--arch", default="amd64", choices=sorted(ARCHES) + sorted(ARCH_ALIASES))
    up.add_argument("--workdir", required=True)
    up.add_argument("--base", help="base image (default: build-image.sh --arch ARCH)")
    up.add_argument("--cpus", type=int, default=4)
    up.add_argument("--memory", type=int, default=2048, help="MiB")
    up.add_argument("--accel", default=os.environ.get("PIXIE_VM_ACCEL", "auto"), choices=["auto", "kvm", "tcg"])
    up.add_argument("--ssh-port", type=int, default=0)
    up.add_argument("--http-port", type=int, default=0)
    up.add_argument("--guest-http-port", type=int, default=5000)
    up.add_argument("--user", default="ubuntu")
    up.add_argument("--hostname")
    up.add_argument("--authorized-key", help="public key file seeded for --user")
    up.add_argument("--identity-file", help="private key (recorded in the state only)")
    up.set_defaults(func=cmd_up)

    run = sub.add_parser("run")
    run.add_argument("--workdir", required=True)
    run.set_defaults(func=lambda a: supervise(Path(a.workdir).resolve()))

    down = sub.add_parser("down")
    down.add_argument("--workdir", required=True)
    down.add_argument("--timeout", type=float, default=30)
    down.add_argument("--purge", action="store_true", help="also delete logs and state")
    down.set_defaults(func=cmd_down)

    cut = sub.add_parser("powercut")
    cut.add_argument("--workdir", required=True)
    cut.set_defaults(func=cmd_powercut)

    status = sub.add_parser("status")
    status.add_argument("--workdir", required=True)
    status.set_defaults(func=cmd_status)

    ws = sub.add_parser("wait-ssh")
    ws.add_argument("--workdir", required=True)
    ws.add_argument("--timeout", type=float, default=600)
    ws.set_defaults(func=cmd_wait_ssh)

    fw = sub.add_parser("firmware")
    fw.add_argument("--disk", required=True)
    fw.add_argument("--arch", default="amd64")
    fw.add_argument("--extract", help="directory to copy kernel + initramfs to")
    fw.set_defaults(func=cmd_firmware)

    args = p.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
