"""How this controller reaches package registries, translated for a QEMU guest.

    python -m pivm.hostenv guest-settings     JSON for prepare.yml (see below)
    python -m pivm.hostenv extra-cas --guest-bundle FILE
                                              JSON list of PEM certificates the
                                              controller trusts and the guest not
    python -m pivm.hostenv apt-mirror SUFFIX  the controller's apt source whose
                                              URI ends in SUFFIX (/debian,
                                              /debian-security), or nothing

The image builders (build-image.sh, tests/image/make-synthetic-image.sh)
take their Debian mirror from apt-mirror unless PIXIE_DEBIAN_MIRROR says
otherwise: no mirror host is written in the repo.

The guest sits behind QEMU user networking: its traffic leaves through this
host's sockets, so whatever intercepts the controller's TLS intercepts the
guest's too, and a proxy on the controller's loopback is 10.0.2.2 for the
guest.  Looked at (controller side):

  * CA bundle: SSL_CERT_FILE, PIP_CERT, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE,
    pip config `cert`;
  * pip: PIP_INDEX_URL / PIP_EXTRA_INDEX_URL / PIP_TRUSTED_HOST / PIP_PROXY /
    PIP_DEFAULT_TIMEOUT / PIP_RETRIES and the same keys in the pip config files
    (/etc/pip.conf, /etc/xdg/pip/pip.conf, ~/.config/pip/pip.conf,
    ~/.pip/pip.conf, PIP_CONFIG_FILE); file:// indexes and local find-links
    are dropped (they are this machine's disk, not a registry);
  * proxies: http_proxy / https_proxy / no_proxy (any case) and apt's
    Acquire::http(s)::Proxy (apt-config dump).
"""

from __future__ import annotations

import configparser
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

GUEST_HOST_ALIAS = "10.0.2.2"  # the host, seen from QEMU user networking
LOOPBACK = {"127.0.0.1", "localhost", "::1", "0.0.0.0", "[::1]"}  # noqa: S104 (names, not a bind)
GUEST_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"

PIP_KEYS = ("index-url", "extra-index-url", "trusted-host", "proxy", "timeout", "default-timeout", "retries", "cert")


def to_guest_url(url: str) -> str | None:
    """Loopback -> 10.0.2.2; None for URLs the guest cannot use (file://, paths)."""
    url = url.strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme in ("", "file"):
        return None
    host = parts.hostname or ""
    if host in LOOPBACK or host.startswith("127."):
        netloc = parts.netloc
        userinfo = ""
        if "@" in netloc:
            userinfo, netloc = netloc.rsplit("@", 1)
            userinfo += "@"
        port = f":{parts.port}" if parts.port else ""
        return urlunsplit(
            (parts.scheme, f"{userinfo}{GUEST_HOST_ALIAS}{port}", parts.path, parts.query, parts.fragment)
        )
    return url


def to_guest_host(host: str) -> str:
    name = host.split(":")[0]
    return host.replace(name, GUEST_HOST_ALIAS, 1) if name in LOOPBACK or name.startswith("127.") else host


def pip_settings() -> dict[str, str]:
    """Merged pip settings: files (global < user < PIP_CONFIG_FILE), then env."""
    files = [
        Path("/etc/xdg/pip/pip.conf"),
        Path("/etc/pip.conf"),
        Path.home() / ".pip/pip.conf",
        Path.home() / ".config/pip/pip.conf",
    ]
    if os.environ.get("PIP_CONFIG_FILE"):
        files.append(Path(os.environ["PIP_CONFIG_FILE"]))
    merged: dict[str, str] = {}
    for f in files:
        cp = configparser.RawConfigParser()
        try:
            cp.read(f)
        except (configparser.Error, OSError):
            continue
        for section in ("global", "install"):
            if cp.has_section(section):
                for key, value in cp.items(section):
                    if key in PIP_KEYS:
                        merged[key] = value
    for key in PIP_KEYS:
        env = os.environ.get("PIP_" + key.upper().replace("-", "_"))
        if env:
            merged[key] = env
    if "default-timeout" in merged and "timeout" not in merged:
        merged["timeout"] = merged.pop("default-timeout")
    merged.pop("default-timeout", None)
    return merged


