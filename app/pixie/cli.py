"""`pixie`: send things to a Pixie and ask what it is doing, over its HTTP API.

Standard library only (it runs on any laptop with Python 3.11, without the
app's dependencies). The device is `--host`, else `PIXIE_HOST`, else `host` in
~/.config/pixie/cli.toml, else http://127.0.0.1:5000; the token is
`PIXIE_TOKEN`, else `token` in that file. An https:// device's certificate is
verified with `--ca FILE`, else `PIXIE_CA`, else `ca` in that file (the CA
bundle, PEM, that issued it), else the system's trust store.

Exit status: 0 done; 1 the device refused or could not be reached, or a
followed job failed or was canceled, or (`status`) the appliance is
unhealthy; 2 a usage error.
"""

import argparse
import base64
import contextlib
import hashlib
import http.client
import json
import mimetypes
import os
import queue
import re
import ssl
import sys
import threading
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from pathlib import Path

DEFAULT_HOST = "http://127.0.0.1:5000"
# Copies of pixie.vocabulary's (this file runs without the app installed); a test holds them equal.
PRIORITIES = ("high", "default", "low")
STATES = ("scheduled", "queued", "rendering", "ready", "playing", "done", "failed", "canceled")
ENDED = ("done", "failed", "canceled")
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
LAYOUT_FILE = 'a JSON object of the layout\'s fields, e.g. {"children": [{"kind": "text", "text": "Hi"}]}'
EVENTS_SILENT_S = 60  # the device's event stream says something every 15 s at least (a keep-alive)


class Failure(Exception):
    """Something for the person at the shell, on one line; exit 1."""


# ---- settings ----------------------------------------------------------------------------------


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "pixie" / "cli.toml"


def read_config() -> dict:
    path = config_path()
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise Failure(f"cannot read {path}: {e}") from None
    for key in ("host", "token", "ca"):
        if key in data and not isinstance(data[key], str):
            raise Failure(f"{path}: {key} must be a string")
    return data


def normalize_host(host: str) -> str:
    host = host.strip().rstrip("/")
    if "://" not in host:
        host = f"http://{host}"
    parsed = urllib.parse.urlsplit(host)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise Failure(f"not a device address: {host!r} (use http://HOST:PORT)")
    return host


# ---- the device --------------------------------------------------------------------------------


class Device:
    def __init__(self, host: str, token: str, timeout: float, ca: str = ""):
        self.host = host
        self.token = token
        self.timeout = timeout
        self.ca = ca
        try:
            self.tls = ssl.create_default_context(cafile=ca or None)
        except (OSError, ssl.SSLError) as e:
            raise Failure(f"cannot read the CA bundle {ca}: {_why(e)}") from None

    def call(self, method: str, path: str, body=None, content_type: str | None = None, ok=(200, 202)):
        """(status, JSON or bytes); an HTTP error becomes a Failure with the API's reason."""
        with self.reaching(), self.open(method, path, body, content_type, ok) as response:
            return response.status, _decode(response.headers, response.read())

    def open(self, method: str, path: str, body=None, content_type=None, ok=(200, 202), timeout: float | None = None):
        """The response, still to be read (an HTTP error's too, if its status is in `ok`)."""
        headers = {"Accept": "application/json", "User-Agent": "pixie-cli"}
        if isinstance(body, dict):
            body = json.dumps(body).encode()
            content_type = "application/json"
        if content_type:
            headers["Content-Type"] = content_type
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        # S310: normalize_host admits only http and https.
        request = urllib.request.Request(self.host + path, data=body, method=method, headers=headers)  # noqa: S310
        try:
            return urllib.request.urlopen(request, timeout=timeout or self.timeout, context=self.tls)  # noqa: S310
        except urllib.error.HTTPError as e:
            if e.code in ok:
                return e
            data = _decode(e.headers, e.read())
            reason = data.get("error") if isinstance(data, dict) else None
            if e.code == 401:
                raise Failure(f"401 {reason or 'unauthorized'}; set PIXIE_TOKEN or token in {config_path()}") from None
            raise Failure(f"{e.code} {reason or e.reason}") from None

    @contextlib.contextmanager
    def reaching(self):
        """Not reaching the device, or no answer in time, as a Failure."""
        try:
            yield
        except urllib.error.URLError as e:
            if isinstance(e.reason, ssl.SSLCertVerificationError):
                trust = f"the CA {self.ca}" if self.ca else "the system's trust store (no --ca, PIXIE_CA or ca)"
                why = e.reason.verify_message or e.reason.reason
                raise Failure(f"{self.host}'s certificate is not trusted by {trust}: {why}") from None
            raise Failure(f"cannot reach {self.host}: {_why(e.reason)}") from None
        except TimeoutError:
            raise Failure(f"{self.host} did not answer within {self.timeout:g} s") from None
        except (ConnectionError, OSError) as e:
            raise Failure(f"cannot reach {self.host}: {_why(e)}") from None

    def events(self, job_id: str) -> "Events":
        """The job's events, from now on."""
        path = f"/api/v1/events?job={urllib.parse.quote(job_id)}"
        with self.reaching():
            response = self.open("GET", path, ok=(200, 404), timeout=EVENTS_SILENT_S)
        if response.status == 404:
            raise Failure(f"{self.host} has no event stream (/api/v1/events) to follow a job by: update it")
        return Events(response)

    def get(self, path: str, ok=(200,)):
        return self.call("GET", path, ok=ok)[1]


