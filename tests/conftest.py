"""Real parts for the tests: a redis-server of their own and whole appliances."""

import pytest
import redis

from appliance import Appliance, fresh_database
from pixie import config as configuration
from pixie.service import Service
from testsupport import servers


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    # Every appliance a test starts gets a database of its own.
    proc, url = servers.redis_server(tmp_path_factory.mktemp("redis"), "--databases", "1000")
    yield url
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


@pytest.fixture(scope="module")
def guarded(redis_server, tmp_path_factory):
    """An appliance's web API behind the token s3cret-token, shared by a test module."""
    appliance = Appliance(redis_server, tmp_path_factory.mktemp("guarded"), token="s3cret-token")
    appliance.start_web()
    yield appliance
    appliance.stop()


@pytest.fixture(scope="module")
def idle(redis_server, tmp_path_factory):
    """An appliance's web alone, shared by a test module: what it accepts stays queued (no worker renders it),
    what it refuses says why."""
    appliance = Appliance(redis_server, tmp_path_factory.mktemp("idle"))
    appliance.start_web()
    yield appliance
    appliance.stop()


@pytest.fixture
def service(redis_server, tmp_path):
    """The service in-process over a fresh database, with the default config."""
    config = configuration.load(tmp_path / "absent.toml", environ={})
    return Service(redis.Redis.from_url(fresh_database(redis_server)), config)


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    """A real mosquitto, anonymous clients allowed, for a module's tests: its port."""
    proc, port = servers.mosquitto(tmp_path_factory.mktemp("mosquitto"))
    yield port
    proc.terminate()
    proc.wait(10)
