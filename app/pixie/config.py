"""Settings: one TOML file, every key overridable by `PIXIE_<SECTION>_<KEY>`.

Secrets (the Redis password inside the URL, the API token) belong in the
environment, so that they never sit in a world-readable file or in argv.
"""

import dataclasses
import ipaddress
import os
import re
import socket
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_PATH = "/etc/pixie/pixie.toml"
BACKENDS = ("rgbmatrix", "emulator", "headless")
# Settings with a fixed set of values, and settings with bounds (inclusive). `validate` checks
# them; tests/test_config.py holds roles/pixie_app (argument_specs, validate.yml) to the same.
CHOICES = {
    "panel.rows": (8, 16, 32, 64),
    "panel.parallel": (1, 2, 3),
    "panel.gpio_slowdown": (0, 1, 2, 3, 4, 5),
    "panel.hardware_mapping": (
        "regular",
        "adafruit-hat",
        "adafruit-hat-pwm",
        "regular-pi1",
        "classic",
        "classic-pi1",
        "compute-module",
    ),
    "display.backend": BACKENDS,
    "display.idle": ("clock", "blank"),
    "inputs.yields_to": ("high", "none"),
}
RANGES = {
    "panel.cols": (16, 256),
    "panel.chain_length": (1, 16),
    "panel.pwm_bits": (1, 11),
    "panel.pwm_lsb_nanoseconds": (50, 3000),
    "panel.brightness": (0, 100),
    "web.port": (1, 65535),
    "display.emulator_port": (1, 65535),
    "mqtt.port": (1, 65535),
    "mqtt.keepalive_s": (5, 3600),
    "apps.live_min_interval_s": (0, 3600),
    "location.latitude": (-90, 90),
    "location.longitude": (-180, 180),
    "inputs.flaschen_taschen_port": (1, 65535),
    "inputs.ddp_port": (1, 65535),
    "inputs.fallback_s": (0.05, 60),
    "inputs.layer_timeout_s": (0.1, 3600),
    "inputs.ddp_start": (0, 16_777_215),
}
# The API's token scopes, least first: each lets in what the ones before it do.
SCOPES = ("read", "push", "admin")
# A named token as `[web] tokens` holds it: name:scope:sha256 of the token, in hex.
NAMED_TOKEN = re.compile(r"([A-Za-z0-9_.-]{1,64}):(read|push|admin):([0-9a-f]{64})")
# A topic level of pixie's own (no MQTT wildcards or separators).
TOPIC_LEVEL = re.compile(r"[A-Za-z0-9_-]{1,64}")
# An MQTT topic filter: levels of text or "+", "#" only last (roles/pixie_common checks the same).
TOPIC_FILTER = re.compile(r"#|(\+|[^/+#\s]*)(/(\+|[^/+#\s]*))*(/#)?")


class ConfigError(ValueError):
    """A setting is missing, mistyped or out of range; the message names it."""


@dataclass
class Redis:
    # Durable: accepted jobs, their records and uploads, the queues, settings (persisted, fsynced).
    url: str = "redis://127.0.0.1:6379/0"
    # Volatile: the display's heartbeat, live preview and commands, the render cache: written per
    # frame, re-created after a restart, so kept off the SD card. Empty: the durable Redis.
    volatile_url: str = ""


