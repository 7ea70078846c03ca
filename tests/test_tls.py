"""HTTPS from a local CA, over the real thing: a CA and a server certificate made for the test
(testsupport/tls.py, as the pixie_tls role makes them), the appliance's web serving them
(`[web] tls_cert`, `tls_key`), clients verifying with that CA and refusing another; the `pixie`
command's --ca, PIXIE_CA and cli.toml's ca; the event stream; scoped tokens over HTTPS."""

import hashlib
import http.client
import ssl
import subprocess
import urllib.error
import urllib.request

import pytest
from test_cli import (
    PIXIE,
    cli,  # noqa: F401 - the fixture: `pixie` with a home of its own
    job_id,
    ok,
    one_error_line,
)

from appliance import Appliance
from pixie import config as configuration
from pixie.local import headless_env
from testsupport import tls
from testsupport.servers import free_port
from testsupport.sse import Listener

ADMIN, READER, PUSHER = "admin-token-1", "read-token-2", "push-token-3"


def named(name: str, scope: str, token: str) -> str:
    return f"{name}:{scope}:{hashlib.sha256(token.encode()).hexdigest()}"


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    return tls.issue(folder / "right"), tls.issue(folder / "wrong", name="other")


@pytest.fixture(scope="module")
def secure(redis_server, tmp_path_factory, certs):
    """A whole appliance over HTTPS only, with an admin token and a read and a push one."""
    right, _ = certs
    appliance = Appliance(
        redis_server,
        tmp_path_factory.mktemp("secure"),
        token=ADMIN,
        ca=right.ca,
        web_tls_cert=right.cert,
        web_tls_key=right.key,
        web_tokens=f"{named('reader', 'read', READER)},{named('pusher', 'push', PUSHER)}",
    )
    appliance.start_web()
    appliance.start_worker("1")
    appliance.start_display()
    yield appliance
    appliance.stop()


def post_text(url: str, context: ssl.SSLContext, token: str) -> int:
    req = urllib.request.Request(
        url + "/api/v1/jobs",
        data=b'{"kind": "text", "text": "tls"}',
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(req, timeout=10, context=context) as resp:
            return resp.status
    except urllib.error.HTTPError as e:
        return e.code


def test_an_https_push_verified_with_the_right_ca_is_accepted_and_played(secure):
    assert secure.url.startswith("https://")
    before = len(secure.frames())
    job = secure.submit(kind="fill", color="#00ff00", duration_s=0.3, priority="high")
    assert secure.wait_state(job, "done")["state"] == "done"
    green = bytes((0, 255, 0)) * 64 * 32
    assert green in [frame for _, frame in secure.frames()[before:]]


def test_a_client_with_another_ca_refuses_the_device(secure, certs):
    _, wrong = certs
    queued = secure.r.llen("rq:queue:default")
    with pytest.raises(urllib.error.URLError) as refused:
        post_text(secure.url, ssl.create_default_context(cafile=wrong.ca), ADMIN)
    assert isinstance(refused.value.reason, ssl.SSLCertVerificationError), refused.value
    assert secure.r.llen("rq:queue:default") == queued


def test_plain_http_to_the_tls_port_gets_no_answer(secure):
    conn = http.client.HTTPConnection("127.0.0.1", secure.port, timeout=10)
    queued = secure.r.llen("rq:queue:default")
    try:
        with pytest.raises((http.client.HTTPException, ConnectionError)):
            conn.request("POST", "/api/v1/jobs", b'{"kind": "clear"}', {"Authorization": f"Bearer {ADMIN}"})
            conn.getresponse()
    finally:
        conn.close()
    assert secure.r.llen("rq:queue:default") == queued


def test_scopes_hold_over_https(secure):
    context = secure.tls
    assert post_text(secure.url, context, READER) == 403
    assert post_text(secure.url, context, PUSHER) == 202
    assert post_text(secure.url, context, "not-a-token") == 401


def test_the_event_stream_over_https(secure):
    with Listener(f"{secure.url}/api/v1/events?access_token={READER}", tls=secure.tls) as events:
        assert events.response.status == 200
        job = secure.submit(kind="fill", color="#0000ff", duration_s=0.1)
        events.wait(lambda: "done" in events.states(job), "the job's done event")
    assert events.states(job)[-1] == "done"


def test_the_cli_verifies_with_ca_or_pixie_ca_or_its_config_file(secure, certs, cli):  # noqa: F811
    right, _ = certs
    token = {"PIXIE_TOKEN": PUSHER}
    # --wait follows the job over the event stream: over HTTPS too
    job = job_id(ok(cli("--ca", str(right.ca), "text", "Hi", "-d", "0.3", "--wait", host=secure.url, env=token)))
    assert secure.state(job)["state"] in ("playing", "done")
    job = job_id(ok(cli("text", "env", "-d", "0.1", host=secure.url, env=token | {"PIXIE_CA": str(right.ca)})))
    assert secure.state(job)["kind"] == "text"
    config = cli.home / ".config" / "pixie" / "cli.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'host = "{secure.url}"\nca = "{right.ca}"\n')
    ok(cli("wait", job, "--until", "done", "--wait-timeout", "30", env=token))
    assert secure.state(job)["state"] == "done"


def test_the_cli_without_the_ca_or_with_another_says_which_it_trusted(secure, certs, cli):  # noqa: F811
    _, wrong = certs
    line = one_error_line(cli("status", host=secure.url))
    assert "certificate is not trusted by the system's trust store" in line, line
    line = one_error_line(cli("--ca", str(wrong.ca), "status", host=secure.url))
    assert f"not trusted by the CA {wrong.ca}" in line, line
    line = one_error_line(cli("--ca", str(cli.home / "absent.pem"), "status", host=secure.url))
    assert "cannot read the CA bundle" in line and "absent.pem" in line, line


def test_tls_cert_and_key_come_together(tmp_path, certs):
    right, _ = certs
    for given, value in (("PIXIE_WEB_TLS_CERT", right.cert), ("PIXIE_WEB_TLS_KEY", right.key)):
        with pytest.raises(configuration.ConfigError, match="web.tls_cert and web.tls_key: set both or neither"):
            configuration.load(tmp_path / "absent.toml", environ={given: str(value)})
    both = {"PIXIE_WEB_TLS_CERT": str(right.cert), "PIXIE_WEB_TLS_KEY": str(right.key)}
    assert configuration.tls_files(configuration.load(tmp_path / "absent.toml", environ=both).web) == (
        str(right.cert),
        str(right.key),
    )


def test_the_web_does_not_start_on_a_key_it_cannot_read(redis_server, tmp_path, certs):
    right, _ = certs
    missing = tmp_path / "absent-key.pem"
    env = headless_env(redis_server, free_port(), tmp_path / "frames.bin", web_tls_cert=right.cert, web_tls_key=missing)
    web = subprocess.run([str(PIXIE.parent / "pixie-web")], env=env, capture_output=True, text=True, timeout=60)
    assert web.returncode != 0
    assert f"web.tls_key: '{missing}' is not readable (No such file or directory)" in web.stderr, web.stderr[-2000:]
