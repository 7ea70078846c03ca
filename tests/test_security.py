"""Secure by default, over real HTTP: the client allow-list (`[web] allow`) and
the API token's comparison. (Secrets kept out of argv: tests/test_config.py;
out of the rendered units and pixie.toml: tests/roles/test_hardening.py.)"""

import base64
import http.client
import inspect
import json
import re
import subprocess
import urllib.error

import pytest

from appliance import Appliance
from pixie import config as configuration
from pixie import web
from pixie.web import access
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
    source = inspect.getsource(access.Access.known)  # the one place the API compares tokens (Bearer and Basic)
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


# -- scoped tokens, rate limits, queue caps, the audit trail (issue 34) -------------------------------

SCOPED = {"reader": ("read", "r-token-1"), "pusher": ("push", "p-token-2"), "boss": ("admin", "a-token-3")}
SCOPED_SETTING = ",".join(f"{name}:{scope}:{access.digest(token)}" for name, (scope, token) in SCOPED.items())
SAMPLES = {"{job_id}": "no-such-job", "{name}": "x", "{name:path}": "x"}


def app_routes() -> list[tuple[str, str]]:
    """Every (method, declared path) the app serves, from the app itself: a route added later is in it."""
    app = web.create_app(configuration.load("/nonexistent.toml", environ={}))
    return [(method, path) for method, path, _ in access.declared(app.routes) if method != "HEAD"]


ROUTES = app_routes()


def test_every_route_has_its_scope_in_the_one_table_and_the_table_no_route_the_app_lacks():
    assert len(ROUTES) > 50, ROUTES
    missing = [(method, path) for method, path in ROUTES if method not in access.ROUTES.get(path, {})]
    missing = [(m, p) for m, p in missing if access.ANY not in access.ROUTES.get(p, {})]
    assert not missing, f"routes without a scope in access.ROUTES: {missing}"
    served = {(m, p) for m, p in ROUTES}
    stale = [
        (method, path)
        for path, methods in access.ROUTES.items()
        for method in methods
        if method != access.ANY and (method, path) not in served
    ]
    assert not stale, f"access.ROUTES names routes the app does not serve: {stale}"
    assert access.required("PATCH", "/api/v1/not-in-the-table") == access.ADMIN  # unknown: the most guarded


def credentials(path: str, token: str) -> tuple[dict, str]:
    """Headers and query for a token the way each client sends it: AWTRIX's Basic auth on its paths, the
    event stream's ?access_token= (EventSource sends no headers), Bearer elsewhere."""
    if path == access.EVENTS:
        return {}, f"?access_token={token}"
    if access._awtrix(path):
        return {"Authorization": "Basic " + base64.b64encode(f"pixie:{token}".encode()).decode()}, ""
    return {"Authorization": f"Bearer {token}"}, ""


def status_of_call(appliance, method: str, path: str, headers: dict, query: str = "") -> int:
    """The status only (an allowed event stream never ends: its headers are enough)."""
    conn = http.client.HTTPConnection("127.0.0.1", appliance.port, timeout=30)
    try:
        body = b"{}" if method in ("POST", "PUT") else None
        conn.request(method, path + query, body, {**headers, "Content-Type": "application/json"})
        return conn.getresponse().status
    finally:
        conn.close()


@pytest.fixture(scope="module")
def scoped(redis_server, tmp_path_factory):
    """An appliance's web API with three named tokens, one per scope (reads guarded, as named tokens make them)."""
    appliance = Appliance(redis_server, tmp_path_factory.mktemp("scoped"), web_tokens=SCOPED_SETTING)
    appliance.start_web()
    yield appliance
    appliance.stop()