def _decode(headers, raw: bytes):
    if (headers.get("Content-Type") or "").startswith("application/json"):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def _why(reason) -> str:
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason)


# ---- commands ----------------------------------------------------------------------------------


def play_options(args) -> dict:
    out = {"priority": args.priority}
    if args.duration is not None:
        out["duration_s"] = args.duration
    if args.repeat is not None:
        out["repeat"] = args.repeat
    if args.name:
        out["name"] = args.name
    if args.at:
        out["at"] = args.at
    if args.in_s is not None:
        out["in_s"] = args.in_s
    return out


def submitted(device: Device, args, accepted: dict) -> int:
    print(accepted["id"])
    if args.wait:
        return follow(device, accepted["id"], args.wait_timeout)
    return 0


def cmd_text(device: Device, args) -> int:
    body = {"kind": "text", "text": args.text, "color": args.color, "background": args.background, **play_options(args)}
    for key in ("font", "icon", "size", "speed", "scroll"):
        if getattr(args, key) is not None:
            body[key] = getattr(args, key)
    return submitted(device, args, device.call("POST", "/api/v1/jobs", body)[1])


def json_file(name: str, shape: type, example: str):
    """The JSON in a file, or stdin for "-", if it is a `shape` (list or dict); the device checks the rest."""
    try:
        raw = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
    except OSError as e:
        raise Failure(f"cannot read {name}: {_why(e)}") from None
    try:
        value = json.loads(raw)
    except ValueError as e:
        raise Failure(f"{name} is not JSON: {e}") from None
    if not isinstance(value, shape):
        raise Failure(f"{name}: expected {example}")
    return value


def cmd_draw(device: Device, args) -> int:
    drawing = json_file(args.file, list, 'a JSON list of primitives, e.g. [{"op": "pixel", "x": 0, "y": 0}]')
    body = {"kind": "draw", "draw": drawing, "background": args.background, **play_options(args)}
    return submitted(device, args, device.call("POST", "/api/v1/jobs", body)[1])


def cmd_layout(device: Device, args) -> int:
    """The layout's fields from a file (`kind` may be there too, as in the API's examples)."""
    fields = json_file(args.file, dict, LAYOUT_FILE)
    body = {**fields, "kind": "layout", **looks(args, background="background"), **play_options(args)}
    return submitted(device, args, device.call("POST", "/api/v1/jobs", body)[1])


def number(text: str) -> int | float:
    """A number as written: 40 stays an integer; the device says what it takes (0..100, finite)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    return int(value) if value.is_integer() else value


def looks(args, **fields: str) -> dict:
    """The options given, under the device's field names (`fields`: option attribute -> field)."""
    return {field: getattr(args, key) for key, field in fields.items() if getattr(args, key) is not None}


def cmd_progress(device: Device, args) -> int:
    body = {"kind": "progress", "progress": args.progress, "color": args.color, "background": args.background}
    body |= looks(args, text="text", icon="icon", bar_color="progress_color", bar_bg="progress_bg")
    return submitted(device, args, device.call("POST", "/api/v1/jobs", {**body, **play_options(args)})[1])


def cmd_chart(device: Device, args) -> int:
    body = {"kind": "chart", "values": args.values, "style": "line" if args.line else "bar"}
    body |= {"color": args.color, "background": args.background, **looks(args, min="min", max="max", icon="icon")}
    body |= looks(args, bar_bg="bar_background", baseline="baseline", baseline_color="baseline_color")
    return submitted(device, args, device.call("POST", "/api/v1/jobs", {**body, **play_options(args)})[1])


def cmd_push(device: Device, args) -> int:
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise Failure(f"cannot read {path}: {_why(e)}") from None
    if not data:
        raise Failure(f"{path} is empty")
    content_type = mimetypes.guess_type(path.name)[0]
    if not content_type or not content_type.startswith("image/"):
        content_type = "application/octet-stream"  # the device looks at the bytes
    query = {"fit": args.fit, **play_options(args)}
    if args.kind:
        query["kind"] = args.kind
    url = "/api/v1/jobs?" + urllib.parse.urlencode(query)
    return submitted(device, args, device.call("POST", url, data, content_type=content_type)[1])


def cmd_clear(device: Device, args) -> int:
    return submitted(device, args, device.call("POST", "/api/v1/jobs", {"kind": "clear", **play_options(args)})[1])


