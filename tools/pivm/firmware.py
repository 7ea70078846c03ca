"""The Raspberry Pi firmware's part: config.txt and cmdline.txt on the boot partition -> kernel, initrd, append."""

from __future__ import annotations

from pathlib import Path

from pivm import PivmError, arch, disk

# The firmware's gpu_mem when config.txt does not set it.
DEFAULT_GPU_MEM_MB = 76
# CMA the vc4-kms-v3d overlay reserves without a cma-N parameter.
KMS_DEFAULT_CMA_MB = 256


def parse_config_txt(text: str, board: str = "pi3", ram_mb: int = 1024) -> dict:
    """The bits of config.txt the board's firmware uses ([all] and [<board>]): kernel + cmdline, and the
    RAM the GPU takes (gpu_mem, gpu_mem_1024 on a 1 GB board, and the CMA area of the KMS overlay: its
    last dtoverlay=vc4-kms-v3d line decides)."""
    sections = {"all", board}
    gpu_mem_keys = ("gpu_mem", "gpu_mem_1024") if ram_mb <= 1024 else ("gpu_mem",)
    cfg = {"kernel": "vmlinuz", "cmdline": "cmdline.txt", "initramfs": "initrd.img"}
    cfg |= {"gpu_mem_mb": DEFAULT_GPU_MEM_MB, "cma_mb": 0}
    active = True
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            active = line[1:-1].strip().lower() in sections
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
            elif key in gpu_mem_keys and value.isdigit():
                cfg["gpu_mem_mb"] = int(value)
            elif key == "dtoverlay" and value.split(",")[0] == "vc4-kms-v3d":
                cma = [p.removeprefix("cma-") for p in value.split(",")[1:] if p.startswith("cma-")]
                cfg["cma_mb"] = int(cma[-1]) if cma and cma[-1].isdigit() else KMS_DEFAULT_CMA_MB
    return cfg


def kernel_cmdline(cmdline_txt: str, arch_name: str) -> str:
    """cmdline.txt -> -append: first line only; console=serial0 -> VM's UART, last.

    As on the Raspberry Pi kernel, the memory cgroup is off unless the line says
    cgroup_enable=memory (a stock kernel knows only cgroup_disable=, so that is
    put first when the line does not ask for memory)."""
    first = cmdline_txt.splitlines()[0] if cmdline_txt.strip() else ""
    serial = arch.get(arch_name).serial
    tokens = [
        tok for tok in first.split() if not (tok.startswith("console=serial") or tok.startswith(f"console={serial}"))
    ]
    if "cgroup_enable=memory" not in tokens:
        tokens.insert(0, "cgroup_disable=memory")
    tokens.append(f"console={serial},115200")
    return " ".join(tokens)


def read_firmware(
    image: Path, arch_name: str, bootdir: Path | None = None, board: str = "pi3", ram_mb: int = 1024
) -> dict:
    """What the board's firmware would boot from this disk; copies kernel+initrd to bootdir."""
    offset = disk.boot_partition_offset(image)
    config_raw = disk.fat_read(image, offset, "config.txt")
    cfg = parse_config_txt(config_raw.decode("utf-8", "replace") if config_raw else "", board, ram_mb)
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
        # The board's RAM less what the firmware keeps for the GPU and the KMS overlay's CMA.
        "reserved_mb": cfg["gpu_mem_mb"] + cfg["cma_mb"],
    }
    if bootdir is not None:
        bootdir.mkdir(parents=True, exist_ok=True)
        for key, dest in (("kernel", "vmlinuz"), ("initramfs", "initrd.img")):
            target = bootdir / dest
            if not disk.fat_copy_out(image, offset, cfg[key], target):
                raise PivmError(f"{image}: cannot read {cfg[key]} from the boot partition")
            fw[key + "_bytes"] = target.stat().st_size
    return fw
