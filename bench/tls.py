"""`python -m bench.tls`: the web API over HTTPS (uvicorn's own TLS, `[web] tls_cert`/`tls_key`)
against plain HTTP, on one redis-server (a database each).

- memory (PSS, RSS and private, MB, /proc/PID/smaps_rollup): each web process alone (so that
  no other copy shares its pages), after the same warm-up of pushes kept alive and on new
  connections; the median of ROUNDS rounds, the configurations taking turns (a PSS moves with
  whatever else maps the same libraries);
- a push (POST /api/v1/jobs of a small text job, 202) on one kept-alive connection, and on a new
  connection per request (TCP, and for HTTPS a full handshake: no session resumption), the three
  web processes up together and the samples alternating between them.

HTTPS twice: with an ECDSA P-256 certificate and with an RSA 4096 one (community.crypto's default
key), both from a CA made for the run (testsupport/tls.py). And the road not taken: the distribution's
nginx (one worker, the least it runs with) terminating HTTPS (ECDSA) in front of a plain pixie-web,
its PSS added to the web's. No render worker: a push is answered once it is queued, which is what TLS
adds to.
"""

import http.client
import json
import shutil
import ssl
import statistics
import time

import redis

from pixie.local import Processes, headless_env
from testsupport import tls
from testsupport.servers import answers, free_port, redis_server, wait_for

from .harness import _memory, cli, machine, side_by_side, summaries, workdir

SIZES = {"full": {"samples": 200, "warmup": 50, "rounds": 5}, "smoke": {"samples": 5, "warmup": 3, "rounds": 1}}
KINDS = ("rss_mb", "pss_mb", "private_mb")
CONFIGS = ("http", "https_ec", "https_rsa", "proxy")
NGINX = """daemon off;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    upstream web {{ server 127.0.0.1:{upstream}; keepalive 8; }}
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        client_max_body_size 8m;
        location / {{
            proxy_pass http://web;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For $remote_addr;
        }}
    }}
}}
"""
PUSH = json.dumps({"kind": "text", "text": "hi", "duration_s": 0.1, "priority": "low"}).encode()
HEADERS = {"Content-Type": "application/json"}


class Web:
    """One pixie-web: plain, or serving the certificate `issued` verified by its CA, or (`proxy`) plain
    behind nginx serving it."""

    def __init__(self, work, redis_url: str, db: int, name: str, issued: tls.Issued | None):
        self.port = free_port()
        proxied = name == "proxy"
        web_port = free_port() if proxied else self.port
        settings = {"web_tls_cert": issued.cert, "web_tls_key": issued.key} if issued and not proxied else {}
        self.url = f"{'https' if issued else 'http'}://127.0.0.1:{self.port}"
        self.tls = ssl.create_default_context(cafile=issued.ca) if issued else None
        self.redis_url = f"{redis_url}/{db}"
        redis.Redis.from_url(self.redis_url).flushdb()
        logs = work / f"{name}-logs-{self.port}"
        logs.mkdir()
        env = headless_env(self.redis_url, web_port, work / f"{name}.frames", self.redis_url, **settings)
        env["PIXIE_WEB_MAX_QUEUED_PER_PRIORITY"] = "100000"  # no worker takes the pushes off the queue
        self.processes = Processes(env, logs)
        self.processes.start("web", "pixie-web")
        if proxied:
            wait_for(lambda: answers(f"http://127.0.0.1:{web_port}/openapi.json"), f"{name}'s web")
            conf = logs / "nginx.conf"
            conf.write_text(
                NGINX.format(work=logs, upstream=web_port, port=self.port, cert=issued.cert, key=issued.key)
            )
            self.processes.start(
                "nginx", shutil.which("nginx") or "/usr/sbin/nginx", "-e", str(logs / "err.log"), "-c", str(conf)
            )
        wait_for(lambda: answers(self.url + "/openapi.json", self.tls), f"{name} web")
        self.kept = self.connect()

    def connect(self) -> http.client.HTTPConnection:
        if self.tls:
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=30, context=self.tls)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def push(self, conn: http.client.HTTPConnection) -> float:
        """One push on `conn`, in ms."""
        t0 = time.perf_counter()
        conn.request("POST", "/api/v1/jobs", PUSH, HEADERS)
        response = conn.getresponse()
        response.read()
        elapsed = (time.perf_counter() - t0) * 1000
        assert response.status == 202, response.status
        return elapsed

    def push_kept_alive(self) -> float:
        return self.push(self.kept)

    def push_new_connection(self) -> float:
        conn = self.connect()
        try:
            return self.push(conn)
        finally:
            conn.close()

    def warm_up(self, n: int) -> None:
        for _ in range(n):
            self.push_kept_alive()
            self.push_new_connection()

    def memory(self) -> dict:
        """RSS and PSS in MB: the web's, plus (proxy) nginx's master and worker."""
        parts = [_memory(proc.pid) for proc in self.processes.procs.values()]
        return {key: round(sum(part[key] for part in parts), 1) for key in KINDS}

    def stop(self) -> None:
        self.kept.close()
        self.processes.stop()


