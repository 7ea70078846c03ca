"""A VM's workdir: its state (state.json) and whether the processes it names are alive."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class VmState:
    name: str
    arch: str
    workdir: str
    base: str
    cpus: int
    memory: int  # MiB
    accel: str  # kvm | tcg; the supervisor falls back to tcg when KVM runs nothing
    address: str
    ssh_port: int
    http_port: int
    guest_http_port: int
    user: str
    identity_file: str | None
    overlay_copy_seconds: float
    started: float
    supervisor_pid: int | None = None
    # UDP forwards from the host's loopback: guest port (as text, a JSON key) -> host port.
    udp_forwards: dict[str, int] = field(default_factory=dict)
    board: str = "pi3"  # the Raspberry Pi it stands in for (arch.BOARD_CPUS)

    @classmethod
    def load(cls, workdir: Path) -> VmState:
        return cls(**json.loads((workdir / "state.json").read_text()))

    def save(self) -> None:
        workdir = Path(self.workdir)
        tmp = workdir / "state.json.tmp"
        tmp.write_text(json.dumps(asdict(self), indent=1) + "\n")
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
