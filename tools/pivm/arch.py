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
    cpu_tcg: str
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
        # The Pi 3's core.  Also faster under TCG than "max" (no pointer auth).
        cpu_tcg="cortex-a53",
        cpu_kvm="host",
        serial="ttyAMA0",
        kvm_possible=os.uname().machine == "aarch64",
    ),
}
ALIASES = {"x86_64": "amd64", "aarch64": "arm64"}


def get(name: str) -> Arch:
    try:
        return ARCHES[ALIASES.get(name, name)]
    except KeyError:
        raise PivmError(f"unknown arch {name!r} (one of {', '.join(sorted(ARCHES) + sorted(ALIASES))})") from None