@dataclass
class Web:
    host: str = "127.0.0.1"
    port: int = 5000
    token: str = ""
    max_body_bytes: int = 8 * 1024 * 1024
    # Client networks allowed to call the API at all (CIDR, e.g. "192.168.1.0/24"); empty: every client.
    # In the environment: PIXIE_WEB_ALLOW="192.168.1.0/24,127.0.0.1".
    allow: list[str] = field(default_factory=list)
    # Named tokens with a scope (read < push < admin), as "name:scope:sha256hex" of the token (never the
    # token itself; `printf %s TOKEN | sha256sum`). Any set: reads need a token too. `token` above is
    # an admin token named "default". In the environment: PIXIE_WEB_TOKENS="phone:push:ab12...,ha:read:cd34...".
    tokens: list[str] = field(default_factory=list)
    # Calls that change something, per token and per client address: a token bucket of rate_burst calls
    # refilled at rate_per_min (in each web process's memory); past it a 429 with Retry-After. Clients in
    # rate_exempt (the device itself by default) are not limited: put a reverse proxy's own address there
    # only if it limits by itself.
    rate_per_min: int = 120
    rate_burst: int = 60
    rate_exempt: list[str] = field(default_factory=lambda: ["127.0.0.0/8", "::1/128"])
    # Jobs waiting to render per priority (every front door's): past it a submission is refused (429).
    max_queued_per_priority: int = 1000
    # HTTPS: the server certificate (chain) and its private key, PEM paths, both or neither. Set: the port
    # serves HTTPS only (uvicorn's own TLS, no proxy process). PIXIE_WEB_TLS_CERT, PIXIE_WEB_TLS_KEY.
    tls_cert: str = ""
    tls_key: str = ""


@dataclass
class Panel:
    rows: int = 32
    cols: int = 64
    chain_length: int = 1
    parallel: int = 1
    hardware_mapping: str = "adafruit-hat"
    gpio_slowdown: int = 2
    pwm_bits: int = 11
    pwm_lsb_nanoseconds: int = 130
    limit_refresh_rate_hz: int = 0
    brightness: int = 100

    @property
    def width(self) -> int:
        return self.cols * self.chain_length

    @property
    def height(self) -> int:
        return self.rows * self.parallel


@dataclass
class Display:
    backend: str = "rgbmatrix"
    idle: str = "clock"
    record_path: str = ""
    # How long a single still frame (image, fill, static text) stays up by default.
    default_duration_s: float = 5.0
    # Canvases pre-filled per stream; longer streams refill a ring of this size.
    canvas_pool: int = 64
    heartbeat_max_age_s: float = 10.0
    # The rotation's apps are kept in the durable Redis with their files: a bound on what it holds.
    max_apps: int = 32
    # The apps' rendered frames, all together (the display holds the enabled ones in memory, the
    # volatile Redis all of them): 48 MiB is 8,192 frames of 64x32. A render that would pass it
    # fails with a reason, and the app keeps its previous frames.
    apps_max_bytes: int = 48 * 1024 * 1024
    # The emulator back-end's page (RGBMatrixEmulator's browser adapter, what `make run` shows): where it
    # listens. Loopback unless asked: "0.0.0.0" shows it to the network ("" on every address, IPv6 too).
    emulator_host: str = "127.0.0.1"
    emulator_port: int = 8888


@dataclass
class Worker:
    worker_class: str = "pixie.worker.Worker"
    max_jobs: int = 500
    job_timeout_s: int = 60
    # Every write to the durable Redis is an fsync on the card. An idle worker wakes every
    # maintenance_interval_s: it sweeps for lost jobs (back on their queue after two sweeps, so
    # within a minute of a power cut right after the pop), runs rq's registry maintenance only
    # when a read shows it has work, and says it is alive in the volatile Redis (what /healthz
    # counts: a dead worker drops out after silent_max_s). rq's own record of the worker, in the
    # durable Redis, is renewed only when it would expire: once every ttl_s. The price: rq's
    # `rq info` lists a worker killed outright (SIGKILL, power cut) for up to ttl_s.
    ttl_s: int = 86400
    maintenance_interval_s: int = 30

    # rq declares a job abandoned this long + 60 s after its worker's last sign of life.
    job_monitoring_interval_s: int = 10

    @property
    def silent_max_s(self) -> int:
        """The longest a live worker goes without saying so: a whole job, or an idle wait, and slack."""
        return max(self.job_timeout_s, self.maintenance_interval_s) + 30


@dataclass
class Render:
    cache_max_bytes: int = 32 * 1024 * 1024
    # Most frames one job may render (a 64x32 frame is 6 KB): 25 s of 60 fps scrolling text.
    max_frames: int = 1500
    # Far beyond any panel; bounds what one upload costs to decode (RGBA: 16 MB).
    max_image_pixels: int = 4_000_000
    max_animation_s: float = 600.0


