#!/usr/bin/env python3
"""Pixie's HTTP API seen from the controller, for molecule verify.

Talks to the appliance in the VM through the forwarded API port, as a user's
script or phone would.  Every sub-command prints one JSON line and exits 1
when what it checks does not hold.

  smoke    --url U --token-file F            401 without the token; a text and
                                             an image job reach `done`, and
                                             screen.png shows their pixels
  submit   --url U --token-file F --ids OUT [--duration S] [--heavy | --animation]
                                             one job, its id saved to OUT
  wait     --url U --ids FILE --state S      until that job is in state S
  load     --url U --token-file F --ids OUT --count N --concurrency C [--noise]
                                             N POSTs from C clients; accepted
                                             ids saved to OUT
  account  --url U --ids FILE [--ids FILE] [--after T]
                                             every id reaches done, failed or
                                             canceled (none lost); with
                                             --after, each was started after
                                             epoch T (played after a reboot)

  --url https://... is verified with --ca FILE (the local CA's PEM), else the
  system's trust store.
"""

import argparse
import base64
import io
import json
import random
import ssl
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image

FINAL = ("done", "failed", "canceled")
RED, WHITE, BLUE = (255, 0, 0), (255, 255, 255), (0, 0, 255)
# The TLS context every https:// request verifies with (main sets it from --ca).
TLS: ssl.SSLContext | None = None


