"""pixie_app reinstalls the app only when the wheel's content changed: the
pixie_wheel_digest filter ignores zip timestamps but sees any byte change."""

from __future__ import annotations

import zipfile

from roles_support import ROLES, run_playbook

FILES = {"pixie/__init__.py": b"VERSION = '0.1.0'\n", "pixie-0.1.0.dist-info/METADATA": b"Name: pixie\n"}


def make_wheel(path, files, date):
    with zipfile.ZipFile(path, "w") as wheel:
        for name, data in files.items():
            wheel.writestr(zipfile.ZipInfo(name, date_time=date), data)


def digest(tmp_path, wheel) -> str:
    play = [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [
                {
                    "name": "Digest",
                    "ansible.builtin.debug": {"msg": "{{ '" + str(wheel) + "' | pixie_wheel_digest }}"},
                }
            ],
        }
    ]
    result = run_playbook(tmp_path, play)
    assert result.rc == 0, result
    return result.result("Digest")["msg"]


def test_digest_ignores_timestamps_and_sees_content(tmp_path):
    a, b, c = tmp_path / "a.whl", tmp_path / "b.whl", tmp_path / "c.whl"
    make_wheel(a, FILES, (2026, 1, 1, 0, 0, 0))
    make_wheel(b, FILES, (2026, 5, 19, 12, 30, 0))
    make_wheel(c, {**FILES, "pixie/__init__.py": b"VERSION = '0.1.0'  # changed\n"}, (2026, 1, 1, 0, 0, 0))
    assert a.read_bytes() != b.read_bytes()
    assert digest(tmp_path, a) == digest(tmp_path, b)
    assert digest(tmp_path, a) != digest(tmp_path, c)
    assert len(digest(tmp_path, a)) == 64


def test_digest_of_a_broken_wheel_fails(tmp_path):
    bad = tmp_path / "bad.whl"
    bad.write_bytes(b"not a zip")
    play = [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [
                {"name": "Digest", "ansible.builtin.debug": {"msg": "{{ '" + str(bad) + "' | pixie_wheel_digest }}"}}
            ],
        }
    ]
    result = run_playbook(tmp_path, play)
    assert result.rc != 0
    assert "cannot read wheel" in result.failure() + result.stdout
    assert (ROLES / "pixie_app" / "filter_plugins" / "wheel.py").exists()
