"""pixie_board (issue 36): one inventory variable, and the board's row of pixie_common_boards lands
where the roles use it, for each of the four boards: cmdline.txt's isolcpus and config.txt's
gpu_mem (pixie_boot's `files` entry point, flash.yml's path), the units' CPUAffinity= and
MemoryMax=, pixie.toml's panel and render limits, Redis's maxmemory, the library's -mcpu, the
number of workers; and a Raspberry Pi whose device tree names another board is refused."""

from __future__ import annotations

import tomllib

import pytest
import yaml
from roles_support import default_values, resolved_values, role_defaults, role_tasks, run_playbook, vars_file
from test_cmdline_filter import CONFIG_2404, UBUNTU_2404
from test_templates import render_templates, unit, values

from pivm.firmware import parse_config_txt

TABLE = default_values("pixie_common")["pixie_common_boards"]
BOARDS = sorted(TABLE)
MCPU = {"pi3": "cortex-a53", "pi4": "cortex-a72", "pi5": "cortex-a76", "zero2w": "cortex-a53"}


def directives(path) -> dict[str, str]:
    return dict(line.split(None, 1) for line in path.read_text().splitlines() if line and not line.startswith("#"))


@pytest.mark.parametrize("board", BOARDS)
def test_rendered_units_config_and_redis_follow_the_board(tmp_path, board):
    row = TABLE[board]
    out = render_templates(tmp_path, {"pixie_board": board})
    worker = unit(out / "rqworker@.service")
    assert values(worker, "Service", "CPUAffinity") == [row["housekeeping_cpus"]]
    assert values(worker, "Service", "MemoryMax") == [row["worker_memory_max"]]
    for name, cap in [("web", "web_memory_max"), ("display", "display_memory_max"), ("mqtt", "mqtt_memory_max")]:
        s = unit(out / f"pixie-{name}.service")
        assert values(s, "Service", "CPUAffinity") == [row["housekeeping_cpus"]], name
        assert values(s, "Service", "MemoryMax") == [row[cap]], name
    toml = tomllib.loads((out / "pixie.toml").read_text())
    assert toml["panel"]["gpio_slowdown"] == row["gpio_slowdown"]
    assert toml["panel"]["limit_refresh_rate_hz"] == row["limit_refresh_rate_hz"]
    assert toml["render"]["cache_max_bytes"] == row["render_cache_max_bytes"]
    assert toml["render"]["max_image_pixels"] == row["max_image_pixels"]
    assert directives(out / "pixie.conf")["maxmemory"] == row["redis_maxmemory"]
    assert directives(out / "volatile.conf")["maxmemory"] == row["redis_volatile_maxmemory"]


def test_the_boards_differ_where_they_should():
    assert {b: TABLE[b]["mcpu"] for b in BOARDS} == MCPU
    assert TABLE["pi4"]["gpio_slowdown"] > TABLE["pi3"]["gpio_slowdown"]  # hzeller: the Pi 4 writes GPIO fastest
    assert TABLE["zero2w"]["workers"] == 1 and TABLE["pi4"]["workers"] == 3
    assert TABLE["pi5"]["gpu_mem"] == 0  # the Pi 5's firmware has no gpu_mem split


@pytest.mark.parametrize("board", BOARDS)
def test_mcpu_workers_and_refresh_core_follow_the_board(tmp_path, board):
    names = ["pixie_rgbmatrix_cpu_arch_flags", "pixie_workers_count", "pixie_common_isolated_cpu"]
    roles = ["pixie_common", "pixie_rgbmatrix", "pixie_workers", "pixie_boot"]
    v = resolved_values(tmp_path, roles, [*names, "pixie_boot_isolated_cpu"], {"pixie_board": board})
    assert v["pixie_rgbmatrix_cpu_arch_flags"] == f"-mcpu={MCPU[board]}"
    assert int(v["pixie_workers_count"]) == TABLE[board]["workers"]
    assert int(v["pixie_common_isolated_cpu"]) == int(v["pixie_boot_isolated_cpu"]) == TABLE[board]["isolated_cpu"]


@pytest.mark.parametrize("board", BOARDS)
def test_boot_files_follow_the_board(tmp_path, board):
    """pixie_boot's `files` entry point, as pixie_sdcard runs it (flash.yml loads pixie_common's
    defaults for the table): the card's cmdline.txt and config.txt for the board."""
    row = TABLE[board]
    cmdline, config = tmp_path / "cmdline.txt", tmp_path / "config.txt"
    cmdline.write_text(UBUNTU_2404)
    config.write_text(CONFIG_2404)
    play = {
        "name": "pixie_boot files",
        "hosts": "localhost",
        "gather_facts": False,
        "vars_files": role_defaults("pixie_common") + [vars_file(tmp_path, {"pixie_board": board})],
        "tasks": [
            {
                "name": "Edit the boot files",
                "ansible.builtin.include_role": {"name": "pixie_boot", "tasks_from": "files"},
                "vars": {"pixie_boot_files_cmdline_path": str(cmdline), "pixie_boot_files_config_path": str(config)},
            }
        ],
    }
    run = run_playbook(tmp_path, [play])
    assert run.rc == 0, run
    tokens = cmdline.read_text().split()
    cpu = row["isolated_cpu"]
    assert f"isolcpus=domain,managed_irq,{cpu}" in tokens and f"nohz_full={cpu}" in tokens
    assert "irqaffinity=" + ",".join(str(c) for c in range(cpu)) in tokens  # housekeeping "0-2" -> 0,1,2
    text = config.read_text()
    if row["gpu_mem"]:
        assert parse_config_txt(text)["gpu_mem_mb"] == row["gpu_mem"]
    else:
        assert "gpu_mem" not in text, "0: config.txt's own (the Pi 5 ignores gpu_mem)"
    assert parse_config_txt(text)["cma_mb"] == 0  # the KMS overlay and its CMA area are gone on every board