def cmd_status(device: Device, args) -> int:
    health = device.get("/healthz", ok=(200, 503))
    view = device.get("/api/v1/queue")
    brightness = device.get("/api/v1/brightness")["brightness"]
    ok = bool(health.get("ok"))
    age = health.get("display_heartbeat_age_s")
    display = "silent" if age is None else f"heartbeat {age:.1f} s ago"
    print(f"Pixie at {device.host}: {'healthy' if ok else 'UNHEALTHY'}")
    redis_state = "up" if health.get("redis") else "DOWN"
    print(f"  redis {redis_state}, {health.get('workers', 0)} render worker(s), display {display}")
    now = view.get("now_playing")
    if now:
        job = device.get(f"/api/v1/jobs/{now['id']}", ok=(200, 404))
        kind = job.get("kind") if isinstance(job, dict) else None
        print(f"Now playing: {kind or 'job'} {now['id']} ({now.get('priority', '?')})")
    elif view.get("app"):
        print(f"Now playing: app {view['app']}")
    else:
        print("Now playing: nothing")
    print(f"Brightness: {brightness} %")
    print(f"Waiting for the display: {len(view.get('ready', []))}")
    print()
    rows = [[name, q["queued"], q["started"], q["failed"]] for name, q in view["queues"].items()]
    print(table(["QUEUE", "QUEUED", "RENDERING", "FAILED"], rows))
    print()
    workers = [[w["name"], w["state"], w.get("job") or "-"] for w in view["workers"]]
    print(table(["WORKER", "STATE", "JOB"], workers) if workers else "No render worker is running.")
    return 0 if ok else 1


def cmd_jobs(device: Device, args) -> int:
    query = {"limit": args.limit, **({"state": args.state} if args.state else {})}
    jobs = device.get("/api/v1/jobs?" + urllib.parse.urlencode(query))["jobs"]
    if not jobs:
        print("No jobs.")
        return 0
    rows = [
        [
            j["id"],
            j.get("kind") or "-",
            j.get("priority") or "-",
            j["state"],
            _clock(j.get("created")),
            " ".join(filter(None, [j.get("name") and f"name={j['name']}", j.get("reason")])) or "",
        ]
        for j in jobs
    ]
    print(table(["ID", "KIND", "PRIORITY", "STATE", "CREATED", "NOTE"], rows))
    return 0


def resolve(device: Device, job_id: str) -> str:
    """A full job id from a unique prefix of one (the page shows 8 characters)."""
    if len(job_id) >= 32:
        return job_id
    jobs = device.get("/api/v1/jobs?limit=500")["jobs"]
    matches = [j["id"] for j in jobs if j["id"].startswith(job_id)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise Failure(f"no recent job starts with {job_id!r}")
    raise Failure(f"{job_id!r} is ambiguous: {', '.join(m[:12] for m in matches[:5])}")


def cmd_cancel(device: Device, args) -> int:
    job = device.call("DELETE", f"/api/v1/jobs/{resolve(device, args.id)}")[1]
    print(f"{job['id']} {job['state']}")
    return 0


def cmd_requeue(device: Device, args) -> int:
    job = device.call("POST", f"/api/v1/jobs/{resolve(device, args.id)}/requeue")[1]
    print(f"{job['id']} {job['state']}")
    if args.wait:
        return follow(device, job["id"], args.wait_timeout)
    return 0


def cmd_wait(device: Device, args) -> int:
    return follow(device, resolve(device, args.id), args.wait_timeout, until=args.until)


def cmd_brightness(device: Device, args) -> int:
    if args.value is None:
        body = device.get("/api/v1/brightness")
    else:
        body = device.call("PUT", "/api/v1/brightness", {"brightness": args.value})[1]
    print(body["brightness"])
    return 0


def cmd_transition(device: Device, args) -> int:
    body = device.get("/api/v1/transition")
    if args.name is not None or args.ms is not None:
        setting = {"transition": args.name or body["transition"], "transition_ms": body["transition_ms"]}
        if args.ms is not None:
            setting["transition_ms"] = args.ms
        body = device.call("PUT", "/api/v1/transition", setting)[1]
    print(f"{body['transition']} {body['transition_ms']} ms")
    return 0


def cmd_power(device: Device, args) -> int:
    if args.value is None:
        body = device.get("/api/v1/power")
    else:
        body = device.call("PUT", "/api/v1/power", {"on": args.value == "on"})[1]
    print("on" if body["on"] else "off")
    return 0


# A window's start or end, loosely (the device checks it): where START-END splits when START has an offset.
_WINDOW_TIME = re.compile(r"[0-9:]+|sun(rise|set)([+-][0-9hms]+)?")


def time_window(text: str) -> dict:
    """START-END, e.g. 07:00-09:30 or sunset-30m-sunrise (the device checks the times)."""
    splits = [(text[:i], text[i + 1 :]) for i, c in enumerate(text) if c == "-"]
    if not splits:
        raise argparse.ArgumentTypeError(f"{text!r} is not START-END, e.g. 07:00-09:30 or sunset-30m-sunrise")
    start, end = next((s for s in splits if all(_WINDOW_TIME.fullmatch(t) for t in s)), splits[0])
    return {"start": start, "end": end}


def night_window(text: str) -> dict:
    """START-END=BRIGHTNESS, e.g. 22:30-07:00=0 or sunset-sunrise+30m=10."""
    try:
        span, brightness = text.split("=")
        return time_window(span) | {"brightness": int(brightness)}
    except (ValueError, argparse.ArgumentTypeError):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not START-END=BRIGHTNESS, e.g. 22:30-07:00=0 or sunset-sunrise+30m=10"
        ) from None


