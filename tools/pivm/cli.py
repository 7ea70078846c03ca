"""`python -m pivm SUB-COMMAND`: arguments in, JSON on stdout; a PivmError becomes its message and exit code 1."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import pivm
from pivm import PivmError, arch, vm
from pivm.firmware import read_firmware
from pivm.supervisor import supervise


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def cmd_up(a) -> int:
    print(
        json.dumps(
            vm.up(
                a.name,
                Path(a.workdir),
                arch_name=a.arch,
                base=_path(a.base),
                cpus=a.cpus,
                memory=a.memory,
                board=a.board,
                accel=a.accel,
                ssh_port=a.ssh_port,
                http_port=a.http_port,
                guest_http_port=a.guest_http_port,
                udp_guest_ports=a.udp_forwards,
                user=a.user,
                hostname=a.hostname,
                authorized_key=_path(a.authorized_key),
                identity_file=_path(a.identity_file),
                data_mib=a.data_mib,
            )
        )
    )
    return 0


def cmd_run(a) -> int:
    supervise(Path(a.workdir).resolve())
    return 0


def cmd_status(a) -> int:
    workdir = Path(a.workdir).resolve()
    if not (workdir / "state.json").exists():
        print(json.dumps({"workdir": str(workdir), "exists": False}))
    else:
        print(json.dumps(vm.status(workdir) | {"exists": True}))
    return 0


def cmd_powercut(a) -> int:
    print(json.dumps(vm.powercut(Path(a.workdir).resolve())))
    return 0


def cmd_down(a) -> int:
    print(json.dumps(vm.down(Path(a.workdir).resolve(), a.timeout, a.purge)))
    return 0


def cmd_wait_ssh(a) -> int:
    result = vm.wait_ssh(Path(a.workdir).resolve(), a.timeout)
    print(json.dumps(result))
    return 0 if result["ssh"] else 1


def cmd_firmware(a) -> int:
    print(json.dumps(read_firmware(Path(a.disk), a.arch, _path(a.extract), a.board, a.memory), indent=1))
    return 0


def board(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument(
        "--board", default="pi3", choices=sorted(arch.BOARD_CPUS), help="the Raspberry Pi it stands in for"
    )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="pivm", description=pivm.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = p.add_subparsers(dest="cmd", required=True)

    def command(name: str, func, workdir: bool = True) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name)
        if workdir:
            cmd.add_argument("--workdir", required=True)
        cmd.set_defaults(func=func)
        return cmd

    up = command("up", cmd_up)
    up.add_argument("--name", required=True)
    up.add_argument("--arch", default="amd64", choices=sorted(arch.ARCHES) + sorted(arch.ALIASES))
    up.add_argument("--base", help="base image (default: build-image.sh --arch ARCH)")
    up.add_argument("--cpus", type=int, default=4)
    up.add_argument("--memory", type=int, default=2048, help="MiB")
    board(up)
    up.add_argument("--accel", default=os.environ.get("PIXIE_VM_ACCEL", "auto"), choices=["auto", "kvm", "tcg"])
    up.add_argument("--ssh-port", type=int, default=0)
    up.add_argument("--http-port", type=int, default=0)
    up.add_argument("--guest-http-port", type=int, default=5000)
    up.add_argument(
        "--udp-forwards",
        type=lambda text: tuple(int(port) for port in text.split(",") if port.strip()),
        default=(),
        help="guest UDP ports (comma-separated), each reached at a free port on the host's loopback",
    )
    up.add_argument("--user", default="ubuntu")
    up.add_argument("--hostname")
    up.add_argument("--authorized-key", help="public key file seeded for --user")
    up.add_argument("--identity-file", help="private key (recorded in the state only)")
    up.add_argument("--data-mib", type=int, default=0, help="append a pixie-data ext4 partition of this size")

    command("run", cmd_run)
    down = command("down", cmd_down)
    down.add_argument("--timeout", type=float, default=30)
    down.add_argument("--purge", action="store_true", help="also delete logs and state")
    command("powercut", cmd_powercut)
    command("status", cmd_status)
    command("wait-ssh", cmd_wait_ssh).add_argument("--timeout", type=float, default=600)

    fw = command("firmware", cmd_firmware, workdir=False)
    fw.add_argument("--disk", required=True)
    fw.add_argument("--arch", default="amd64")
    fw.add_argument("--extract", help="directory to copy kernel + initramfs to")
    fw.add_argument("--memory", type=int, default=1024, help="the board's RAM in MiB (gpu_mem_1024 counts up to 1024)")
    board(fw)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except PivmError as e:
        print(e, file=sys.stderr)
        return 1
