"""The Raspberry Pi 3 firmware's part: config.txt and cmdline.txt on the boot partition -> kernel, initrd, append."""

from __future__ import annotations

from pathlib import Path

from pivm import PivmError, arch, disk

# Sections of config.txt the firmware of a Raspberry Pi 3 applies.
PI_SECTIONS = {"all", "pi3"}


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


def kernel_cmdline(cmdline_txt: str, arch_name: str) -> str:
    """cmdline.txt -> -append: first line only; console=serial0 -> VM's UART, last."""
    first = cmdline_txt.splitlines()[0] if cmdline_txt.strip() else ""
    serial = arch.get(arch_name).serial
    tokens = [
        tok for tok in first.split() if not (tok.startswith("console=serial") or tok.startswith(f"console={serial}"))
    ]
    tokens.append(f"console={serial},115200")
    return " ".join(tokens)


def read_firmware(image: Path, arch_name: str, bootdir: Path | None = None) -> dict:
    """What the Pi firmware would boot from this disk; copies kernel+initrd to bootdir."""
    offset = disk.boot_partition_offset(image)
    config_raw = disk.fat_read(image, offset, "config.txt")
    cfg = parse_config_txt(config_raw.decode("utf-8", "replace") if config_raw else "")
    cmdline_raw = disk.fat_read(image, offset, cfg["cmdline"])
    if cmdline_raw is None:
        raise PivmError(f"{image}: no {cfg['cmdline']} on the boot partition")
    text = cmdline_raw.decode("utf-8", "replace")
    fw = {
        "boot_partition_offset": offset,
        "config": cfg,
        "cmdline_txt": text,
        "cmdline_lines": len(text.splitlines()),
        "append": kernel_cmdline(text, arch_name),
    }
    if bootdir is not None:
        bootdir.mkdir(parents=True, exist_ok=True)
        for key, dest in (("kernel", "vmlinuz"), ("initramfs", "initrd.img")):
            target = bootdir / dest
            if not disk.fat_copy_out(image, offset, cfg[key], target):
                raise PivmError(f"{image}: cannot read {cfg[key]} from the boot partition")
            fw[key + "_bytes"] = target.stat().st_size
    return fw