def days_option(args) -> dict:
    """--days mon,tue: the days the windows start on (left out: the device's default, every day)."""
    return {"days": args.days.split(",")} if args.days else {}


def cmd_schedule(device: Device, args) -> int:
    if args.action == "set":
        extra = {"fade_min": args.fade} | days_option(args)
        windows = [window | extra for window in args.windows]
        body = device.call("PUT", "/api/v1/schedule", {"windows": windows})[1]
    else:
        body = device.get("/api/v1/schedule")
    state = "a window is open" if body["window_open"] else "no window open"
    print(f"Night mode ({body['timezone']}): brightness {body['brightness']} % now, {state}")
    if body.get("next_change"):
        print(f"  next change {datetime.fromisoformat(body['next_change']):%a %Y-%m-%d %H:%M:%S}")
    for w in body["windows"]:
        fade = f", fade {w['fade_min']} min" if w.get("fade_min") else ""
        print(f"  {w['start']}-{w['end']}  {w['brightness']:>3} %  {','.join(w['days'])}{fade}")
    if not body["windows"]:
        print("  no windows: the base brightness all day")
    return 0


def app_content(args) -> dict:
    """--text, --fill, --clock, --countdown or --file: what the app shows."""
    if args.text is not None:
        looks = {key: getattr(args, key) for key in ("font", "icon") if getattr(args, key)}
        return {"kind": "text", "text": args.text, "color": args.color, **looks}
    if args.fill is not None:
        return {"kind": "fill", "color": args.fill}
    if args.countdown is not None:
        return {"kind": "countdown", "to": args.countdown, "color": args.color}
    if args.clock is not None:
        return {"kind": "clock", "format": args.clock, "color": args.color} | (
            {"timezone": args.timezone} if args.timezone else {}
        )
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise Failure(f"cannot read {path}: {_why(e)}") from None
    kind = args.kind or ("animation" if path.suffix.lower() in (".gif", ".webp") else "image")
    return {"kind": kind, "data_b64": base64.b64encode(data).decode()}


def cmd_app(device: Device, args) -> int:
    if args.action == "set":
        body = {"content": app_content(args), "enabled": not args.disabled, "now": args.now}
        if args.dwell is not None:
            body["dwell_s"] = args.dwell
        if args.position is not None:
            body["position"] = args.position
        if args.window:
            body["schedule"] = [window | days_option(args) for window in args.window]
        if args.lifetime is not None:
            body["lifetime_s"] = args.lifetime
        if args.transition is not None:
            body["transition"] = args.transition
        if args.transition_ms is not None:
            body["transition_ms"] = args.transition_ms
        device.call("PUT", f"/api/v1/apps/{urllib.parse.quote(args.name)}", body)
    elif args.action == "rm":
        device.call("DELETE", f"/api/v1/apps/{urllib.parse.quote(args.name)}")
    elif args.action in ("pin", "unpin"):
        device.call("POST" if args.action == "pin" else "DELETE", f"/api/v1/apps/{urllib.parse.quote(args.name)}/pin")
    elif args.action in ("next", "previous"):
        device.call("POST", f"/api/v1/rotation/{args.action}")
        return 0
    rotation = device.get("/api/v1/apps")
    rows = [
        [
            ("*" if a["name"] == rotation["pinned"] else "") + (">" if a["name"] == rotation["showing"] else ""),
            a["name"],
            a["content"]["kind"],
            a["dwell_s"] if a["dwell_s"] is not None else "-",
            "yes" if a["enabled"] else "no",
            schedule_text(a),
            "yes" if a["rendered"] else "not yet",
        ]
        for a in rotation["apps"]
    ]
    header = ["", "NAME", "KIND", "DWELL S", "ENABLED", "SCHEDULE", "RENDERED"]
    print(table(header, rows) if rows else "no apps: the idle screen")
    return 0


def schedule_text(app: dict) -> str:
    """Its windows (days shown unless every day), and whether one is open now."""
    if not app["schedule"]:
        return "always"
    spans = [
        f"{w['start']}-{w['end']}" + ("" if len(w["days"]) == 7 else " " + ",".join(w["days"])) for w in app["schedule"]
    ]
    return "; ".join(spans) + ("" if app["on_schedule"] else " (closed now)")


def cmd_library(device: Device, args) -> int:
    """`font` or `icon` (args.kind): add, list or rm."""
    path = f"/api/v1/{args.kind}s"
    if args.action == "add":
        file = Path(args.file)
        try:
            data = file.read_bytes()
        except OSError as e:
            raise Failure(f"cannot read {file}: {_why(e)}") from None
        entries = [device.call("PUT", f"{path}/{urllib.parse.quote(args.name)}", data, "application/octet-stream")[1]]
    elif args.action == "rm":
        device.call("DELETE", f"{path}/{urllib.parse.quote(args.name)}")
        return 0
    else:
        entries = device.get(path)[f"{args.kind}s"]
    rows = [library_row(args.kind, e) for e in entries]
    print(table(LIBRARY_COLUMNS[args.kind], rows) if rows else f"no {args.kind}s")
    return 0


