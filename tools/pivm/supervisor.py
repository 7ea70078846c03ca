"""The supervisor: one QEMU run per boot, the firmware read again before each, for as long as the guest reboots."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from ansible_collections.pixie.appliance.plugins.module_utils import partitions

from pivm import log
from pivm.firmware import read_firmware
from pivm.qemu import QmpWatcher, qemu_command
from pivm.state import VmState

KVM_PROBE_SECONDS = 20
# A guest kernel that panics early under TCG (seen: an oops patching static keys, 2 s into the
# first boot) hangs there: no panic= on the image's own cmdline. It is booted again, a few times.
PANIC = b"Kernel panic - not syncing"
MAX_PANICS = 3


def _import_root(module) -> str:
    """The sys.path entry `module` was imported from."""
    return str(Path(module.__file__).resolve().parents[module.__name__.count(".")])


def start_detached(workdir: Path) -> subprocess.Popen:
    """`python -m pivm run` in its own session, so it outlives `up` and the play that ran it."""
    # It runs in / and must import this very pivm and collection: their roots, absolute.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([_import_root(sys.modules[__name__]), _import_root(partitions)]))
    with open(workdir / "supervisor.log", "a") as slog:
        return subprocess.Popen(
            [sys.executable, "-m", "pivm", "run", "--workdir", str(workdir)],
            stdin=subprocess.DEVNULL,
            stdout=slog,
            stderr=slog,
            start_new_session=True,
            close_fds=True,
            cwd="/",
            env=env,
        )


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


def supervise(workdir: Path) -> None:
    state = VmState.load(workdir)
    stop = threading.Event()
    current: dict = {"proc": None}

    def on_signal(signum, _frame):
        stop.set()
        p = current["proc"]
        if p is not None and p.poll() is None:
            p.terminate()

    def on_power_cut(_signum, _frame):
        # `pivm powercut`: pull the plug.  QEMU dies without the guest
        # syncing anything, and the firmware boots the disk as it was left.
        current["power_cut"] = True
        p = current["proc"]
        if p is not None and p.poll() is None:
            p.kill()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGUSR1, on_power_cut)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)

    accel = state.accel
    disk = workdir / "disk.img"
    boot_no = panics = 0
    events = workdir / "boots.jsonl"
    while not stop.is_set():
        boot_no += 1
        t_fw = time.time()
        fw = read_firmware(disk, state.arch, workdir / "boot", state.board, state.memory)
        t_start = time.time()
        memory = state.memory - fw["reserved_mb"]
        cmd = qemu_command(state, accel, fw["append"], memory)
        with open(workdir / "console.log", "a") as con:
            con.write(f"\n===== pivm boot {boot_no} ({accel}) {time.strftime('%F %T')}: {fw['append']}\n")
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
                "memory_mb": memory,
                "pid": proc.pid,
            },
        )
        panicked = threading.Event()

        def watch_for_panic(proc=proc, panicked=panicked):
            if wait_for_console(workdir / "console.log", proc, PANIC, float("inf")):
                panicked.set()
                proc.kill()

        threading.Thread(target=watch_for_panic, daemon=True).start()
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
        if panicked.is_set():
            reason = "kernel-panic"
            panics += 1
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
            saved = VmState.load(workdir)  # with the supervisor_pid `up` may have added since
            saved.accel = accel
            saved.save()
            continue
        if reason in ("guest-reset", "power-cut"):
            continue  # the guest rebooted or lost power: re-read the firmware and boot again
        if reason == "kernel-panic" and panics <= MAX_PANICS:
            log(f"the guest kernel panicked (boot {boot_no}); booting it again")
            continue
        break
    (workdir / "qemu.pid").unlink(missing_ok=True)
