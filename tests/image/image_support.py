"""Fixtures for the flash.yml / image.yml tests.

Run from the repo root: ``pytest --confcutdir=tests/image tests/image``
(the cut keeps tests/conftest.py, which needs the app, out of it), with
``-m slow`` for the image builds that a plain run leaves out (pytest.ini).

Nothing is mocked: real ansible-playbook runs of playbooks/flash.yml against
a synthetic Ubuntu-layout image (``make-synthetic-image.sh``, a labelled
stand-in) served over loopback HTTP, read back with mtools.
"""

from __future__ import annotations

import configparser
import contextlib
import functools
import hashlib
import http.server
import os
import re
import subprocess
import sys
import tempfile
import threading
from dataclasses import asdict
from pathlib import Path

import pytest
from ansible_collections.pixie.appliance.plugins.module_utils.partitions import read as read_partition_table

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "roles"))  # not a package: its helpers by name
import cloud_init_schema  # noqa: E402
from make_fixture_repo import make_fixture_repo  # noqa: E402

from testsupport.ansible import PlaybookRun, ansible_playbook  # noqa: E402
from testsupport.tools import require  # noqa: E402

HERE = Path(__file__).resolve().parent
MAKE_IMAGE = HERE / "make-synthetic-image.sh"
IMAGE_NAME = "ubuntu-24.04.3-preinstalled-server-arm64+raspi.img.xz"
TEST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIP8fIhuGd70s3ukEyHiD7R1IwScDHBiNZQFZa34uoHeQ pixie-test"


def run_playbook(playbook: str, tmp: Path, extra: dict, *args: str, timeout: int = 1800) -> PlaybookRun:
    """playbooks/<playbook> from the repo root, the loopback release server not behind a proxy."""
    env = {"no_proxy": "127.0.0.1,localhost", "NO_PROXY": "127.0.0.1,localhost"}
    return ansible_playbook(REPO / "playbooks" / playbook, tmp, extra, *args, env=env, cwd=REPO, timeout=timeout)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    requests: list[str]

    def log_message(self, fmt, *args):  # keep a record instead of stderr noise
        self.server.requests.append(self.path)


