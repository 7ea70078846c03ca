"""Pixie test VM launcher: QEMU behind an emulated Raspberry Pi firmware.

The Pi's firmware reads config.txt and cmdline.txt from the FAT boot partition
and starts the kernel named there with that command line.  This launcher does
the same for a QEMU VM every time the VM (re)starts:

  1. read the partition table of the VM's disk, find partition 1 (FAT,
     system-boot);
  2. with mtools (no mounts), read config.txt (kernel=, cmdline=, initramfs
     ... followkernel, in the [all] and [pi3] sections), the command line
     file (first line only, as the Pi firmware does), the kernel and the
     initramfs;
  3. start QEMU with -kernel/-initrd/-append, -no-reboot and a QMP socket;
  4. when QEMU exits, a SHUTDOWN event with reason "guest-reset" means the
     guest rebooted: go to 1, so whatever a playbook wrote to cmdline.txt
     takes effect on that boot.  A guest kernel that panics (seen under TCG,
     early in a boot, where no panic= reboots it) is booted again, up to 3
     times.  Any other exit (guest power-off, `down`) ends the supervisor.

`console=serial0,...` in cmdline.txt is the Pi firmware's alias for the
primary UART; it is replaced by the VM's serial port (ttyS0 on x86, ttyAMA0 on
arm virt), appended last so it is /dev/console.  Everything else is passed
through unchanged (root=LABEL=writable, isolcpus=..., ...).

Run it as `python -m pivm SUB-COMMAND` with tools/ and collections/ (the
partition table reader) on PYTHONPATH.  Sub-commands (all print JSON on
stdout):
  up        make the VM's disk (sparse copy of the base image), seed SSH key +
            hostname onto its boot partition, start the supervisor detached
  run       the supervisor itself (foreground; `up` starts it)
  down      stop supervisor and QEMU, delete the disk
  powercut  kill QEMU without a shutdown (a power cut); the supervisor boots
            the disk again as it was left
  status    state + whether supervisor/QEMU are alive
  wait-ssh  wait for the SSH banner on the forwarded port
  firmware  show what the firmware would boot from a disk image

`python -m pivm.hostenv` tells prepare.yml how the controller reaches the
package registries, as the guest must.
"""

from __future__ import annotations

import sys
import time


class PivmError(Exception):
    """What the CLI reports and exits 1 on."""


def log(msg: str) -> None:
    print(f"[pivm {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)
