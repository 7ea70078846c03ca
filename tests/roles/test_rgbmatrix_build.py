"""pixie_rgbmatrix's build mechanics, run by ansible-playbook against
localhost into a temporary prefix, from a generated FIXTURE repository
(make_fixture_repo.py; the real upstream cannot be fetched in CI)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from make_fixture_repo import make_fixture_repo
from roles_support import role_defaults, role_tasks, run_playbook, vars_file


@pytest.fixture(scope="module")
def prefix(tmp_path_factory):
    root = tmp_path_factory.mktemp("rgbmatrix")
    shas = make_fixture_repo(root / "fixture-rpi-rgb-led-matrix", commits=2)
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(root / "venv")], check=True)
    return root, shas


def deploy(root: Path, version: str, check=False, **overrides):
    values = {
        "pixie_common_credentials_dir": str(root / "credentials"),
        "pixie_common_venv": str(root / "venv"),
        "pixie_rgbmatrix_repo_url": str(root / "fixture-rpi-rgb-led-matrix"),
        "pixie_rgbmatrix_version": version,
        "pixie_rgbmatrix_src_dir": str(root / "src" / "rpi-rgb-led-matrix"),
        "pixie_rgbmatrix_bin_dir": str(root / "bin"),
        "pixie_rgbmatrix_build_packages": [],  # apt is not touched on the test host
        **overrides,
    }
    (root / "bin").mkdir(exist_ok=True)
    play = [
        {
            "name": "pixie_rgbmatrix against a FIXTURE repository",
            "hosts": "localhost",
            "gather_facts": False,
            "vars_files": role_defaults("pixie_common", "pixie_app", "pixie_rgbmatrix")
            + [vars_file(root, values, "rgbmatrix-vars.yml")],
            "tasks": [
                {
                    "name": "pixie_rgbmatrix tasks",
                    "ansible.builtin.import_tasks": role_tasks("pixie_rgbmatrix", "main.yml"),
                }
            ],
            "handlers": [
                {
                    "name": "Display restart stand-in",
                    "ansible.builtin.debug": {"msg": "RGBMATRIX CHANGED HANDLER"},
                    "listen": "Pixie rgbmatrix changed",
                }
            ],
        }
    ]
    return run_playbook(root, play, check=check)


def builds(root: Path) -> list[str]:
    log = root / "src" / "rpi-rgb-led-matrix" / "lib" / "fixture-builds.log"
    return log.read_text().splitlines() if log.exists() else []


def util_output(root: Path, name: str) -> str:
    return subprocess.run([str(root / "bin" / name)], capture_output=True, text=True, check=True).stdout


def binding_revision(root: Path) -> str:
    code = "import rgbmatrix; assert rgbmatrix.FIXTURE; print(rgbmatrix.FIXTURE_REVISION)"
    return subprocess.run(
        [str(root / "venv" / "bin" / "python"), "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_build_install_and_idempotence(prefix):
    """One module-long story: the steps depend on each other, in order."""
    root, (sha1, sha2) = prefix

    # 1. First run builds lib with HARDWARE_DESC, installs the utils and the binding.
    first = deploy(root, sha1)
    assert first.rc == 0, first
    assert builds(root) == ["built hardware=adafruit-hat cpu_arch_flags=-march=native -mtune=native"]
    for name in ("led-image-viewer", "text-scroller"):
        assert "FIXTURE" in util_output(root, name) and "hardware=adafruit-hat " in util_output(root, name)
    assert binding_revision(root) == "1"
    assert "RGBMATRIX CHANGED HANDLER" in first.stdout

    # 2. Same inputs: nothing rebuilt, nothing changed.
    second = deploy(root, sha1)
    assert second.rc == 0, second
    assert second.changed == 0, second.changed_tasks()
    assert len(builds(root)) == 1

    # 3. Check mode with a new pin: reports the rebuild, builds nothing.
    dry = deploy(root, sha2, check=True)
    assert dry.rc == 0, dry
    assert dry.changed > 0
    assert len(builds(root)) == 1
    assert binding_revision(root) == "1"

    # 4. New pin: rebuilt and the binding reinstalled from the new commit.
    bumped = deploy(root, sha2)
    assert bumped.rc == 0, bumped
    assert len(builds(root)) == 2
    assert binding_revision(root) == "2"
    head = subprocess.run(
        ["git", "-C", str(root / "src" / "rpi-rgb-led-matrix"), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert head == sha2

    # 5. Other hardware mapping and compiler flags: full rebuild with them.
    remapped = deploy(
        root, sha2, pixie_rgbmatrix_hardware_desc="adafruit-hat-pwm", pixie_rgbmatrix_cpu_arch_flags="-mcpu=cortex-a53"
    )
    assert remapped.rc == 0, remapped
    assert builds(root)[-1] == "built hardware=adafruit-hat-pwm cpu_arch_flags=-mcpu=cortex-a53"
    assert "hardware=adafruit-hat-pwm cpu_arch_flags=-mcpu=cortex-a53" in util_output(root, "text-scroller")
    again = deploy(
        root, sha2, pixie_rgbmatrix_hardware_desc="adafruit-hat-pwm", pixie_rgbmatrix_cpu_arch_flags="-mcpu=cortex-a53"
    )
    assert again.rc == 0 and again.changed == 0, again.changed_tasks()

    # 6. A deleted utility is noticed and rebuilt.
    (root / "bin" / "led-image-viewer").unlink()
    healed = deploy(
        root, sha2, pixie_rgbmatrix_hardware_desc="adafruit-hat-pwm", pixie_rgbmatrix_cpu_arch_flags="-mcpu=cortex-a53"
    )
    assert healed.rc == 0, healed
    assert "FIXTURE" in util_output(root, "led-image-viewer")
