"""Real parts for the tests: a redis-server of their own and whole appliances."""

import shutil
import subprocess

import pytest
import redis

from appliance import Appliance, free_port, pings, wait_for


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    binary = shutil.which("redis-server")
    assert binary, "redis-server is not installed: run `make deps` (apt-get install redis-server)"
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        # Every appliance a test starts gets a database of its own.
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--dir",
            str(workdir),
            "--databases",
            "1000",
        ],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    wait_for(lambda: pings(client), what="redis-server")
    yield f"redis://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def make_appliance(redis_server, tmp_path):
    made = []

    def make(**kwargs) -> Appliance:
        appliance = Appliance(redis_server, tmp_path, **kwargs)
        made.append(appliance)
        return appliance

    yield make
    for appliance in made:
        appliance.stop()


@pytest.fixture(scope="module")
def stack(redis_server, tmp_path_factory):
    """A whole appliance shared by a test module: web, two workers, display."""
    appliance = Appliance(redis_server, tmp_path_factory.mktemp("stack"))
    appliance.start_web()
    appliance.start_worker("1", "--with-scheduler")
    appliance.start_worker("2")
    appliance.start_display()
    yield appliance
    appliance.stop()