@pytest.mark.parametrize("method,path", ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_every_route_lets_in_exactly_the_scopes_its_table_entry_names(scoped, method, path):
    need = access.required(method, path)
    url = path
    for placeholder, sample in SAMPLES.items():
        url = url.replace(placeholder, sample)
    refused = (401, 403)
    if need == access.OPEN:
        assert status_of_call(scoped, method, url, {}) not in refused
        return
    assert status_of_call(scoped, method, url, {}) == 401, "no token"
    wrong, query = credentials(path, "not-a-token")
    assert status_of_call(scoped, method, url, wrong, query) == 401, "an unknown token"
    for name, (scope, token) in SCOPED.items():
        headers, query = credentials(path, token)
        status = status_of_call(scoped, method, url, headers, query)
        if access.Scope[scope.upper()] >= need:
            assert status not in refused, (name, status)
        else:
            assert status == 403, (name, status)


def test_a_token_without_the_scope_gets_403_saying_which_it_needs_and_nothing_is_queued(scoped):
    queued = scoped.r.llen("rq:queue:default")
    status, body, _ = scoped.request("POST", "/api/v1/jobs", {"kind": "clear"}, token="r-token-1")
    assert (status, body) == (403, {"error": "token 'reader' has the read scope; this needs push"})
    status, body, _ = scoped.request("PUT", "/api/v1/brightness", {"brightness": 5}, token="p-token-2")
    assert (status, body) == (403, {"error": "token 'pusher' has the push scope; this needs admin"})
    status, body, headers = scoped.request("GET", "/api/v1/state", token="")
    assert status == 401 and "no API token" in body["error"], body
    assert scoped.r.llen("rq:queue:default") == queued
    assert scoped.request("POST", "/api/v1/jobs", {"kind": "clear"}, token="p-token-2")[0] == 202
    assert scoped.request("PUT", "/api/v1/brightness", {"brightness": 5}, token="a-token-3")[0] == 200


def test_awtrix_basic_auth_takes_the_awtrix_user_or_the_tokens_name(scoped):
    for user, expected in (("pixie", 200), ("pusher", 200), ("boss", 401), ("", 401)):
        auth = "Basic " + base64.b64encode(f"{user}:p-token-2".encode()).decode()
        status, _, headers = scoped.request("POST", "/api/nextapp", headers={"Authorization": auth}, token="")
        assert status == expected, user
        if status == 401:
            assert headers["WWW-Authenticate"] == 'Basic realm="pixie"'


def test_whoami_says_the_presented_tokens_name_and_scope(scoped, guarded, idle):
    for token, answer in [
        ("r-token-1", {"name": "reader", "scope": "read"}),
        ("p-token-2", {"name": "pusher", "scope": "push"}),
        ("a-token-3", {"name": "boss", "scope": "admin"}),
        ("", {"name": None, "scope": "none"}),
        ("wrong", {"name": None, "scope": "none"}),
    ]:
        assert scoped.request("GET", "/api/v1/whoami", token=token)[1] == answer, token
    # The single web.token of old: an admin token named default, with reads open to anyone.
    assert guarded.request("GET", "/api/v1/whoami")[1] == {"name": "default", "scope": "admin"}
    assert guarded.request("GET", "/api/v1/whoami", token="")[1] == {"name": None, "scope": "read"}
    assert idle.request("GET", "/api/v1/whoami")[1] == {"name": None, "scope": "admin"}  # no token at all
    info = scoped.request("GET", "/api/v1/info", token="")[1]
    assert (info["token_required"], info["reads_open"]) == (True, False)
    assert guarded.request("GET", "/api/v1/info", token="")[1]["reads_open"] is True


def post_from(appliance, source: str, token: str) -> tuple[int, dict, http.client.HTTPMessage]:
    """A job POSTed from a client address of the loopback network (127.0.0.2 is one too)."""
    conn = http.client.HTTPConnection("127.0.0.1", appliance.port, timeout=30, source_address=(source, 0))
    try:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        conn.request("POST", "/api/v1/jobs", json.dumps({"kind": "clear"}), headers)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read()), resp.headers
    finally:
        conn.close()


def test_calls_that_change_something_are_limited_per_token_and_per_client(make_appliance):
    tokens = "phone:push:" + access.digest("phone-token") + ",ha:push:" + access.digest("ha-token")
    appliance = make_appliance(web_tokens=tokens, web_rate_per_min=6, web_rate_burst=3, web_rate_exempt="")
    appliance.start_web()
    for _ in range(3):
        assert post_from(appliance, "127.0.0.1", "phone-token")[0] == 202
    status, body, headers = post_from(appliance, "127.0.0.1", "phone-token")
    assert status == 429, body
    assert 1 <= int(headers["Retry-After"]) <= 10  # a call back every 10 s at 6 a minute
    assert "too many calls that change something from token 'phone' and client 127.0.0.1" in body["error"]
    assert post_from(appliance, "127.0.0.2", "phone-token")[0] == 429, "the token's own bucket is empty"
    assert post_from(appliance, "127.0.0.1", "ha-token")[0] == 429, "the client's own bucket is empty"
    assert post_from(appliance, "127.0.0.2", "ha-token")[0] == 202, "another token from another client"
    assert appliance.r.llen("rq:queue:default") == 4, "the refused calls queued nothing"
    headers = {"Authorization": "Bearer phone-token"}
    assert status_of_call(appliance, "GET", "/api/v1/queue", headers) == 200, "reads are not limited"


def test_the_device_itself_is_not_rate_limited_by_default(make_appliance):
    appliance = make_appliance(web_rate_per_min=6, web_rate_burst=2)  # rate_exempt: loopback, the default
    appliance.start_web()
    assert [appliance.request("POST", "/api/v1/jobs", {"kind": "clear"})[0] for _ in range(5)] == [202] * 5


