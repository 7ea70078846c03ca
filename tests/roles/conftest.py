"""Fixtures for tests/roles: they live in roles_support.py, which the tests import by that
unique name (two folders each importing `conftest` by name would get whichever loaded last)."""

from roles_support import *  # noqa: F403 - re-exports its fixtures
