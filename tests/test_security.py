"""Secure by default, over real HTTP: the client allow-list (`[web] allow`) and
the API token's comparison. (Secrets kept out of argv: tests/test_config.py;
out of the rendered units and pixie.toml: tests/roles/test_hardening.py.)"""

import base64
import inspect
import urllib.error

import pytest

from appliance import Appliance
from pixie import config as configuration
from pixie import web
from pixie.web import deps
from testsupport.servers import wait_for

READS = [("GET", "/api/v1/queue"), ("GET", "/healthz"), ("GET", "/openapi.json"), ("GET", "/")]


def answers(appliance, path) -> int | None:
    try:
        return appliance.request("GET", path)[0]
    except (urllib.error.URLError, ConnectionError):
        return None


@pytest.fixture(scope="module")
def fenced(redis_server, tmp_path_factory):
    """An appliance that lets in only 10.0.0.0/8 and 192.168.1.0/24: this test, on 127.0.0.1, is outside."""
    appliance = Appliance(redis_server, tmp_path_factory.mktemp("fenced"), web_allow="10.0.0.0/8, 192.168.1.0/24")
    try:
        appliance.start("web", "pixie-web")
        wait_for(lambda: answers(appliance, "/healthz") == 403, what="pixie-web answering 403")
        yield appliance
    finally:
        appliance.stop()


@pytest.mark.parametrize("method,path", [*READS, ("POST", "/api/v1/jobs"), ("PUT", "/api/v1/brightness")])
def test_a_client_outside_the_allow_list_gets_403_with_a_reason(fenced, method, path):
    body = {"kind": "clear"} if method == "POST" else {"brightness": 5} if method == "PUT" else None
    status, answer, headers = fenced.request(method, path, body)
    assert status == 403, answer
    assert headers["Content-Type"] == "application/json"
    assert answer == {"error": "client 127.0.0.1 is not in the allowed networks ([web] allow)"}
    assert fenced.r.dbsize() == 0, "a refused request changed nothing"


def test_a_client_inside_the_allow_list_is_served(make_appliance):
    appliance = make_appliance(web_allow="192.168.1.0/24,127.0.0.0/8")
    appliance.start_web()
    for method, path in READS:
        assert appliance.request(method, path)[0] in (200, 503), path  # 503: healthz without workers
    status, body, _ = appliance.request("POST", "/api/v1/jobs", {"kind": "clear"})
    assert status == 202, body


def test_an_empty_allow_list_lets_everyone_in(make_appliance):
    appliance = make_appliance()
    appliance.start_web()
    assert appliance.request("GET", "/api/v1/queue")[0] == 200


@pytest.mark.parametrize(
    "host,allowed",
    [
        ("192.168.1.7", True),
        ("::ffff:192.168.1.7", True),  # an IPv4 client of a dual-stack socket
        ("192.168.2.7", False),
        ("fd00::5", True),
        ("fe80::1%eth0", False),
        ("", False),
        (None, False),
        ("not-an-address", False),
    ],
)
def test_allow_list_matching(host, allowed):
    fence = web.AllowList(None, ["192.168.1.0/24", "fd00::/8"])
    assert fence.allowed(host) is allowed


def test_allow_list_settings(tmp_path):
    path = tmp_path / "pixie.toml"
    path.write_text('[web]\nallow = ["192.168.1.0/24", "10.1.2.3"]\n')
    assert configuration.load(path, environ={}).web.allow == ["192.168.1.0/24", "10.1.2.3"]
    env = {"PIXIE_WEB_ALLOW": " 10.0.0.0/8 ,, fd00::/8 "}
    assert configuration.load(path, environ=env).web.allow == ["10.0.0.0/8", "fd00::/8"]
    assert configuration.load(tmp_path / "absent.toml", environ={}).web.allow == []
    for bad, message in [('["192.168.1.0/33"]', "not an address"), ("[10]", "expected a list of strings")]:
        path.write_text(f"[web]\nallow = {bad}\n")
        with pytest.raises(configuration.ConfigError, match=message):
            configuration.load(path, environ={})


def test_token_is_compared_in_constant_time():
    source = inspect.getsource(deps._check)  # the one place the API checks its token (Bearer and Basic)
    assert "hmac.compare_digest(" in source
    assert "== token" not in source and "!= token" not in source


TOKEN = "s3cret-token"  # the guarded appliance's
NEAR_MISSES = [
    "",
    "s3cret-tokem",  # the last byte differs
    "s3cret-toke",  # a prefix
    "s3cret",
    "s3cret-token-",  # the token and one more character
    "S3CRET-TOKEN",
    "s3crét",
    "Bearer s3cret-token",
]
# A call that queues one render job, per scheme: the API's Bearer, and AWTRIX's Basic auth on its own paths.
CALLS = {
    "Bearer": ("/api/v1/jobs", {"kind": "clear"}, lambda token: f"Bearer {token}"),
    "Basic": (
        "/api/notify",
        {"text": "hi"},
        lambda token: "Basic " + base64.b64encode(f"pixie:{token}".encode()).decode(),
    ),
}


def post_with(appliance, scheme: str, token: str) -> int:
    path, body, authorization = CALLS[scheme]
    return appliance.request("POST", path, body, headers={"Authorization": authorization(token)}, token="")[0]


@pytest.mark.parametrize("scheme", CALLS)
@pytest.mark.parametrize("given", NEAR_MISSES)
def test_near_miss_tokens_are_refused(guarded, scheme, given):
    queued = guarded.r.llen("rq:queue:default")
    assert post_with(guarded, scheme, given) == 401
    assert guarded.r.llen("rq:queue:default") == queued


@pytest.mark.parametrize("scheme", CALLS)
def test_the_right_token_is_let_in(guarded, scheme):
    queued = guarded.r.llen("rq:queue:default")
    assert post_with(guarded, scheme, TOKEN) in (200, 202)
    assert guarded.r.llen("rq:queue:default") == queued + 1
