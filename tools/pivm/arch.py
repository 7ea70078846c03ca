"""The VM's machine per Debian architecture: x86 for speed under KVM, arm64 for the Pi 3's instruction set."""

from __future__ import annotations

import os
from dataclasses import dataclass

from pivm import PivmError


@dataclass(frozen=True)
class Arch:
    name: str
    qemu: str
    machine: str
    cpu_tcg: str | None  # None: the emulated board's core (BOARD_CPUS)
    cpu_kvm: str
    serial: str  # the UART that stands in for the Pi's serial0
    kvm_possible: bool


ARCHES = {
    "amd64": Arch(
        name="amd64",
        qemu="qemu-system-x86_64",
        machine="q35",
        cpu_tcg="max",
        cpu_kvm="host",
        serial="ttyS0",
        kvm_possible=os.uname().machine == "x86_64",
    ),
    "arm64": Arch(
        name="arm64",
        qemu="qemu-system-aarch64",
        machine="virt",
        # The board's own core: also faster under TCG than "max" (no pointer auth).
        cpu_tcg=None,
        cpu_kvm="host",
        serial="ttyAMA0",
        kvm_possible=os.uname().machine == "aarch64",
    ),
}
ALIASES = {"x86_64": "amd64", "aarch64": "arm64"}

# The Raspberry Pi boards a VM stands in for, by their cores (pixie_common_boards' mcpu): the firmware
# part reads the board's [piN] section of config.txt, and an arm64 VM under TCG emulates its core.
BOARD_CPUS = {"pi3": "cortex-a53", "pi4": "cortex-a72"}


def cpu(a: Arch, accel: str, board: str) -> str:
    if accel == "kvm":
        return a.cpu_kvm
    return a.cpu_tcg or BOARD_CPUS[board]


def get(name: str) -> Arch:
    try:
        return ARCHES[ALIASES.get(name, name)]
    except KeyError:
        raise PivmError(f"unknown arch {name!r} (one of {', '.join(sorted(ARCHES) + sorted(ALIASES))})") from None
