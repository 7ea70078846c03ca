"""cloud-init's own JSON schemas (cloudinit/config/schemas/), from the distro's cloud-init package,
unpacked into the test cache but not installed: its services would configure the controller at boot.

`python3 tests/image/cloud_init_schema.py` fetches them (.ci/run does, before the tests); the test fetches
them itself when they are not there yet. Standard library only: it runs before the venv exists."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

PATTERN = "*/usr/lib/python3/dist-packages/cloudinit/config/schemas"


def cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(os.environ.get("PIXIE_IMAGE_TEST_CACHE") or f"{base}/pixie-image-test") / "cloud-init"


def schemas() -> Path:
    """The schemas folder, downloaded with apt-get the first time; RuntimeError if it cannot be."""
    if not list(cache().glob(PATTERN)):
        with tempfile.TemporaryDirectory() as work:
            download = ["apt-get", "download", "cloud-init"]
            proc = subprocess.run(download, cwd=work, capture_output=True, text=True, timeout=600)
            if proc.returncode != 0:
                raise RuntimeError(f"apt-get download cloud-init failed: {proc.stderr.strip()[-300:]}")
            deb = next(Path(work).glob("cloud-init_*.deb"))
            cache().mkdir(parents=True, exist_ok=True)
            subprocess.run(["dpkg-deb", "-x", str(deb), str(cache() / deb.stem)], check=True, timeout=600)
    return sorted(cache().glob(PATTERN))[-1]


if __name__ == "__main__":
    try:
        print(schemas())
    except RuntimeError as e:
        sys.exit(f"{sys.argv[0]}: {e}")
