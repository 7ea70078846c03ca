"""pixie_app installs the app with its pinned dependencies and holds Pillow at the
distro's python3-pil: real ansible-playbook, real pip, this machine's own
python3-pil (`make deps` installs it), a virtualenv with --system-site-packages
as on the device. The app is a tiny stand-in package (a wheel built from
tmp_path) so that the run needs nothing from the index but Pillow itself."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from roles_support import REPO, role_defaults, role_tasks, run_playbook, vars_file

SYSTEM_PYTHON = "/usr/bin/python3"


def distro_pillow() -> str:
    done = subprocess.run([SYSTEM_PYTHON, "-c", "import PIL; print(PIL.__version__)"], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail(f"python3-pil is not installed: `make deps` installs it ({done.stderr.strip()})", pytrace=False)
    return done.stdout.strip()


def make_app(root: Path, pillow_minimum: str) -> Path:
    app = root / "app"
    (app / "standin").mkdir(parents=True)
    (app / "standin" / "__init__.py").write_text("")
    (app / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "pixie"\nversion = "0.0.1"\ndependencies = ["Pillow>={pillow_minimum}"]\n\n'
        '[tool.setuptools]\npackages = ["standin"]\n'
    )
    # a lock as `make lock` writes it: a PyPI Pillow the device must not get
    (app / "constraints.txt").write_text("# generated\npillow==13.0.0\nsix==1.17.0\n")
    return app


def install(root: Path, app: Path, check=False, **overrides):
    """install.yml as site.yml runs it, into releases under root (current: root/current)."""
    values = {
        "pixie_app_src": str(app),
        "pixie_app_build_dir": str(root / "wheel"),
        "pixie_app_dist_dir": str(root / "dist"),
        "pixie_app_releases_dir": str(root / "releases"),
        "pixie_common_current": str(root / "current"),
        "pixie_common_rgbmatrix_wheel_dir": str(root / "rgbmatrix-wheel"),
        **overrides,
    }
    play = [
        {
            "name": "pixie_app's install tasks",
            "hosts": "localhost",
            "gather_facts": False,
            "vars_files": role_defaults("pixie_common", "pixie_app")
            + [str(REPO / "roles" / "pixie_app" / "vars" / "main.yml"), vars_file(root, values, "app-vars.yml")],
            "tasks": [{"name": "Install", "ansible.builtin.import_tasks": role_tasks("pixie_app", "install.yml")}],
            "handlers": [
                {"name": "Restart", "ansible.builtin.debug": {"msg": "RESTART"}, "listen": "Pixie code changed"}
            ],
        }
    ]
    return run_playbook(root, play, check=check)


def venv_pillow(root: Path) -> list[str]:
    code = "import PIL; print(PIL.__version__); print(PIL.__file__)"
    return subprocess.run(
        [str(root / "current" / "venv" / "bin" / "python"), "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()


def test_a_release_imports_the_distros_pillow_not_the_locks(tmp_path):
    version = distro_pillow()
    app = make_app(tmp_path, pillow_minimum="9")
    result = install(tmp_path, app)
    assert result.rc == 0, result.failure()
    assert venv_pillow(tmp_path) == [version, "/usr/lib/python3/dist-packages/PIL/__init__.py"]
    pins = (tmp_path / "dist" / "constraints.txt").read_text().splitlines()
    assert f"pillow=={version}" in pins and "pillow==13.0.0" not in pins and "six==1.17.0" in pins
    assert "RESTART" in result.stdout

    again = install(tmp_path, app)
    assert again.rc == 0 and again.changed == 0, again.changed_tasks()


def test_a_distro_pillow_older_than_the_app_needs_fails_naming_the_switch(tmp_path):
    version = distro_pillow()
    newer = f"{int(version.split('.')[0]) + 1}.0"
    result = install(tmp_path, make_app(tmp_path, pillow_minimum=newer))
    assert result.rc != 0
    message = result.failure()
    assert f"python3-pil is {version}, older than the {newer} the app needs" in message
    assert "pixie_app_pillow_from_distro" in message
    assert not (tmp_path / "dist" / "constraints.txt").exists()
