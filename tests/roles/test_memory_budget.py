"""The memory caps of the appliance's units, at the roles' defaults for each board (pixie_board's
row of pixie_common_boards, as Ansible resolves it), fit together in the RAM the board has once
pixie_boot gave the GPU's back (ram_mb less gpu_mem), with room left for the kernel and the base
system: a cap that cannot be honoured is no cap."""

from __future__ import annotations

import pytest
from roles_support import default_values, resolved_values

BOARDS = sorted(default_values("pixie_common")["pixie_common_boards"])
# Kernel, systemd, journald in RAM, sshd, networkd: an allowance, not a measurement
# (molecule's verify reports MemTotal/MemAvailable of the running appliance).
BASE_SYSTEM_MB = 150
# A redis-server's own memory beyond maxmemory (code, buffers, fragmentation).
REDIS_OVERHEAD_MB = 15
ROLES = ["pixie_common", "pixie_app", "pixie_workers", "pixie_redis", "pixie_boot", "pixie_mqtt"]
CAPS = [
    "pixie_app_web_memory_max",
    "pixie_app_display_memory_max",
    "pixie_app_mqtt_memory_max",
    "pixie_mqtt_memory_max",
    "pixie_workers_count",
    "pixie_workers_memory_max",
    "pixie_redis_maxmemory",
    "pixie_redis_volatile_maxmemory",
    "pixie_boot_gpu_mem",
    "pixie_common_board",
]


def mb(size: str) -> int:
    number, unit = size[:-1], size[-1].upper()
    if unit == "B":  # Redis style: 128mb
        number, unit = size[:-2], size[-2].upper()
    return int(number) * {"K": 1 / 1024, "M": 1, "G": 1024}[unit]


def test_the_table_has_the_four_boards():
    assert BOARDS == ["pi3", "pi4", "pi5", "zero2w"]
    assert default_values("pixie_common")["pixie_board"] == "pi3"


@pytest.mark.parametrize("board", BOARDS)
def test_every_cap_together_fits_the_board(tmp_path, board):
    v = resolved_values(tmp_path, ROLES, CAPS, {"pixie_board": board})
    caps = {
        "pixie-web": mb(v["pixie_app_web_memory_max"]),
        "pixie-display": mb(v["pixie_app_display_memory_max"]),
        "pixie-mqtt": mb(v["pixie_app_mqtt_memory_max"]),
        "mosquitto": mb(v["pixie_mqtt_memory_max"]),
        "rqworker@ x N": int(v["pixie_workers_count"]) * mb(v["pixie_workers_memory_max"]),
        "redis (durable)": mb(v["pixie_redis_maxmemory"]) + REDIS_OVERHEAD_MB,
        "redis (volatile)": mb(v["pixie_redis_volatile_maxmemory"]) + REDIS_OVERHEAD_MB,
    }
    room = v["pixie_common_board"]["ram_mb"] - int(v["pixie_boot_gpu_mem"]) - BASE_SYSTEM_MB
    assert sum(caps.values()) <= room, f"{board}: {caps}: {sum(caps.values())} MB, the board has {room} MB for them"
    # the render cache lives in the volatile Redis: it must fit under that cap
    assert v["pixie_common_board"]["render_cache_max_bytes"] < mb(v["pixie_redis_volatile_maxmemory"]) * 2**20


def test_pi3_keeps_the_caps_it_had():
    """The Pi 3's row is what the roles' defaults were before the board table (the VMs test it)."""
    pi3 = default_values("pixie_common")["pixie_common_boards"]["pi3"]
    assert (pi3["web_memory_max"], pi3["display_memory_max"], pi3["mqtt_memory_max"]) == ("160M", "128M", "88M")
    assert (pi3["workers"], pi3["worker_memory_max"], pi3["gpu_mem"]) == (2, "120M", 16)
    assert (pi3["redis_maxmemory"], pi3["redis_volatile_maxmemory"]) == ("128mb", "64mb")