def test_a_full_priority_queue_refuses_with_429_and_queues_nothing(make_appliance):
    appliance = make_appliance(web_max_queued_per_priority=3)
    appliance.start_web()
    for _ in range(3):
        appliance.submit(kind="clear", priority="low")
    status, body, _ = appliance.request("POST", "/api/v1/jobs", {"kind": "clear", "priority": "low"})
    assert (status, body) == (429, {"error": "the low queue is full (3 jobs waiting, web.max_queued_per_priority)"})
    assert appliance.r.llen("rq:queue:low") == 3
    appliance.submit(kind="clear", priority="high")  # another priority's queue has room
    status, body, _ = appliance.request("POST", "/api/notify", {"text": "hi"})  # AWTRIX's door too
    assert status in (200, 202), body
    appliance.submit(kind="clear", priority="default")


def audit_lines(appliance) -> list[str]:
    log = appliance.processes.log_dir / "web.log"
    return [line for line in log.read_text().splitlines() if line.startswith("pixie.audit ")]


def test_every_call_that_changes_something_leaves_one_audit_line_without_the_token(make_appliance):
    appliance = make_appliance(web_tokens=SCOPED_SETTING)
    appliance.start_web()
    appliance.request("GET", "/api/v1/queue", token="r-token-1")  # a read: no line
    calls = [
        ("POST", "/api/v1/jobs", {"kind": "clear"}, "p-token-2", "token=pusher", 202),
        ("POST", "/api/v1/jobs", {"kind": "clear"}, "r-token-1", "token=reader", 403),
        ("PUT", "/api/v1/brightness", {"brightness": 7}, "", "token=-", 401),
        ("PUT", "/api/v1/brightness", {"brightness": 7}, "a-token-3", "token=boss", 200),
        ("DELETE", "/api/v1/jobs/nope", None, "p-token-2", "token=pusher", 404),
        ("POST", "/api/v1/nowhere", {}, "p-token-2", "token=-", 404),  # no route: the guard never ran
        ("POST", "/api/v1/no%0Awhere", {}, "", "token=-", 404),  # a line break in the path stays in its line
    ]
    for method, path, body, token, _, status in calls:
        assert appliance.request(method, path, body, token=token)[0] == status, (method, path)
    wait_for(lambda: len(audit_lines(appliance)) >= len(calls), what="the audit lines")
    lines = audit_lines(appliance)
    assert len(lines) == len(calls), lines
    for line, (method, path, _, _, who, status) in zip(lines, calls, strict=True):
        path = path.replace("%0A", "\\n")
        assert f" {who} client=127.0.0.1 method={method} path={path} status={status}" in line, line
        assert re.search(r"time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00 ", line), line
    text = (appliance.processes.log_dir / "web.log").read_text()
    assert not any(token in text for _, token in SCOPED.values()), "a token in the log"


def test_tokens_rotate_with_a_config_change_and_a_restart(make_appliance):
    appliance = make_appliance(web_tokens="phone:push:" + access.digest("old-token"))
    appliance.start_web()
    assert appliance.request("POST", "/api/v1/jobs", {"kind": "clear"}, token="old-token")[0] == 202
    web_process = appliance.procs["web"]
    web_process.terminate()
    web_process.wait(10)
    appliance.processes.env["PIXIE_WEB_TOKENS"] = "phone:push:" + access.digest("new-token")
    appliance.start_web()
    assert appliance.request("POST", "/api/v1/jobs", {"kind": "clear"}, token="old-token")[0] == 401
    assert appliance.request("POST", "/api/v1/jobs", {"kind": "clear"}, token="new-token")[0] == 202


def test_named_token_settings(tmp_path):
    path = tmp_path / "pixie.toml"
    sha = access.digest("t")
    path.write_text(f'[web]\ntoken = "old"\ntokens = ["phone:push:{sha}", "ha:read:{sha}"]\n')
    assert configuration.load(path, environ={}).web.tokens == [f"phone:push:{sha}", f"ha:read:{sha}"]
    assert configuration.load(path, environ={"PIXIE_WEB_TOKENS": f"a:admin:{sha}"}).web.tokens == [f"a:admin:{sha}"]
    for bad, message in [
        ("phone:push:the-token-itself", "'phone' is not name:scope:sha256hex"),
        ("phone:owner:" + sha, "'phone' is not name:scope:sha256hex"),
        ("the-token-itself", "an entry is not name:scope:sha256hex"),
        (f"default:read:{sha}", "names must be unique"),  # web.token is named default
    ]:
        path.write_text(f'[web]\ntoken = "old"\ntokens = ["{bad}"]\n')
        with pytest.raises(configuration.ConfigError, match=message) as refused:
            configuration.load(path, environ={})
        assert "the-token-itself" not in str(refused.value)


def test_the_hash_is_what_the_documented_command_prints():
    token = "s3cret tok€n"
    printed = subprocess.run(["sha256sum"], input=token.encode(), capture_output=True, check=True)  # printf %s: no \n
    assert printed.stdout.decode().split()[0] == access.digest(token)
