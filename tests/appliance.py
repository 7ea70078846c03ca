"""The appliance under test: its real processes (web, `rq worker`s, display
on the headless STAND-IN panel) started from the installed entry points,
talked to over real HTTP."""

import itertools
import json
import ssl
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import redis

from pixie.local import Processes, headless_env
from testsupport.servers import answers, free_port, wait_for

_databases = itertools.count(1)


def fresh_database(redis_url: str) -> str:
    """A database of the test Redis no other appliance or test uses, emptied."""
    url = f"{redis_url}/{next(_databases)}"
    redis.Redis.from_url(url).flushdb()
    return url


class Appliance:
    """One appliance: its own Redis database, web port, workers and display."""

    def __init__(
        self, redis_url: str, tmp: Path, token: str = "", volatile_redis: str = "", ca: Path | None = None, **settings
    ):
        self.redis_url = fresh_database(redis_url)
        self.r = redis.Redis.from_url(self.redis_url)
        # The volatile state in a database of its own, as the device keeps it in a Redis of its own
        # (`volatile_redis`: another server's, to stop one without the other).
        self.volatile_url = fresh_database(volatile_redis or redis_url)
        self.v = redis.Redis.from_url(self.volatile_url)
        self.port = free_port()
        # web_tls_cert and web_tls_key among the settings: HTTPS, verified with the CA that issued them.
        self.url = f"{'https' if 'web_tls_cert' in settings else 'http'}://127.0.0.1:{self.port}"
        self.ca = ca
        self.tls = ssl.create_default_context(cafile=ca) if ca else None
        self.token = token
        self.record = tmp / f"frames-{self.port}.bin"
        env = headless_env(self.redis_url, self.port, self.record, self.volatile_url, web_token=token, **settings)
        logs = tmp / f"logs-{self.port}"
        logs.mkdir()
        self.processes = Processes(env, logs)
        self.procs = self.processes.procs

    def start(self, name: str, *argv: str) -> subprocess.Popen:
        return self.processes.start(name, *argv)

    def start_web(self):
        self.start("web", "pixie-web")
        wait_for(lambda: answers(self.url + "/openapi.json", self.tls), what="pixie-web")

    def start_worker(self, instance: str, *extra: str) -> subprocess.Popen:
        # A new name, not a count: rq drops a dead worker's name from its set meanwhile (after Redis died).
        before = self.r.smembers("rq:workers")
        proc = self.start(f"worker{instance}", "pixie-worker", instance, *extra)
        mine = f".w{instance}.".encode()

        def registered():
            return any(mine in name for name in self.r.smembers("rq:workers") - before)

        wait_for(registered, what=f"worker {instance} registered")
        return proc

    def start_display(self):
        self.start("display", "pixie-display")
        wait_for(lambda: self.v.exists("pixie:display:heartbeat"), what="display heartbeat")

    def start_mqtt(self) -> subprocess.Popen:
        """The MQTT bridge (mqtt_* settings given to the constructor say which broker and device)."""
        return self.start("mqtt", "pixie-mqtt")

    def request(self, method: str, path: str, body=None, headers=None, token: str | None = None):
        """(status, parsed JSON or raw bytes, headers) over real HTTP."""
        headers = dict(headers or {})
        if isinstance(body, dict):
            body = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        token = self.token if token is None else token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(self.url + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30, context=self.tls) as resp:
                return resp.status, _decode(resp), resp.headers
        except urllib.error.HTTPError as e:
            return e.code, _decode(e), e.headers

    def submit(self, **job) -> str:
        status, body, _ = self.request("POST", "/api/v1/jobs", job)
        assert status == 202, body
        return body["id"]

    def state(self, job_id: str) -> dict:
        status, body, _ = self.request("GET", f"/api/v1/jobs/{job_id}")
        assert status == 200, body
        return body

    def wait_state(self, job_id: str, *states: str, timeout=30.0, interval=0.05) -> dict:
        seen = {}

        def reached():
            seen.update(self.state(job_id))
            return seen["state"] in states and seen

        try:
            return wait_for(reached, timeout=timeout, interval=interval, what=f"{job_id} {states}")
        except TimeoutError as e:  # what it was stuck in, and what else was playing, say why
            now = self.request("GET", "/api/v1/jobs?limit=5")[1]["jobs"]
            raise TimeoutError(f"{e}; last seen {seen}; the newest jobs {now}") from None

    def frames(self) -> list[tuple[int, bytes]]:
        from pixie.stream import read_recording

        return read_recording(self.record.read_bytes()) if self.record.exists() else []

    def stop(self):
        self.processes.stop()


def _decode(resp):
    raw = resp.read()
    if resp.headers.get("Content-Type", "").startswith("application/json"):
        return json.loads(raw)
    return raw
