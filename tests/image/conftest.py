"""Fixtures for tests/image: they live in image_support.py, which the tests import by that
unique name (two folders each importing `conftest` by name would get whichever loaded last)."""

import os

import pytest
from image_support import *  # noqa: F403 - re-exports its fixtures


@pytest.hookimpl(tryfirst=True)  # before any fixture: the releases they build need root too
def pytest_runtest_setup(item):
    if item.get_closest_marker("root") and os.geteuid() != 0:
        pytest.skip("needs root (loop devices, mounts, a chroot)")