def main() -> None:
    args = cli(__doc__)
    sizes = SIZES["smoke" if args.smoke else "full"]
    samples: dict[str, dict[str, list[float]]] = {"push_kept_alive_ms": {}, "push_new_connection_ms": {}}
    with workdir("pixie-bench-tls-") as work:
        server, url = redis_server(work)
        try:
            ec = tls.issue(work / "ec")
            issued = {"http": None, "https_ec": ec, "https_rsa": tls.issue(work / "rsa", kind="rsa"), "proxy": ec}
            rounds: dict[str, list[dict]] = {name: [] for name in CONFIGS}
            for _ in range(sizes["rounds"]):
                for db, name in enumerate(CONFIGS):  # memory: one web process at a time
                    web = Web(work, url, db, name, issued[name])
                    try:
                        web.warm_up(sizes["warmup"])
                        rounds[name].append(web.memory())
                    finally:
                        web.stop()
            memory = {name: {k: statistics.median(m[k] for m in got) for k in KINDS} for name, got in rounds.items()}
            webs = {name: Web(work, url, len(CONFIGS) + db, name, issued[name]) for db, name in enumerate(CONFIGS)}
            try:
                for web in webs.values():
                    web.warm_up(sizes["warmup"])
                for _ in range(sizes["samples"]):  # latency: all up together, alternating
                    for name, web in webs.items():
                        samples["push_kept_alive_ms"].setdefault(name, []).append(web.push_kept_alive())
                        samples["push_new_connection_ms"].setdefault(name, []).append(web.push_new_connection())
            finally:
                for web in webs.values():
                    web.stop()
        finally:
            server.terminate()
            server.wait(10)
    figures = summaries(samples)
    report = {"machine": machine(), "sizes": sizes, "figures": figures, "memory_mb": memory, "memory_rounds": rounds}
    report["samples"] = samples
    (args.out / "tls.json").write_text(json.dumps(report, indent=2))
    pss = {name: memory[name]["pss_mb"] for name in CONFIGS}
    for https, label in (("https_ec", "tls-ec"), ("https_rsa", "tls-rsa"), ("proxy", "nginx")):
        pair = {figure: {"baseline": per["http"], "pixie": per[https]} for figure, per in figures.items()}
        side_by_side(pair, ("PSS, MB", {"baseline": pss["http"], "pixie": pss[https]}), label=label)
    print("private MB (no other process maps it): " + ", ".join(f"{n} {memory[n]['private_mb']}" for n in CONFIGS))
    print("baseline: plain HTTP on the same pixie-web; tls-ec: HTTPS, ECDSA P-256; tls-rsa: HTTPS, RSA 4096;")
    print("nginx: HTTPS (ECDSA P-256) by nginx in front of a plain pixie-web, PSS of both")
    print(f"wrote {args.out / 'tls.json'}")


if __name__ == "__main__":
    main()