class Server:
    def __init__(self, root: Path):
        self.root = root
        handler = functools.partial(QuietHandler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.requests = []
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def requests(self) -> list[str]:
        return self.httpd.requests

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def make_release(out: Path, minimal: bool) -> Path:
    require("sfdisk", "mkfs.vfat", "mke2fs", "mcopy", "xz")
    cmd = [str(MAKE_IMAGE), *(["--minimal"] if minimal else []), str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        if "needs root" in proc.stderr:
            pytest.skip("the Debian root of the synthetic image needs root to build once")
        pytest.fail(f"make-synthetic-image.sh failed:\n{proc.stderr[-3000:]}")
    return Path(proc.stdout.strip().splitlines()[-1])


@contextlib.contextmanager
def served_release(tmp_path_factory, minimal: bool):
    """A synthetic release tree (releases/24.04/release/...) and a loopback server for it."""
    out = tmp_path_factory.mktemp("release-minimal" if minimal else "release-full")
    releases = make_release(out, minimal=minimal)
    server = Server(out)
    try:
        yield releases, server
    finally:
        server.close()


@pytest.fixture(scope="session")
def minimal_release(tmp_path_factory):
    with served_release(tmp_path_factory, minimal=True) as release:
        yield release


@pytest.fixture(scope="session")
def cloud_init_schemas() -> Path:
    """cloud_init_schema.py's folder of cloud-init's schemas (.ci/run fetches it before the tests)."""
    try:
        return cloud_init_schema.schemas()
    except RuntimeError as e:
        pytest.fail(f"{e}: the schema check needs cloud-init's package (python3 {cloud_init_schema.__file__})")


@contextlib.contextmanager
def private_tmp():
    """A private temp folder outside /tmp/pytest-of-<user>: other pytest sessions on the
    machine rotate that one, which must not happen under a mounted image."""
    base = Path(os.environ.get("PIXIE_TEST_TMP", "/var/tmp"))
    path = Path(tempfile.mkdtemp(prefix="pixie-image-test.", dir=base))
    try:
        yield path
    finally:
        subprocess.run(["rm", "-rf", "--one-file-system", str(path)], check=False)


@pytest.fixture
def own_tmp():
    with private_tmp() as path:
        yield path


@pytest.fixture(scope="module")
def module_tmp():
    with private_tmp() as path:
        yield path


def mtype(image: Path | str, offset: int, name: str) -> str:
    proc = subprocess.run(
        ["mtype", "-i", f"{image}@@{offset}", f"::{name}"],
        capture_output=True,
        text=True,
        env=dict(os.environ, MTOOLS_SKIP_CHECK="1"),
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def partitions(image: Path | str) -> list[dict]:
    """{"number", "start", "size", "type"} (bytes) of each partition, as the roles' filter gives them."""
    return [asdict(p) for p in read_partition_table(image).partitions]


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def unpack(xz: Path, image: Path) -> None:
    """image.yml's .img.xz back into a sparse .img (the image is mostly free space)."""
    unxz = subprocess.Popen(["xz", "-dc", str(xz)], stdout=subprocess.PIPE)
    try:
        dd = ["dd", f"of={image}", "bs=4M", "conv=sparse", "status=none"]
        subprocess.run(dd, stdin=unxz.stdout, check=True, timeout=1800)
    finally:
        unxz.stdout.close()  # a dd that failed leaves xz no reader: it ends on SIGPIPE instead of blocking
    assert unxz.wait(60) == 0


def debugfs(image: Path, offset: int, size: int, request: str) -> str:
    dev = subprocess.run(
        ["losetup", "--find", "--show", "--read-only", f"--offset={offset}", f"--sizelimit={size}", str(image)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    try:
        return subprocess.run(["debugfs", "-R", request, dev], capture_output=True, text=True).stdout
    finally:
        subprocess.run(["losetup", "-d", dev], check=False)


def read_root_file(image: Path, offset: int, size: int, path: str) -> str:
    return debugfs(image, offset, size, f"cat {path}")


def ext4_label(image: Path | str, offset: int) -> str:
    with open(image, "rb") as f:
        f.seek(offset + 1024)
        sb = f.read(256)
    assert sb[0x38:0x3A] == b"\x53\xef", "no ext4 superblock"
    return sb[0x78:0x88].rstrip(b"\0").decode()


def root_disk() -> str:
    src = subprocess.run(
        ["findmnt", "-n", "--nofsroot", "-o", "SOURCE", "/"], capture_output=True, text=True
    ).stdout.strip()
    out = subprocess.run(["lsblk", "--inverse", "--list", "-n", "-o", "PATH,TYPE", src], capture_output=True, text=True)
    disks = [line.split()[0] for line in out.stdout.splitlines() if line.split()[-1:] == ["disk"]]
    return disks[0] if disks else ""


def leftovers(work: Path) -> tuple[list[str], list[str]]:
    """Mounts and loop devices of an image build under `work` that are still there."""
    mounts = [m for m in Path("/proc/mounts").read_text().splitlines() if str(work) in m]
    loops = subprocess.run(
        ["losetup", "--list", "--noheadings", "--output", "BACK-FILE"], capture_output=True, text=True
    ).stdout
    return mounts, [line for line in loops.splitlines() if str(work) in line]


def controller_ca_bundle() -> str | None:
    """The CA bundle the controller's pip is told to trust (PIP_CERT, SSL_CERT_FILE, a pip.conf `cert`), if any.

    Where a proxy intercepts TLS, only that bundle makes PyPI reachable; pip inside the image needs it as well.
    """
    candidates = [os.environ.get("PIP_CERT"), os.environ.get("SSL_CERT_FILE")]
    for conf in [Path("/etc/pip.conf"), Path("/etc/xdg/pip/pip.conf"), Path.home() / ".config/pip/pip.conf"]:
        parser = configparser.RawConfigParser()
        parser.read(conf)
        candidates.append(parser.get("global", "cert", fallback=None))
    return next((c for c in candidates if c and Path(c).is_file()), None)


# Written from the controller straight into the mounted root: copy over the
# chroot connection runs one emulated module per file (minutes for a repo).
FIXTURE_PRE_TASKS = """\
- name: Put the FIXTURE rpi-rgb-led-matrix repository into the image
  ansible.builtin.copy:
    src: {fixture}/
    dest: {root}/opt/pixie-fixture/rpi-rgb-led-matrix/
    mode: preserve
  delegate_to: localhost
"""


def converge_vars(tmp: Path, pre_tasks: str = "") -> dict:
    """image.yml variables for a full run of the roles in an image built under tmp/work: hzeller's library from
    a FIXTURE repository (GitHub is out of reach of CI), the headless display back-end, the firewall on,
    secrets in tmp/credentials and, behind a TLS-intercepting proxy, the controller's CA for the build."""
    sha = make_fixture_repo(tmp / "fixture", commits=1)[-1]
    pre = tmp / "pre.yml"
    pre.write_text(FIXTURE_PRE_TASKS.format(fixture=tmp / "fixture", root=tmp / "work" / "root") + pre_tasks)
    values = {
        "pixie_image_converge": True,
        "pixie_image_pre_tasks": str(pre),
        "pixie_rgbmatrix_repo_url": "/opt/pixie-fixture/rpi-rgb-led-matrix",
        "pixie_rgbmatrix_version": sha,
        "pixie_app_display_backend": "headless",
        "pixie_firewall_enabled": True,
        "pixie_common_credentials_dir": str(tmp / "credentials"),
        "pixie_app_build_dir": str(tmp / "wheel"),
    }
    ca = controller_ca_bundle()
    if ca:
        values["pixie_image_build_ca_bundle"] = ca
    return values


def version_of(name: str) -> str:
    return re.search(r"ubuntu-([0-9.]+)-", name).group(1)