@dataclass
class Fonts:
    # The library's uploaded fonts (BDF, PCF, gzipped PCF, TTF, OTF), kept in the durable Redis: a bound
    # on what one file and all of them take there (unifont's PCF is 1.4 MiB).
    max_bytes: int = 2 * 1024 * 1024
    max_count: int = 32


@dataclass
class Icons:
    # The library's icons (PNG, GIF, WebP; at most the panel's height), kept in the durable Redis.
    max_bytes: int = 256 * 1024
    max_count: int = 500
    max_frames: int = 64  # an animated icon's
    # A URL template for icons named by a number (AWTRIX's LaMetric ids), `{id}` replaced by it; a text
    # naming one then need not have it in the library (it is fetched). LaMetric's is
    # "https://developer.lametric.com/content/apps/icon_thumbs/{id}". Empty: off.
    fetch_url: str = ""
    fetch_timeout_s: float = 5.0


@dataclass
class Mqtt:
    # The MQTT front door (pixie-mqtt): commands under <prefix>/<device>/ and
    # <prefix>/group/<group>/, state and job events back, Home Assistant discovery.
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 1883
    username: str = ""
    password: str = ""  # a secret: PIXIE_MQTT_PASSWORD in the environment
    device: str = "pixie"
    # The device's name in Home Assistant (its entities read "<name> Panel"): any text; by default
    # the host name as given, not the device's topic level.
    name: str = field(default_factory=socket.gethostname)
    groups: list[str] = field(default_factory=list)
    prefix: str = "pixie"
    discovery_prefix: str = "homeassistant"  # empty: no Home Assistant discovery
    tls: bool = False
    ca_file: str = ""  # with tls: the CA to trust; empty: the system's
    keepalive_s: int = 30
    # Largest command payload: JSON and small icons (bigger files go over HTTP), which keeps the
    # bridge's memory small (pixie_app_mqtt_memory_max).
    max_payload_bytes: int = 1024 * 1024
    # Topic filters the broker lets the device read, besides its own topics: an app's {{topic}}
    # placeholder outside them is not subscribed to, and its state says why. "#": the broker decides
    # (a subscription it refuses is reported as it answers). The device's own broker: its ACL's list.
    readable_topics: list[str] = field(default_factory=lambda: ["#"])


@dataclass
class Apps:
    # An app whose {{topic}} placeholders' values change is drawn again at most once in this many
    # seconds (the first change at once, the last of a burst at the interval's end); 0: each change.
    live_min_interval_s: float = 1.0


@dataclass
class Awtrix:
    # AWTRIX 3's HTTP API on its own paths (/api/notify, /api/custom, ...) and, with MQTT on,
    # its topics under mqtt_prefix: AWTRIX clients drive the panel unchanged.
    enabled: bool = True
    # HTTP Basic auth's user name for AWTRIX clients; the password is the API token (web.token).
    user: str = "pixie"
    # Empty: awtrix_<mqtt.device>, as AWTRIX names its own prefix after the device.
    mqtt_prefix: str = ""


@dataclass
class Location:
    # Where the device is, in degrees (north and east positive): night mode's and the apps' windows at
    # sunrise or sunset take the sun's times here. Unset: such windows are refused.
    latitude: float | None = None
    longitude: float | None = None

    @property
    def place(self) -> tuple[float, float] | None:
        return None if self.latitude is None else (self.latitude, self.longitude)