def controller_ca_bundle() -> str | None:
    for var in ("SSL_CERT_FILE", "PIP_CERT", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        p = os.environ.get(var)
        if p and Path(p).is_file():
            return p
    cert = pip_settings().get("cert")
    if cert and Path(cert).is_file():
        return cert
    return None


def apt_proxies() -> dict[str, str]:
    out = {}
    try:
        dump = subprocess.run(["apt-config", "dump"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return out
    for scheme in ("http", "https"):
        m = re.search(rf'^Acquire::{scheme}::Proxy "([^"]+)";', dump, re.M)
        if m and m.group(1) not in ("DIRECT", "false"):
            guest = to_guest_url(m.group(1))
            if guest:
                out[scheme] = guest
    return out


def proxy_env() -> dict[str, str]:
    env = {}
    for name in ("http_proxy", "https_proxy", "ftp_proxy", "no_proxy"):
        value = os.environ.get(name) or os.environ.get(name.upper())
        if not value:
            continue
        if name == "no_proxy":
            env[name] = value
            env[name.upper()] = value
            continue
        guest = to_guest_url(value)
        if guest:
            env[name] = guest
            env[name.upper()] = guest
    return env


def pip_default_index() -> str | None:
    """pip's built-in index URL (no host name written down here)."""
    try:
        from pip._internal.models.index import PyPI  # noqa: PLC0415

        return PyPI.simple_url
    except Exception:  # noqa: BLE001 - any pip layout change: just no check
        return None


def guest_settings() -> dict:
    pip = pip_settings()
    guest_pip: dict[str, str] = {}
    if pip.get("index-url"):
        u = to_guest_url(pip["index-url"])
        if u:
            guest_pip["index-url"] = u
    extra = [to_guest_url(u) for u in re.split(r"\s+", pip.get("extra-index-url", "")) if u]
    extra = [u for u in extra if u]
    if extra:
        guest_pip["extra-index-url"] = " ".join(extra)
    if pip.get("trusted-host"):
        guest_pip["trusted-host"] = " ".join(to_guest_host(h) for h in pip["trusted-host"].split())
    if pip.get("proxy"):
        u = to_guest_url(pip["proxy"])
        if u:
            guest_pip["proxy"] = u
    for key in ("timeout", "retries"):
        if pip.get(key):
            guest_pip[key] = pip[key]
    bundle = controller_ca_bundle()
    if bundle:
        guest_pip["cert"] = GUEST_BUNDLE
    environment = dict(proxy_env())
    if bundle:
        for var in ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE"):
            environment[var] = GUEST_BUNDLE
    index = guest_pip.get("index-url") or pip_default_index()
    return {
        "controller_ca_bundle": bundle,
        # an https URL the guest must reach with its CA store: pip's page in the index
        "tls_check_url": index.rstrip("/") + "/pip/" if index and index.startswith("https://") else None,
        "pip_conf": guest_pip,
        "environment": environment,
        "apt_proxy": apt_proxies(),
    }


PEM_RE = re.compile(rb"-----BEGIN CERTIFICATE-----\s+.+?\s+-----END CERTIFICATE-----", re.S)


def pems(data: bytes) -> list[bytes]:
    return [b"".join(m.group(0).split()) for m in PEM_RE.finditer(data)]


def extra_cas(guest_bundle: str) -> list[str]:
    bundle = controller_ca_bundle()
    if not bundle:
        return []
    have = set(pems(Path(guest_bundle).read_bytes())) if guest_bundle and Path(guest_bundle).exists() else set()
    out = []
    seen = set()
    for m in PEM_RE.finditer(Path(bundle).read_bytes()):
        key = b"".join(m.group(0).split())
        if key in have or key in seen:
            continue
        seen.add(key)
        out.append(m.group(0).decode("ascii", "replace") + "\n")
    return out


def apt_mirror(suffix: str, etc: Path = Path("/etc/apt")) -> str:
    """The first apt source URI (deb822 `URIs:` first, then one-line `deb`) ending in suffix."""
    uris = []
    for sources in sorted(etc.glob("sources.list.d/*.sources")):
        uris += [u for line in sources.read_text().splitlines() if line.startswith("URIs:") for u in line.split()[1:]]
    for listing in [etc / "sources.list", *sorted(etc.glob("sources.list.d/*.list"))]:
        text = listing.read_text() if listing.is_file() else ""
        uris += re.findall(r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)", text, re.M)
    return next((u.rstrip("/") for u in uris if u.rstrip("/").endswith(suffix)), "")


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    if argv[0] == "guest-settings":
        print(json.dumps(guest_settings(), indent=1))
        return 0
    if argv[0] == "extra-cas":
        guest = argv[argv.index("--guest-bundle") + 1] if "--guest-bundle" in argv else ""
        print(json.dumps(extra_cas(guest)))
        return 0
    if argv[0] == "apt-mirror" and len(argv) == 2:
        print(apt_mirror(argv[1]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