def _board_check(tmp_path, board, model: bytes | None, **overrides):
    model_file = tmp_path / "model"
    if model is not None:
        model_file.write_bytes(model)
    values_ = {"pixie_board": board, "pixie_common_board_model_file": str(model_file), **overrides}
    play = {
        "name": "the board check",
        "hosts": "localhost",
        "gather_facts": False,
        "vars_files": role_defaults("pixie_common") + [vars_file(tmp_path, values_)],
        "tasks": [{"name": "Board", "ansible.builtin.import_tasks": role_tasks("pixie_common", "board.yml")}],
    }
    return run_playbook(tmp_path, [play])


MATCHES = [
    ("pi3", b"Raspberry Pi 3 Model B Rev 1.2\x00"),
    ("pi3", b"Raspberry Pi 3 Model B Plus Rev 1.3\x00"),
    ("pi4", b"Raspberry Pi 4 Model B Rev 1.4\x00"),
    ("pi4", b"Raspberry Pi 400 Rev 1.0\x00"),
    ("pi5", b"Raspberry Pi 5 Model B Rev 1.0\x00"),
    ("zero2w", b"Raspberry Pi Zero 2 W Rev 1.0\x00"),
]
MISMATCHES = [
    ("pi3", b"Raspberry Pi 4 Model B Rev 1.4\x00"),
    ("pi4", b"Raspberry Pi 5 Model B Rev 1.0\x00"),
    ("pi5", b"Raspberry Pi 4 Model B Rev 1.5\x00"),
    ("pi3", b"Raspberry Pi Zero 2 W Rev 1.0\x00"),  # the Pi 3's SoC family, half its RAM
    ("zero2w", b"Raspberry Pi 3 Model B Rev 1.2\x00"),
]


@pytest.mark.parametrize("board, model", MATCHES, ids=[m.decode().strip("\x00") for _, m in MATCHES])
def test_a_matching_device_tree_passes(tmp_path, board, model):
    run = _board_check(tmp_path, board, model)
    assert run.rc == 0, run
    checked = run.result("Refuse a board other than pixie_board")
    assert not checked.get("skipped") and not checked.get("failed"), checked


@pytest.mark.parametrize("board, model", MISMATCHES, ids=[f"{b}-on-{m.decode().strip(chr(0))}" for b, m in MISMATCHES])
def test_another_raspberry_pi_is_refused_naming_pixie_board(tmp_path, board, model):
    run = _board_check(tmp_path, board, model)
    assert run.rc != 0 and run.failed == 1, run
    assert "pixie_board" in run.failure() and model.decode().strip("\x00") in run.failure(), run


@pytest.mark.parametrize("model", [None, b"linux,dummy-virt\x00"], ids=["no-device-tree", "qemu-virt"])
def test_no_raspberry_pi_device_tree_is_a_labelled_stand_in(tmp_path, model):
    run = _board_check(tmp_path, "pi4", model)
    assert run.rc == 0, run
    assert run.result("Refuse a board other than pixie_board").get("skipped"), run
    note = run.result("Skip the board check without a Raspberry Pi's device tree (stand-in)")
    assert note["msg"].startswith("STAND-IN:"), note


def test_an_image_build_does_not_read_the_build_hosts_device_tree(tmp_path):
    run = _board_check(tmp_path, "pi3", b"Raspberry Pi 5 Model B Rev 1.0\x00", pixie_common_image_mode=True)
    assert run.rc == 0, run
    assert run.result("Refuse a board other than pixie_board").get("skipped"), run


@pytest.mark.parametrize("board", ["pi4", "zero2w"])
def test_flash_writes_the_board_into_the_inventory_entry(tmp_path, board):
    """pixie_sdcard's inventory entry (flash.yml -e pixie_board=...) carries pixie_board, so
    site.yml's first run sets the device up for the board its card was made for."""
    inventory = tmp_path / "flashed.yml"
    values_ = {"pixie_board": board, "pixie_sdcard_hostname": "pixie-9", "pixie_sdcard_inventory_file": str(inventory)}
    play = {
        "name": "pixie_sdcard's inventory entry",
        "hosts": "localhost",
        "gather_facts": False,
        "vars_files": role_defaults("pixie_sdcard") + [vars_file(tmp_path, values_)],
        "tasks": [{"name": "Inventory", "ansible.builtin.import_tasks": role_tasks("pixie_sdcard", "inventory.yml")}],
    }
    run = run_playbook(tmp_path, [play])
    assert run.rc == 0, run
    entry = yaml.safe_load(inventory.read_text())["all"]["children"]["displays"]["hosts"]["pixie-9"]
    assert entry["pixie_board"] == board and entry["ansible_host"] == "pixie-9.local", entry