@dataclass
class Inputs:
    """Live frames over UDP straight to the panel (display/inputs/): off unless a protocol is enabled."""

    # FlaschenTaschen (hzeller's): a PPM image per datagram, placed and layered by its `#FT: x y z`.
    flaschen_taschen: bool = False
    flaschen_taschen_port: int = 1337
    # DDP (WLED, LedFx, xLights send it): RGB bytes at an offset; a datagram with the push flag shows the frame.
    ddp: bool = False
    ddp_port: int = 4048
    # The address they listen on: loopback unless asked ("0.0.0.0": every IPv4 address, "::" IPv6 too).
    bind: str = "127.0.0.1"
    # Source networks whose datagrams are taken (CIDR); any other is dropped and counted.
    # In the environment: PIXIE_INPUTS_ALLOW="192.168.1.0/24,127.0.0.1".
    allow: list[str] = field(default_factory=lambda: ["127.0.0.0/8", "::1/128"])
    # This long after the last datagram the panel goes back to what it did (the rotation where it stopped).
    fallback_s: float = 1.0
    # A FlaschenTaschen layer above 0 that is not sent again for this long is cleared (layer 0 stays).
    layer_timeout_s: float = 15.0
    # "high": queued high-priority jobs cut into a stream (which goes on after them); "none": nothing does.
    yields_to: str = "high"
    # DDP's pixels run row by row from the panel's top left; serpentine: every other row right to left.
    ddp_serpentine: bool = False
    # The DDP pixel shown at the panel's top left (a panel showing part of a larger DDP display).
    ddp_start: int = 0


@dataclass
class Config:
    redis: Redis = field(default_factory=Redis)
    web: Web = field(default_factory=Web)
    panel: Panel = field(default_factory=Panel)
    display: Display = field(default_factory=Display)
    worker: Worker = field(default_factory=Worker)
    render: Render = field(default_factory=Render)
    mqtt: Mqtt = field(default_factory=Mqtt)
    apps: Apps = field(default_factory=Apps)
    awtrix: Awtrix = field(default_factory=Awtrix)
    fonts: Fonts = field(default_factory=Fonts)
    icons: Icons = field(default_factory=Icons)
    location: Location = field(default_factory=Location)
    inputs: Inputs = field(default_factory=Inputs)


def _coerce(name: str, value, kind):
    if kind is list:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return value
        raise ConfigError(f"{name}: expected a list of strings, got {value!r}")
    if kind is bool:
        if isinstance(value, str):
            return value.lower() in ("1", "true", "yes", "on")
        return bool(value)
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: expected {kind.__name__}, got {value!r}") from None


def _kind(f: dataclasses.Field, default) -> type:
    """A setting's type: its default's, or for one unset by default (None) the type besides None."""
    if default is not None:
        return type(default)
    return next(t for t in typing.get_args(f.type) if t is not type(None))


def load(path: str | os.PathLike | None = None, environ=None) -> Config:
    """Read the file (if it exists), apply environment overrides, validate."""
    environ = os.environ if environ is None else environ
    path = Path(path or environ.get("PIXIE_CONFIG", DEFAULT_PATH))
    data = tomllib.loads(path.read_text()) if path.is_file() else {}
    config = Config()
    unknown = set(data) - {f.name for f in dataclasses.fields(Config)}
    if unknown:
        raise ConfigError(f"{path}: unknown section(s) {sorted(unknown)}")
    for section_field in dataclasses.fields(Config):
        section = getattr(config, section_field.name)
        given = data.get(section_field.name, {})
        names = {f.name for f in dataclasses.fields(section)}
        if set(given) - names:
            raise ConfigError(f"[{section_field.name}]: unknown key(s) {sorted(set(given) - names)}")
        for f in dataclasses.fields(section):
            env_name = f"PIXIE_{section_field.name}_{f.name}".upper()
            name = f"{section_field.name}.{f.name}"
            kind = _kind(f, getattr(section, f.name))
            if env_name in environ:
                setattr(section, f.name, _coerce(env_name, environ[env_name], kind))
            elif f.name in given:
                setattr(section, f.name, _coerce(name, given[f.name], kind))
    validate(config)
    return config