LIBRARY_COLUMNS = {"font": ["NAME", "HEIGHT", "BYTES", "COVERAGE"], "icon": ["NAME", "SIZE", "FRAMES", "BYTES"]}


def library_row(kind: str, entry: dict) -> list:
    if kind == "icon":
        return [entry["name"], f"{entry['width']}x{entry['height']}", entry["frames"], entry["bytes"]]
    coverage = ", ".join(f"{script} {n}" for script, n in (entry.get("coverage") or {}).items() if n)
    size = entry["bytes"] if entry.get("bytes") is not None else "built-in"
    return [entry["name"], entry["height"] or "any", size, coverage or "-"]


def cmd_screenshot(device: Device, args) -> int:
    png = device.get(f"/api/v1/screen.png?scale={args.scale}")
    if not isinstance(png, bytes) or not png.startswith(b"\x89PNG\r\n\x1a\n"):
        raise Failure("the device did not answer with a PNG")
    return save(png, args.out)


def save(data: bytes, out: str) -> int:
    """Write what the device answered to a file (and say which), or with `-` to stdout."""
    if out == "-":
        sys.stdout.buffer.write(data)
        return 0
    try:
        Path(out).write_bytes(data)
    except OSError as e:
        raise Failure(f"cannot write {out}: {_why(e)}") from None
    print(out)
    return 0


def cmd_whoami(device: Device, args) -> int:
    who = device.get("/api/v1/whoami")
    print(f"{who['name'] or '(no token)'}: {who['scope']}")
    return 0


def cmd_hash_token(_: Device, args) -> int:
    """`[web] tokens`' entry for the token on stdin (not argv: that shows in `ps` and the shell's history)."""
    token = sys.stdin.readline().rstrip("\r\n")
    if not token:
        raise Failure("no token on stdin, e.g. pixie hash-token phone push < phone.token")
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", args.name):
        raise Failure(f"a token's name is 1-64 letters, digits, _ . or -, got {args.name!r}")
    print(f"{args.name}:{args.scope}:{hashlib.sha256(token.encode()).hexdigest()}")
    return 0


def cmd_backup(device: Device, args) -> int:
    """Everything set up on the device (GET /api/v1/backup), as it sent it, to a file or stdout."""
    with device.reaching(), device.open("GET", "/api/v1/backup") as response:
        return save(response.read(), args.file)


def cmd_restore(device: Device, args) -> int:
    """A backup (a file, or stdin) onto the device, replacing what it has: refused whole, or applied whole."""
    try:
        document = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as e:
        raise Failure(f"cannot read {args.file}: {_why(e)}") from None
    restored = device.call("POST", "/api/v1/restore", document, "application/json")[1]
    manifest = restored["manifest"]
    print(
        f"restored {len(restored['apps'])} apps, {restored['fonts']} fonts, {restored['icons']} icons"
        f" from {manifest['device']} (Pixie {manifest['pixie']}, {manifest['created']})"
    )
    return 0


# ---- following a job ---------------------------------------------------------------------------


class Events:
    """A job's events (GET /api/v1/events?job=), read by a thread of its own so that whoever
    follows them can wait with a timeout: ("job", data), ("missed", data), or None once the
    stream has ended."""

    def __init__(self, response):
        self.queue = queue.Queue()
        threading.Thread(target=self._read, args=(response,), daemon=True).start()

    def _read(self, response) -> None:
        kind, data = "message", []
        try:
            for raw in response:  # text/event-stream: `field: value` lines, a blank line ends an event
                line = raw.decode().rstrip("\r\n")
                if not line:
                    if data:
                        self.queue.put((kind, json.loads("\n".join(data))))
                    kind, data = "message", []
                elif line.startswith("event:"):
                    kind = line.removeprefix("event:").strip()
                elif line.startswith("data:"):
                    data.append(line.removeprefix("data:").removeprefix(" "))
        except (OSError, ValueError, http.client.HTTPException):
            pass  # cut off: the follower subscribes again
        finally:
            self.queue.put(None)

    def next(self, timeout: float):
        """The next event, None once the stream has ended, or False if none came within `timeout`."""
        try:
            return self.queue.get(timeout=timeout)
        except queue.Empty:
            return False