def request(url: str, method: str = "GET", body: dict | None = None, token: str | None = None, timeout: float = 30):
    """(status, body) where body is parsed JSON, raw bytes, or None."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=TLS) as resp:
            status, raw, ctype = resp.status, resp.read(), resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        status, raw, ctype = e.code, e.read(), e.headers.get("Content-Type", "")
    return status, (json.loads(raw) if "json" in ctype else raw)


def submit(base: str, token: str, spec: dict) -> str:
    """POST a job; like any client, retry while the API says 503 (Redis restarting or loading)."""
    deadline = time.monotonic() + 120
    while (status := (reply := request(f"{base}/api/v1/jobs", "POST", spec, token))[0]) == 503:
        if time.monotonic() > deadline:
            break
        time.sleep(1)
    body = reply[1]
    if status != 202:
        raise SystemExit(f"POST {spec['kind']} job: HTTP {status} {body}")
    return body["id"]


def wait_state(base: str, job_id: str, states: tuple, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        status, body = request(f"{base}/api/v1/jobs/{job_id}")
        if status == 200 and body["state"] in states:
            return body
        if time.monotonic() > deadline:
            raise SystemExit(f"job {job_id} not {'/'.join(states)} within {timeout} s: HTTP {status} {body}")
        time.sleep(0.2)


def screen(base: str) -> Image.Image:
    status, raw = request(f"{base}/api/v1/screen.png?scale=1")
    if status != 200:
        raise SystemExit(f"screen.png: HTTP {status}")
    return Image.open(io.BytesIO(raw)).convert("RGB")


def png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def png(color: tuple, size=(64, 32)) -> str:
    return base64.b64encode(png_bytes(Image.new("RGB", size, color))).decode()


def cmd_smoke(args, token: str) -> dict:
    status, body = request(f"{args.url}/api/v1/jobs", "POST", {"kind": "text", "text": "no token"})
    if status != 401 or "error" not in body:
        raise SystemExit(f"POST without the token: expected 401 with a JSON error, got {status} {body}")
    result = {"no_token": status}
    checks = {
        "text": ({"kind": "text", "text": "Pi", "color": "#ffffff", "background": "#ff0000"}, {RED, WHITE}),
        "image": ({"kind": "image", "data_b64": png(BLUE), "fit": "fill"}, {BLUE}),
    }
    for name, (spec, expected) in checks.items():
        job_id = submit(args.url, token, spec | {"duration_s": 10, "priority": "high"})
        wait_state(args.url, job_id, ("playing",), args.timeout)
        # The display publishes its screen a moment after it starts a job.
        deadline = time.monotonic() + 8
        while not expected <= (colors := {c for _, c in screen(args.url).getcolors(1 << 16)}):
            if time.monotonic() > deadline:
                raise SystemExit(f"{name} job playing but screen.png has {sorted(colors)[:8]}, not {expected}")
            time.sleep(0.2)
        final = wait_state(args.url, job_id, FINAL, args.timeout)
        if final["state"] != "done":
            raise SystemExit(f"{name} job ended {final}")
        result[name] = {"id": job_id, "state": final["state"], "screen_colors": len(colors)}
    return result


def text_job(i: int) -> dict:
    return {"kind": "text", "text": f"job {i}", "duration_s": 0.05}


def heavy_job() -> dict:
    """An animation that keeps a worker busy for many seconds in a VM: 600
    frames (pixie_app_render_max_frames) of 160x160, 20 ms each."""
    frames = [Image.new("RGB", (160, 160), (i % 256, i * 7 % 256, i * 13 % 256)) for i in range(600)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=20)
    return {"kind": "animation", "data_b64": base64.b64encode(out.getvalue()).decode(), "fit": "fill", "repeat": 1}


def noise_job(i: int) -> dict:
    """An image job whose upload does not compress: ~200 KB for Redis to write."""
    image = Image.frombytes("RGB", (256, 256), random.randbytes(256 * 256 * 3))
    return {"kind": "image", "data_b64": base64.b64encode(png_bytes(image)).decode(), "duration_s": 0.05}


def animation_job(seconds: float) -> dict:
    """A 20 fps GIF looping for `seconds`: a frame swapped every 50 ms."""
    frames = [Image.new("RGB", (64, 32), color) for color in (RED, WHITE, BLUE, (0, 255, 0))]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    return {"kind": "animation", "data_b64": base64.b64encode(out.getvalue()).decode(), "duration_s": seconds}


def cmd_submit(args, token: str) -> dict:
    if args.heavy:
        spec = heavy_job()
    elif args.animation:
        spec = animation_job(args.duration)
    else:
        spec = text_job(0) | {"duration_s": args.duration}
    ids = [submit(args.url, token, spec)]
    Path(args.ids[0]).write_text(json.dumps(ids))
    return {"ids": ids}


def cmd_wait(args, _token: str) -> dict:
    (job_id,) = json.loads(Path(args.ids[0]).read_text())
    return wait_state(args.url, job_id, (args.state,), args.timeout)


def cmd_load(args, token: str) -> dict:
    def post(i: int):
        t0 = time.perf_counter()
        try:
            job = noise_job(i) if args.noise else text_job(i)
            status, body = request(f"{args.url}/api/v1/jobs", "POST", job, token, timeout=60)
        except OSError as e:
            status, body = type(e).__name__, None
        return status, body, time.perf_counter() - t0

    t0 = time.perf_counter()
    with ThreadPoolExecutor(args.concurrency) as pool:
        results = list(pool.map(post, range(args.count)))
    wall = time.perf_counter() - t0
    accepted = [body["id"] for status, body, _ in results if status == 202]
    errors: dict[str, int] = {}
    for status, body, _ in results:
        if status != 202:
            if isinstance(status, int) and not (isinstance(body, dict) and "error" in body):
                raise SystemExit(f"HTTP {status} without a JSON reason: {body!r}")
            errors[str(status)] = errors.get(str(status), 0) + 1
    Path(args.ids[0]).write_text(json.dumps(accepted))
    latencies = sorted(t for *_, t in results)
    return {
        "requests": args.count,
        "accepted": len(accepted),
        "errors": errors,
        "requests_per_s": round(args.count / wall, 1),
        "p50_ms": round(1000 * latencies[len(latencies) // 2], 1),
        "p99_ms": round(1000 * latencies[int(len(latencies) * 0.99) - 1], 1),
    }


def cmd_account(args, _token: str) -> dict:
    ids = [i for path in args.ids for i in json.loads(Path(path).read_text())]
    deadline = time.monotonic() + args.timeout
    states: dict[str, dict] = {}
    pending = list(ids)
    while pending and time.monotonic() < deadline:
        for job_id in list(pending):
            try:
                status, body = request(f"{args.url}/api/v1/jobs/{job_id}")
            except OSError:  # the API is still starting (after a reboot)
                break
            if status == 200 and body["state"] in FINAL:
                states[job_id] = body
                pending.remove(job_id)
        if pending:
            time.sleep(1)
    counts: dict[str, int] = {}
    for body in states.values():
        counts[body["state"]] = counts.get(body["state"], 0) + 1
    early = [i for i, b in states.items() if args.after and (b.get("started") or 0) < args.after]
    result = {"jobs": len(ids), "states": counts, "lost": len(pending), "lost_ids": pending[:10]}
    if early:
        result["started_before"] = early[:10]
    if pending or early:
        raise SystemExit(json.dumps(result))
    return result


def cmd_rotation(args, _token: str) -> dict:
    """The apps named in --apps are listed in that order, rendered, and each is seen on screen in turn."""
    names = args.apps.split(",")
    deadline = time.monotonic() + args.timeout
    seen: set[str] = set()
    body: dict = {}
    while time.monotonic() < deadline:
        try:
            status, body = request(f"{args.url}/api/v1/apps")
        except OSError:  # the API is still starting (after a reboot)
            status = None
        if status == 200:
            listed = [a["name"] for a in body["apps"] if a["name"] in names]
            if listed == names and all(a["rendered"] for a in body["apps"] if a["name"] in names):
                seen.add(body["showing"])
                if set(names) <= seen:
                    return {"apps": listed, "seen": sorted(seen & set(names))}
        time.sleep(0.5)
    raise SystemExit(f"the rotation of {names} did not come back: seen on screen {sorted(seen)}, last {body}")


COMMANDS = {
    "smoke": cmd_smoke,
    "submit": cmd_submit,
    "wait": cmd_wait,
    "load": cmd_load,
    "account": cmd_account,
    "rotation": cmd_rotation,
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=sorted(COMMANDS))
    parser.add_argument("--url", required=True, help="http(s)://127.0.0.1:<forwarded port>")
    parser.add_argument("--ca", help="the CA bundle (PEM) that verifies an https:// --url")
    parser.add_argument("--token-file", help="the API token (credentials/<host>/api_token)")
    parser.add_argument("--ids", action="append", default=[], help="job ids file (JSON list)")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=2, help="submit: the job's duration_s")
    parser.add_argument("--heavy", action="store_true", help="submit: a job slow to render")
    parser.add_argument("--animation", action="store_true", help="submit: a 20 fps GIF looping for --duration")
    parser.add_argument("--noise", action="store_true", help="load: ~200 KB image jobs instead of text")
    parser.add_argument("--state", default="playing", help="wait: the state to wait for")
    parser.add_argument("--after", type=float, default=0, help="account: jobs must have started after this epoch")
    parser.add_argument("--apps", default="", help="rotation: the app names, in rotation order, comma-separated")
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args(argv)
    global TLS
    TLS = ssl.create_default_context(cafile=args.ca) if args.ca else None
    token = Path(args.token_file).read_text().strip() if args.token_file else ""
    print(json.dumps(COMMANDS[args.command](args, token)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
