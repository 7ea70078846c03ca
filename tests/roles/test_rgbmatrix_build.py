"""pixie_rgbmatrix's build mechanics, run by ansible-playbook against
localhost into a temporary prefix, from a generated FIXTURE repository
(make_fixture_repo.py; the real upstream cannot be fetched in CI)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from make_fixture_repo import FONT_FILE, LARGE_FILE, LARGE_FILE_BYTES, make_fixture_repo
from roles_support import REPO, default_values, role_defaults, role_tasks, run_playbook, vars_file


def make_prefix(root: Path, commits: int) -> list[str]:
    """A FIXTURE repository and a virtualenv to try the binding's wheel in; the commits' shas."""
    shas = make_fixture_repo(root / "fixture-rpi-rgb-led-matrix", commits=commits)
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(root / "venv")], check=True)
    return shas


@pytest.fixture(scope="module")
def prefix(tmp_path_factory):
    root = tmp_path_factory.mktemp("rgbmatrix")
    return root, make_prefix(root, commits=2)


def deploy(root: Path, version: str, check=False, extra_vars_files=(), **overrides):
    values = {
        "pixie_common_credentials_dir": str(root / "credentials"),
        "pixie_common_rgbmatrix_wheel_dir": str(root / "wheels"),
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
            + list(extra_vars_files)
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


def git(root: Path, *args: str) -> str:
    src = root / "src" / "rpi-rgb-led-matrix"
    return subprocess.run(["git", "-C", str(src), *args], capture_output=True, text=True, check=True).stdout.strip()


def build_venv_version(root: Path, package: str) -> str:
    code = f"import importlib.metadata as m; print(m.version({package!r}))"
    python = root / "src" / "rpi-rgb-led-matrix.build-venv" / "bin" / "python"
    return subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def builds(root: Path) -> list[str]:
    log = root / "src" / "rpi-rgb-led-matrix" / "lib" / "fixture-builds.log"
    return log.read_text().splitlines() if log.exists() else []


def util_output(root: Path, name: str) -> str:
    return subprocess.run([str(root / "bin" / name)], capture_output=True, text=True, check=True).stdout


def binding_revision(root: Path) -> str:
    """The one wheel the role left, installed as pixie_app installs it into a release, then imported."""
    (wheel,) = (root / "wheels").glob("rgbmatrix-*.whl")
    pip = [str(root / "venv" / "bin" / "pip"), "install", "-q", "--no-deps", "--force-reinstall", str(wheel)]
    subprocess.run(pip, check=True)
    code = "import rgbmatrix; assert rgbmatrix.FIXTURE; print(rgbmatrix.FIXTURE_REVISION)"
    return subprocess.run(
        [str(root / "venv" / "bin" / "python"), "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_build_install_and_idempotence(prefix):
    """One module-long story: the steps depend on each other, in order."""
    root, (sha1, sha2) = prefix

    # 1. First run builds lib with HARDWARE_DESC, installs the utils and builds the binding's wheel.
    first = deploy(root, sha1)
    assert first.rc == 0, first
    # the Pi 3's core by default, not config.mk's -march=native
    assert builds(root) == ["built hardware=adafruit-hat cpu_arch_flags=-mcpu=cortex-a53"]
    assert "FIXTURE" in util_output(root, "led-image-viewer")
    assert "hardware=adafruit-hat " in util_output(root, "led-image-viewer")
    assert not (root / "bin" / "text-scroller").exists()  # it needs upstream's fonts: only on request (step 7)
    assert binding_revision(root) == "1"
    assert "RGBMATRIX CHANGED HANDLER" in first.stdout
    # Only the pinned commit, only the build's folders: the large file never came.
    src = root / "src" / "rpi-rgb-led-matrix"
    assert git(root, "rev-list", "--count", "HEAD") == "1"
    assert not (src / LARGE_FILE).exists() and not (src / LARGE_FILE).parent.exists()
    assert not (src / FONT_FILE).parent.exists()
    assert (src / "lib" / "Makefile").exists() and (src / "config.mk").exists()
    objects = sum(f.stat().st_size for f in (src / ".git" / "objects").rglob("*") if f.is_file())
    assert objects < LARGE_FILE_BYTES / 20, f"{objects} bytes of git objects: the large file was fetched"
    # The binding's build backend came at its pin, not the index's newest.
    pins = dict(r.split("==") for r in default_values("pixie_rgbmatrix")["pixie_rgbmatrix_build_requirements"])
    assert build_venv_version(root, "scikit-build-core") == pins["scikit-build-core"]
    assert build_venv_version(root, "Cython") == pins["Cython"]

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

    # 4. New pin: rebuilt, the binding's wheel replaced by the new commit's.
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

    assert git(root, "rev-list", "--count", "HEAD") == "1"

    # 5. Other hardware mapping and compiler flags: full rebuild with them.
    remapped = deploy(root, sha2, pixie_rgbmatrix_hardware_desc="adafruit-hat-pwm", pixie_rgbmatrix_cpu_arch_flags="")
    assert remapped.rc == 0, remapped
    assert builds(root)[-1] == "built hardware=adafruit-hat-pwm cpu_arch_flags=-march=native -mtune=native"
    assert "hardware=adafruit-hat-pwm cpu_arch_flags=-march=native" in util_output(root, "led-image-viewer")
    again = deploy(root, sha2, pixie_rgbmatrix_hardware_desc="adafruit-hat-pwm", pixie_rgbmatrix_cpu_arch_flags="")
    assert again.rc == 0 and again.changed == 0, again.changed_tasks()

    # 6. A deleted utility is noticed and rebuilt.
    (root / "bin" / "led-image-viewer").unlink()
    healed = deploy(root, sha2, pixie_rgbmatrix_hardware_desc="adafruit-hat-pwm", pixie_rgbmatrix_cpu_arch_flags="")
    assert healed.rc == 0, healed
    assert "FIXTURE" in util_output(root, "led-image-viewer")

    # 7. text-scroller with upstream's fonts, asked for on the same checkout: the folder comes, a rebuild;
    #    taken back, the folder goes. A second run of each changes nothing.
    pwm = {"pixie_rgbmatrix_hardware_desc": "adafruit-hat-pwm", "pixie_rgbmatrix_cpu_arch_flags": ""}
    paths = default_values("pixie_rgbmatrix")["pixie_rgbmatrix_sparse_paths"]
    with_fonts = {
        "pixie_rgbmatrix_sparse_paths": [*paths, "fonts"],
        "pixie_rgbmatrix_utils": ["led-image-viewer", "text-scroller"],
    }
    built = len(builds(root))
    fonts = deploy(root, sha2, **pwm, **with_fonts)
    assert fonts.rc == 0, fonts
    assert (src / FONT_FILE).read_text().startswith("STARTFONT")
    assert len(builds(root)) == built + 1
    assert "FIXTURE" in util_output(root, "text-scroller")
    assert deploy(root, sha2, **pwm, **with_fonts).changed == 0
    without = deploy(root, sha2, **pwm)
    assert without.rc == 0, without
    assert not (src / FONT_FILE).parent.exists()
    assert git(root, "rev-list", "--count", "HEAD") == "1"
    assert deploy(root, sha2, **pwm).changed == 0


def image_play_vars(root: Path) -> str:
    """The vars playbooks/image.yml gives the roles inside the image, as a vars file."""
    plays = yaml.safe_load((REPO / "playbooks" / "image.yml").read_text())
    play = next(p for p in plays if p["hosts"] == "pixie_image")
    return vars_file(root, play["vars"], "image-play-vars.yml")


def test_a_baked_image_rebuilds_nothing_on_its_first_site_run(tmp_path):
    """image.yml builds the library with its play vars; the first site.yml against the
    flashed card runs with the inventory's: the build stamp must be the same."""
    (sha,) = make_prefix(tmp_path, commits=1)
    inventory = str(REPO / "inventory" / "group_vars" / "displays" / "main.yml")
    baked = deploy(tmp_path, sha, extra_vars_files=[inventory, image_play_vars(tmp_path)])
    assert baked.rc == 0, baked
    assert len(builds(tmp_path)) == 1
    first_site = deploy(tmp_path, sha, check=True, extra_vars_files=[inventory])
    assert first_site.rc == 0, first_site
    assert first_site.changed == 0, first_site.changed_tasks()
