"""The memory caps of the appliance's units, at the roles' defaults, fit together in the
RAM a Pi 3 has once pixie_boot gave the GPU's back (1024 MB less gpu_mem), with room
left for the kernel and the base system: a cap that cannot be honoured is no cap."""

from __future__ import annotations

from roles_support import default_values

PI3_RAM_MB = 1024
# Kernel, systemd, journald in RAM, sshd, networkd: an allowance, not a measurement
# (molecule's verify reports MemTotal/MemAvailable of the running appliance).
BASE_SYSTEM_MB = 150
# A redis-server's own memory beyond maxmemory (code, buffers, fragmentation).
REDIS_OVERHEAD_MB = 15


def mb(size: str) -> int:
    number, unit = size[:-1], size[-1].upper()
    if unit == "B":  # Redis style: 128mb
        number, unit = size[:-2], size[-2].upper()
    return int(number) * {"K": 1 / 1024, "M": 1, "G": 1024}[unit]


def test_every_cap_together_fits_a_pi3():
    app, workers, redis, boot, mqtt = (
        default_values("pixie_app"),
        default_values("pixie_workers"),
        default_values("pixie_redis"),
        default_values("pixie_boot"),
        default_values("pixie_mqtt"),
    )
    caps = {
        "pixie-web": mb(app["pixie_app_web_memory_max"]),
        "pixie-display": mb(app["pixie_app_display_memory_max"]),
        "pixie-mqtt": mb(app["pixie_app_mqtt_memory_max"]),
        "mosquitto": mb(mqtt["pixie_mqtt_memory_max"]),
        "rqworker@ x N": workers["pixie_workers_count"] * mb(workers["pixie_workers_memory_max"]),
        "redis (durable)": mb(redis["pixie_redis_maxmemory"]) + REDIS_OVERHEAD_MB,
        "redis (volatile)": mb(redis["pixie_redis_volatile_maxmemory"]) + REDIS_OVERHEAD_MB,
    }
    room = PI3_RAM_MB - boot["pixie_boot_gpu_mem"] - BASE_SYSTEM_MB
    assert sum(caps.values()) <= room, f"{caps}: {sum(caps.values())} MB, the Pi has {room} MB for them"
