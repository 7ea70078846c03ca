"""The programs a test runs. One that `make deps` or molecule/install-deps.sh installs is the setup's to
provide: its absence fails the test, naming what installs it, rather than skipping what it would check."""

import shutil

import pytest


def require(*commands: str, by: str = "`make deps`") -> None:
    """Fail unless every command is on PATH (or in /usr/sbin, /sbin: sshd, mkfs.vfat for a user)."""
    missing = [c for c in commands if not (shutil.which(c) or shutil.which(c, path="/usr/sbin:/sbin"))]
    if missing:
        pytest.fail(f"{', '.join(missing)} not installed: {by} installs it", pytrace=False)
