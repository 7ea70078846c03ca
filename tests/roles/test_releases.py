"""pixie_app's releases: real ansible-playbook and pip against this machine into a
temporary prefix (install.yml as site.yml runs it; test_pillow_hold's stand-in app).
The same inputs make no new release, any changed input makes one and switches
the current link, the one before is recorded for rollback.yml, the oldest are
pruned, and check mode creates nothing. (Proving a release plays and going back
needs the running appliance: molecule's rollback verify.)"""

from __future__ import annotations

import os
from pathlib import Path

from test_pillow_hold import install, make_app


def releases(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "releases").iterdir() if not p.is_symlink())


def current(root: Path) -> str:
    return os.readlink(root / "current")


def bump(app: Path, n: int) -> None:
    """A harmless change to the app's content: a new wheel digest, the same version."""
    (app / "standin" / "__init__.py").write_text(f"CHANGE = {n}\n")


def test_the_same_inputs_make_no_release_and_any_change_switches(tmp_path):
    app = make_app(tmp_path, pillow_minimum="9")
    first = install(tmp_path, app, pixie_app_releases_keep=2)
    assert first.rc == 0, first.failure()
    (one,) = releases(tmp_path)
    assert one.startswith("0.0.1-") and len(one) == len("0.0.1-") + 12
    assert current(tmp_path) == str(tmp_path / "releases" / one)
    assert (tmp_path / "current" / "venv" / ".pixie-release").exists()
    assert not (tmp_path / "releases" / "previous").exists()  # nothing before the first

    again = install(tmp_path, app, pixie_app_releases_keep=2)
    assert again.rc == 0 and again.changed == 0, again.changed_tasks()
    assert releases(tmp_path) == [one]

    # check mode with a changed app: reported, nothing made, nothing switched
    bump(app, 1)
    dry = install(tmp_path, app, check=True, pixie_app_releases_keep=2)
    assert dry.rc == 0, dry.failure()
    assert dry.changed > 0 and releases(tmp_path) == [one] and current(tmp_path).endswith(one)

    switched = install(tmp_path, app, pixie_app_releases_keep=2)
    assert switched.rc == 0, switched.failure()
    (two,) = set(releases(tmp_path)) - {one}
    assert current(tmp_path).endswith(two)
    assert os.readlink(tmp_path / "releases" / "previous") == str(tmp_path / "releases" / one)
    assert "RESTART" in switched.stdout

    # keep 2 besides the current one: the oldest goes, the previous one always stays
    for n in (2, 3):
        bump(app, n)
        assert install(tmp_path, app, pixie_app_releases_keep=2).rc == 0
    kept = releases(tmp_path)
    assert one not in kept and two in kept and len(kept) == 3, kept
    assert os.readlink(tmp_path / "releases" / "previous") != current(tmp_path)

    last = current(tmp_path)
    # the rgbmatrix binding's wheel is an input too
    wheels = tmp_path / "rgbmatrix-wheel"
    wheels.mkdir()
    (wheels / "rgbmatrix-0.0.1-py3-none-any.whl").write_bytes(b"not installable")
    broken = install(tmp_path, app, pixie_app_releases_keep=2)
    assert broken.rc != 0  # pip refuses it: the link stays where it was
    assert current(tmp_path).endswith(last)