def follow(device: Device, job_id: str, timeout: float, until: str = "playing") -> int:
    """Follow a job until it plays (or, with until="done", ends); progress on stderr. Its events say
    when it moved; its record is read on (re)subscribing, after `missed` and at the goal."""
    goal = ("playing", *ENDED) if until == "playing" else ENDED
    live = sys.stderr.isatty()
    start, last, tick = time.monotonic(), None, 0
    events, state = None, None
    while True:
        if events is None:
            events, state = device.events(job_id), None  # subscribed first: nothing after the read is missed
        if state is None or state in goal:
            job = device.get(f"/api/v1/jobs/{job_id}")  # the record has the last word
            state = job["state"]
        elapsed = time.monotonic() - start
        if live:
            sys.stderr.write(f"\r{SPINNER[tick % len(SPINNER)]} {job_id[:8]} {state:<9} {elapsed:5.1f} s")
            sys.stderr.flush()
            tick += 1
        elif state != last:
            sys.stderr.write(f"{job_id[:8]} {state} ({elapsed:.1f} s)\n")
        last = state
        if state in goal:
            break
        if elapsed > timeout:
            if live:
                sys.stderr.write("\n")
            raise Failure(f"job {job_id} still {state} after {timeout:g} s")
        event = events.next(timeout=0.2)
        if event is None:
            events = None
        elif event:
            kind, data = event
            state = data["state"] if kind == "job" else None
    if live:
        sys.stderr.write("\n")
    if state == "failed":
        raise Failure(f"job {job_id} failed: {job.get('reason') or 'no reason given'}")
    if state == "canceled":
        raise Failure(f"job {job_id} was canceled" + (f" ({job['reason']})" if job.get("reason") else ""))
    print(state)
    return 0


# ---- output ------------------------------------------------------------------------------------


