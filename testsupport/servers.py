"""Servers of a test's or a benchmark's own, on loopback: a free port, waiting until
something answers, a redis-server, a mosquitto broker."""

import getpass
import shutil
import socket
import ssl
import subprocess
import time
import urllib.request
from pathlib import Path

import redis


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port free on loopback now: TCP's, or UDP's with `kind=socket.SOCK_DGRAM`."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, what: str = "condition", timeout: float = 30.0, interval: float = 0.05):
    """predicate()'s first true value, polled until `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


def answers(url: str, tls: ssl.SSLContext | None = None) -> bool:
    """An HTTP server answers `url` with a success (an https:// one verified with `tls`)."""
    try:
        with urllib.request.urlopen(url, timeout=1, context=tls):
            return True
    except OSError:
        return False


def redis_server(workdir: Path, *settings: str, port: int = 0, password: str = "") -> tuple[subprocess.Popen, str]:
    """A redis-server on `port` (default: a free one), once it answers: the process and its URL.

    `settings` are its options (`--databases 1000`, an append-only file, `--include` a config file);
    loopback, no snapshots and `workdir` for its files come after them, so they win over an included file.
    """
    binary = shutil.which("redis-server")
    if not binary:
        raise FileNotFoundError("redis-server is not installed: run `make deps` (apt-get install redis-server)")
    port = port or free_port()
    argv = [binary, *settings, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(workdir)]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    client = redis.Redis(port=port, password=password or None)
    try:
        wait_for(lambda: _pings(client), what=f"redis-server on port {port}")
    except TimeoutError:
        proc.kill()
        raise
    return proc, f"redis://127.0.0.1:{port}"


def mosquitto(workdir: Path, *settings: str, port: int = 0) -> tuple[subprocess.Popen, int]:
    """A real mosquitto broker on loopback `port` (default: a free one), once it takes connections:
    the process and its port. `settings` are mosquitto.conf lines (default: anonymous clients
    allowed, sessions and retained messages kept in `workdir` across a restart)."""
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(binary).exists():
        raise FileNotFoundError("mosquitto is not installed: run `make deps` (apt-get install mosquitto)")
    port = port or free_port()
    conf = workdir / f"mosquitto-{port}.conf"
    # `user`: mosquitto started by root would drop to the `mosquitto` user, who cannot write `workdir`.
    keep = ("allow_anonymous true", "persistence true", f"persistence_location {workdir}/", f"user {getpass.getuser()}")
    lines = settings or keep
    conf.write_text("\n".join([f"listener {port} 127.0.0.1", *lines]) + "\n")
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: _listens(port) or proc.poll() is not None, what=f"mosquitto on port {port}")
    except TimeoutError:
        proc.kill()
        raise
    if proc.poll() is not None:
        raise RuntimeError(f"mosquitto exited ({proc.returncode}) with {conf}")
    return proc, port


def _listens(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def _pings(client: redis.Redis) -> bool:
    try:
        return client.ping()
    except redis.ConnectionError:
        return False
