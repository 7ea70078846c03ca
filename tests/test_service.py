"""The service as a whole: every area refuses alike (Redis down, the domain errors' HTTP codes),
and speaks one vocabulary."""

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from pixie import config as configuration
from pixie import errors
from pixie.queues import FUNCTIONS
from pixie.service import Service
from pixie.vocabulary import KINDS, PRIORITIES, STATES, TERMINAL
from pixie.web.problems import status_of
from testsupport.servers import free_port


def test_redis_down_is_unavailable_not_a_crash(tmp_path):
    config = configuration.load(tmp_path / "absent.toml", environ={})
    unreachable = redis.Redis(port=free_port(), retry=Retry(NoBackoff(), 0))  # no port answers: fail at once
    down = Service(unreachable, config)
    with pytest.raises(errors.Unavailable, match="redis is unavailable"):
        down.jobs.submit({"kind": "clear"})
    assert down.system.health()["redis"] is False


def test_refusals_map_to_http_codes_most_specific_first():
    assert [status_of(e("x")) for e in (errors.TooLarge, errors.Unsupported, errors.Invalid)] == [413, 415, 422]
    assert [status_of(e("x")) for e in (errors.NotFound, errors.Conflict, errors.Unavailable)] == [404, 409, 503]


def test_one_vocabulary_for_states_priorities_and_kinds():
    assert set(TERMINAL) < set(STATES)
    assert PRIORITIES == ("high", "default", "low")
    assert set(KINDS) == set(FUNCTIONS)  # every kind has its render function