def table(headers: list[str], rows: list[list]) -> str:
    """Columns padded to fit; numbers right-aligned."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    numeric = [bool(rows) and all(isinstance(r[i], int) for r in rows) for i in range(len(headers))]

    def line(values):
        padded = (v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True))
        return "  ".join(padded).rstrip()

    return "\n".join([line(headers), *(line(r) for r in cells)])


def _clock(timestamp) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%H:%M:%S") if timestamp else "-"


# ---- command line ------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="pixie",
        description="Send text and images to a Pixie LED-matrix display, and see what it is doing.",
        epilog=f"Device: --host, PIXIE_HOST or host in {config_path()} (default {DEFAULT_HOST}). "
        "Token: PIXIE_TOKEN or token in that file. CA for an https:// device: --ca, PIXIE_CA or ca in that file "
        "(default: the system's trust store).",
    )
    p.add_argument("--host", help=f"the device, e.g. http://pixie.local:5000 (default {DEFAULT_HOST})")
    p.add_argument("--ca", metavar="FILE", help="the CA bundle (PEM) that verifies an https:// device's certificate")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for each HTTP answer (default 10)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _sending(sub)
    _following(sub)
    _panel(sub)
    return p


def _play_options(cmd, default_priority="default"):
    cmd.add_argument("-p", "--priority", choices=PRIORITIES, default=default_priority)
    end = cmd.add_mutually_exclusive_group()
    end.add_argument("-d", "--duration", type=float, metavar="S", help="play for this many seconds")
    end.add_argument("-r", "--repeat", type=int, metavar="N", help="play the frames N times")
    cmd.add_argument("--name", help="a later job with the same name replaces this one")
    when = cmd.add_mutually_exclusive_group()
    when.add_argument("--at", metavar="TIME", help="play it then: HH:MM (the device's time) or ISO 8601")
    when.add_argument("--in", dest="in_s", type=float, metavar="S", help="play it this many seconds from now")
    _wait_options(cmd)


def _wait_options(cmd):
    cmd.add_argument("-w", "--wait", action="store_true", help="follow the job until it plays (or ends)")
    cmd.add_argument("--wait-timeout", type=float, default=120.0, metavar="S", help="give up after (default 120)")


def _sending(sub) -> None:
    """The commands that send a job."""
    text = sub.add_parser("text", help="show text")
    text.add_argument("text")
    text.add_argument("-c", "--color", default="#ffffff", help="#rrggbb or a CSS name (default white)")
    text.add_argument("-b", "--background", default="#000000")
    text.add_argument("--font", help="a built-in font (`pixie font list`), auto, sans, or an uploaded one")
    text.add_argument("--icon", help="an icon of the library, left of the text")
    text.add_argument("--size", type=int, help="font size in pixels (sans)")
    text.add_argument("-s", "--speed", type=float, help="scroll speed, pixels per second (default 32)")
    text.add_argument("--scroll", action=argparse.BooleanOptionalAction, help="default: when wider than the panel")
    _play_options(text)
    text.set_defaults(run=cmd_text)

    draw = sub.add_parser("draw", help="draw pixels, lines, rectangles, circles, text and bitmaps")
    draw.add_argument(
        "file", help='a JSON list of primitives, e.g. [{"op": "circle", "x": 8, "y": 8, "r": 4}]; - : stdin'
    )
    draw.add_argument("-b", "--background", default="#000000")
    _play_options(draw)
    draw.set_defaults(run=cmd_draw)

    layout = sub.add_parser("layout", help="compose rows, columns, texts, icons, bars, charts and drawings")
    layout.add_argument(
        "file",
        help=f"{LAYOUT_FILE}; - : stdin",
    )
    layout.add_argument("-b", "--background", help="default: the file's, else black")
    _play_options(layout)
    layout.set_defaults(run=cmd_layout)

    progress = sub.add_parser("progress", help="show a progress bar, with a text above it")
    progress.add_argument("progress", type=number, metavar="PERCENT", help="how full the bar is, 0..100")
    progress.add_argument("--text", help="a still line above the bar (default: the bar alone)")
    progress.add_argument("-c", "--color", default="#ffffff", help="the text's colour (default white)")
    progress.add_argument("-b", "--background", default="#000000")
    progress.add_argument("--bar-color", help="the filled part (default green)")
    progress.add_argument("--bar-bg", help="the rest of the bar (default white)")
    progress.add_argument("--icon", help="an icon of the library, at the left")
    _play_options(progress)
    progress.set_defaults(run=cmd_progress)

    chart = sub.add_parser("chart", help="show a bar chart (or --line) of numbers")
    chart.add_argument("values", nargs="+", type=number, metavar="VALUE", help="at most one a column of the panel")
    chart.add_argument("--line", action="store_true", help="a line chart (default: bars)")
    chart.add_argument("--min", type=number, help="the value at the bottom (default: autoscale)")
    chart.add_argument("--max", type=number, help="the value at the top (default: autoscale)")
    chart.add_argument("-c", "--color", default="#ffffff", help="the bars or the line (default white)")
    chart.add_argument("-b", "--background", default="#000000")
    chart.add_argument("--bar-bg", help="each bar's column behind it, all the way up")
    chart.add_argument("--baseline", type=number, help="a line at this value, bars rise from it")
    chart.add_argument("--baseline-color", help="its colour (default grey)")
    chart.add_argument("--icon", help="an icon of the library, at the left")
    _play_options(chart)
    chart.set_defaults(run=cmd_chart)

    push = sub.add_parser("push", help="show an image or play a GIF / animated WebP")
    push.add_argument("file")
    push.add_argument("--fit", choices=("fit", "fill", "center"), default="fit")
    push.add_argument("--kind", choices=("image", "animation"), help="default: animation when it has frames")
    _play_options(push)
    push.set_defaults(run=cmd_push)

    clear = sub.add_parser("clear", help="blank the panel (a high-priority clear job)")
    _play_options(clear, default_priority="high")
    clear.set_defaults(run=cmd_clear)


def _following(sub) -> None:
    """The commands that look at the appliance and its jobs, or act on a job."""
    status = sub.add_parser("status", help="health, what plays, queues and render workers")
    status.set_defaults(run=cmd_status)

    jobs = sub.add_parser("jobs", help="recent jobs, newest first")
    jobs.add_argument("-n", "--limit", type=int, default=20)
    jobs.add_argument("--state", choices=STATES)
    jobs.set_defaults(run=cmd_jobs)

    cancel = sub.add_parser("cancel", help="cancel a waiting job or dismiss a playing one")
    cancel.add_argument("id", help="a job id, or a unique prefix of one")
    cancel.set_defaults(run=cmd_cancel)

    requeue = sub.add_parser("requeue", help="send a failed job round again")
    requeue.add_argument("id", help="a job id, or a unique prefix of one")
    _wait_options(requeue)
    requeue.set_defaults(run=cmd_requeue)

    wait = sub.add_parser("wait", help="follow a job until it plays, or with --until done until it ends")
    wait.add_argument("id")
    wait.add_argument("--until", choices=("playing", "done"), default="playing")
    wait.add_argument("--wait-timeout", type=float, default=120.0, metavar="S")
    wait.set_defaults(run=cmd_wait)


def _panel(sub) -> None:
    brightness = sub.add_parser("brightness", help="show or set the brightness, 0..100")
    # No choices here: the device says what it takes in one sentence (argparse would list all 101).
    brightness.add_argument("value", nargs="?", type=int, metavar="N")
    brightness.set_defaults(run=cmd_brightness)

    transition = sub.add_parser("transition", help="show or set the default transition into each app and job")
    # No choices here either: the device lists the names it has when one is wrong.
    transition.add_argument("name", nargs="?", metavar="NAME", help="cut, fade, dim, slide-left, wipe-up, ..., random")
    transition.add_argument("--ms", type=int, metavar="MS", help="how long it takes (default: as set)")
    transition.set_defaults(run=cmd_transition)

    power = sub.add_parser("power", help="show or switch the panel on or off (off: dark, jobs go on unseen)")
    power.add_argument("value", nargs="?", choices=("on", "off"))
    power.set_defaults(run=cmd_power)

    schedule = sub.add_parser("schedule", help="show or set night mode: brightness windows by time of day")
    actions = schedule.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("show", help="the windows, the brightness now and the next change")
    set_ = actions.add_parser("set", help="replace the windows (none: night mode off)")
    set_.add_argument("windows", nargs="*", type=night_window, metavar="START-END=BRIGHTNESS",
                      help="local times HH:MM[:SS], or sunrise or sunset with an offset (sunset-30m, sunrise+1h15m)"
                      " at the device's location, e.g. 22:30-07:00=0 or sunset-30m-sunrise=10")  # fmt: skip
    set_.add_argument("--days", help="the days the windows start on, e.g. mon,tue,fri (default: every day)")
    set_.add_argument("--fade", type=int, default=0, metavar="MIN", help="minutes to reach the window's brightness")
    schedule.set_defaults(run=cmd_schedule)

    app = sub.add_parser("app", help="the rotation: apps shown in turn while no job plays")
    actions = app.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="the apps in rotation order (> : on screen, * : pinned)")
    set_ = actions.add_parser("set", help="create an app or update it in place")
    set_.add_argument("name")
    content = set_.add_mutually_exclusive_group(required=True)
    content.add_argument("--text", help="show this text")
    content.add_argument("--fill", metavar="COLOR", help="fill the panel with a colour")
    content.add_argument("--file", help="show an image, or play a GIF / animated WebP")
    content.add_argument("--clock", choices=("24h", "12h"), help="show the time, drawn again each minute")
    content.add_argument(
        "--countdown", metavar="TIME", help="the time left until TIME (ISO 8601, e.g. 2027-01-01T00:00)"
    )
    set_.add_argument("-c", "--color", default="#ffffff", help="the text's or clock's colour (default white)")
    set_.add_argument("--timezone", help="the clock's, e.g. Europe/Berlin (default: the device's)")
    set_.add_argument("--font", help="for --text: a font's name (`pixie font list`)")
    set_.add_argument("--icon", help="for --text: an icon of the library, left of the text")
    set_.add_argument("--kind", choices=("image", "animation"), help="for --file; default: by its suffix")
    set_.add_argument("--dwell", type=float, metavar="S", help="seconds on screen (default: a still 5, else once)")
    set_.add_argument("--position", type=int, metavar="N", help="its place in the rotation, from 0 (default: last)")
    set_.add_argument("--window", action="append", type=time_window, metavar="START-END",
                      help="show it only from START to END, local time or sunrise/sunset with an offset, e.g. "
                      "sunrise+1h-sunset (repeat for more; default: always)")  # fmt: skip
    set_.add_argument("--days", help="the days its windows start on, e.g. mon,tue,fri (default: every day)")
    set_.add_argument("--lifetime", type=float, metavar="S", help="delete it when not set again within S seconds")
    set_.add_argument("--transition", metavar="NAME", help="its own way in (default: `pixie transition`'s)")
    set_.add_argument("--transition-ms", type=int, metavar="MS", help="its transition's time (default: the setting's)")
    set_.add_argument("--disabled", action="store_true", help="keep it out of the rotation for now")
    set_.add_argument("--now", action="store_true", help="if it is on screen, show the new version at once")
    rm = actions.add_parser("rm", help="delete an app")
    rm.add_argument("name")
    for action, help_ in (("pin", "hold an app on screen until unpinned"), ("unpin", "let the rotation go on")):
        actions.add_parser(action, help=help_).add_argument("name")
    actions.add_parser("next", help="show the next app now")
    actions.add_parser("previous", help="show the previous app now")
    app.set_defaults(run=cmd_app)

    for kind, formats in (("font", "BDF, PCF (.pcf.gz too), TTF or OTF"), ("icon", "PNG, GIF or WebP")):
        library = sub.add_parser(kind, help=f"the library's {kind}s, which text names with --{kind}")
        actions = library.add_subparsers(dest="action", required=True, metavar="ACTION")
        add = actions.add_parser("add", help=f"upload a {kind} ({formats}), or replace the one of that name")
        add.add_argument("name")
        add.add_argument("file")
        actions.add_parser("list", help=f"the {kind}s" + (", built-in ones first" if kind == "font" else ""))
        actions.add_parser("rm", help=f"delete a {kind}").add_argument("name")
        library.set_defaults(run=cmd_library, kind=kind)

    screenshot = sub.add_parser("screenshot", help="save what the panel shows now as a PNG")
    screenshot.add_argument("out", help="a file, or - for stdout")
    screenshot.add_argument("--scale", type=int, default=8, choices=range(1, 33), metavar="1..32")
    screenshot.set_defaults(run=cmd_screenshot)

    whoami = sub.add_parser("whoami", help="the token's name and scope (read, push, admin) as the device sees it")
    whoami.set_defaults(run=cmd_whoami)
    hashing = sub.add_parser("hash-token", help="a [web] tokens entry (name:scope:sha256) for the token on stdin")
    hashing.add_argument("name")
    hashing.add_argument("scope", choices=("read", "push", "admin"))
    hashing.set_defaults(run=cmd_hash_token)

    backup = sub.add_parser("backup", help="save everything set up on the device (apps, settings, fonts, icons)")
    backup.add_argument("file", help="a file, or - for stdout")
    backup.set_defaults(run=cmd_backup)
    restore = sub.add_parser("restore", help="replace what the device has with a backup's (checked whole first)")
    restore.add_argument("file", help="a backup file, or - for stdin")
    restore.set_defaults(run=cmd_restore)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        config = read_config()
        host = normalize_host(args.host or os.environ.get("PIXIE_HOST") or config.get("host") or DEFAULT_HOST)
        token = os.environ.get("PIXIE_TOKEN") or config.get("token") or ""
        ca = args.ca or os.environ.get("PIXIE_CA") or config.get("ca") or ""
        return args.run(Device(host, token, args.timeout, ca), args)
    except Failure as e:
        print(f"pixie: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