def validate(config: Config) -> None:
    for name, allowed in CHOICES.items():
        if (value := _setting(config, name)) not in allowed:
            raise ConfigError(f"{name} must be one of {allowed}, got {value!r}")
    for name, (low, high) in RANGES.items():
        if (value := _setting(config, name)) is not None and not low <= value <= high:
            raise ConfigError(f"{name} must be {low}..{high}, got {value!r}")
    checks = [
        (config.panel.cols % 8 == 0, f"panel.cols must be a multiple of 8, got {config.panel.cols}"),
        (config.display.canvas_pool >= 3, "display.canvas_pool must be at least 3"),
        (config.web.max_body_bytes > 0, "web.max_body_bytes must be positive"),
        (config.worker.job_timeout_s > 0, "worker.job_timeout_s must be positive"),
        (config.render.max_frames > 0, "render.max_frames must be positive"),
        (config.render.cache_max_bytes > 0, "render.cache_max_bytes must be positive"),
        (config.display.apps_max_bytes > 0, "display.apps_max_bytes must be positive"),
        (config.mqtt.max_payload_bytes > 0, "mqtt.max_payload_bytes must be positive"),
        (config.mqtt.name.strip() != "", "mqtt.name must not be empty"),
        (config.fonts.max_bytes > 0 and config.icons.max_bytes > 0, "fonts.max_bytes, icons.max_bytes: positive"),
        (config.icons.max_frames > 0, "icons.max_frames must be positive"),
        (
            (config.location.latitude is None) == (config.location.longitude is None),
            "location.latitude and location.longitude: set both or neither",
        ),
    ]
    checks += [
        (config.web.rate_per_min > 0 and config.web.rate_burst > 0, "web.rate_per_min, web.rate_burst: positive"),
        (config.web.max_queued_per_priority > 0, "web.max_queued_per_priority must be positive"),
        (bool(config.web.tls_cert) == bool(config.web.tls_key), "web.tls_cert and web.tls_key: set both or neither"),
    ]
    for ok, message in checks:
        if not ok:
            raise ConfigError(message)
    mqtt = config.mqtt
    levels = {"mqtt.device": [mqtt.device], "mqtt.prefix": [mqtt.prefix], "mqtt.groups": mqtt.groups}
    levels["awtrix.mqtt_prefix"] = [config.awtrix.mqtt_prefix] if config.awtrix.mqtt_prefix else []
    for name, values in levels.items():
        for value in values:
            if not TOPIC_LEVEL.fullmatch(value):
                raise ConfigError(f"{name}: {value!r} is not a topic level of letters, digits, _ or - (1-64)")
    for topic_filter in mqtt.readable_topics:
        if not (0 < len(topic_filter) <= 256 and TOPIC_FILTER.fullmatch(topic_filter)):
            raise ConfigError(f"mqtt.readable_topics: {topic_filter!r} is not an MQTT topic filter (e.g. home/#)")
    names = []
    for named in config.web.tokens:
        if not (found := NAMED_TOKEN.fullmatch(named)):
            # Only the name: a token pasted here by mistake stays out of the log.
            shown = repr(named.split(":")[0]) if ":" in named else "an entry"
            raise ConfigError(f"web.tokens: {shown} is not name:scope:sha256hex (scope one of {SCOPES})")
        names.append(found[1])
    if config.web.token:
        names.append("default")
    if len(set(names)) < len(names):
        raise ConfigError(f"web.tokens: names must be unique (the web.token is named default): {names}")
    allows = ("web.allow", config.web.allow), ("web.rate_exempt", config.web.rate_exempt)
    for name, allow in (*allows, ("inputs.allow", config.inputs.allow)):
        for network in allow:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ConfigError(f"{name}: {network!r} is not an address or network (CIDR)") from None
    try:
        ipaddress.ip_address(config.inputs.bind)
    except ValueError:
        raise ConfigError(f"inputs.bind: {config.inputs.bind!r} is not an IP address") from None


def tls_files(web: Web) -> tuple[str, str] | None:
    """(certificate, key) when HTTPS is on, each checked readable: the web process's own check at its start,
    so that a missing certificate stops the API with its name rather than every process with the config."""
    if not web.tls_cert:
        return None
    for name, path in (("web.tls_cert", web.tls_cert), ("web.tls_key", web.tls_key)):
        try:
            Path(path).open("rb").close()
        except OSError as e:
            raise ConfigError(f"{name}: {path!r} is not readable ({e.strerror})") from None
    return web.tls_cert, web.tls_key


def _setting(config: Config, name: str):
    section, key = name.split(".")
    return getattr(getattr(config, section), key)


def networks(allow: list[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The allow-list as networks (validated by `validate`)."""
    return [ipaddress.ip_network(network, strict=False) for network in allow]
